/*
 * tlsa_parse.h: read TLSA records given as text (for --verify): zone
 * presentation lines, RFC 3597 generic lines, or bare "3 1 1 HEX" data,
 * one per line, with ; comments and $ directives skipped.
 */
#ifndef TLSA_PARSE_H
#define TLSA_PARSE_H

#include "tlsa_rec.h"

struct tlsa_reclist {
	struct tlsa_rec	*v;
	char		**owner;	/* absolute lower-case owner or NULL */
	size_t		 n, cap;
};

/*
 * Parse one line into the list.  Blank and comment lines add nothing.
 * Returns 0 or -1 with a reason (without file or line).
 */
int tlsa_parse_line(struct tlsa_reclist *l, const char *line, char *err,
    size_t errlen);

/*
 * Parse text: every line of a file (when arg names one) or arg itself as
 * one record.  Errors name the file and line.  Returns 0 or -1.
 */
int tlsa_parse_arg(struct tlsa_reclist *l, const char *arg, char *err,
    size_t errlen);

void tlsa_reclist_free(struct tlsa_reclist *l);

/*
 * A host name as it goes into DNS queries, owner names and SNI: U-labels
 * (UTF-8) become A-labels ("xn--...", IDNA2008 with the UTS #46 mapping,
 * as libidn2 does it); an all-ASCII name is copied unchanged.  Returns a
 * string the caller frees, or NULL with err ("\"NAME\": not a valid
 * internationalised host name: why", the name made printable).
 */
char *tlsa_host_ascii(const char *name, char *err, size_t errlen);

#endif
