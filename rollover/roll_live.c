/*
 * roll_live.c: probing the MX addresses of a service.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "roll_live.h"
#include "roll_store.h"
#include "tlsa_dane.h"
#include "tlsa_net.h"

int
roll_live_check(const struct roll_service *s, const struct zone_rrset *recs,
    struct zone_rrset *served, struct sbuf *report, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	struct tlsa_served *v = NULL;
	struct tlsa_fetch f;
	struct tlsa_match m;
	char host[256], addr[NI_MAXHOST], port[16], helo[256], lerr[ERRBUF_LEN];
	size_t h;
	int n, i, r, bad = 0, addrs = 0;

	if (gethostname(helo, sizeof(helo)) == -1 || helo[0] == '\0')
		snprintf(helo, sizeof(helo), "localhost");
	helo[sizeof(helo) - 1] = '\0';
	snprintf(port, sizeof(port), "%u", s->port);
	for (h = 0; h < s->nhosts; h++) {
		snprintf(host, sizeof(host), "%s", s->hosts[h]);
		if (host[0] != '\0' && host[strlen(host) - 1] == '.')
			host[strlen(host) - 1] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
			sbuf_printf(report, "  %s: no address: %s\n", host,
			    gai_strerror(r));
			bad++;
			continue;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
			    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
				continue;
			addrs++;
			memset(&f, 0, sizeof(f));
			f.host = addr;
			f.port = port;
			f.sni = host;
			f.helo = helo;
			f.starttls = s->port == 25 || s->port == 587 ?
			    TLSA_STARTTLS_SMTP : TLSA_STARTTLS_NONE;
			f.timeout_ms = 10000;
			if ((n = tlsa_fetch_all(&f, &v, lerr, sizeof(lerr))) ==
			    -1) {
				sbuf_printf(report, "  %s %s: FAILED: %s\n",
				    host, addr, lerr);
				bad++;
				continue;
			}
			for (i = 0; i < n; i++) {
				r = tlsa_dane_verify(v[i].chain, NULL, host,
				    recs->v, recs->n, &m, lerr, sizeof(lerr));
				if (r == 1)
					sbuf_printf(report, "  %s %s (%s): "
					    "DANE OK, record %u %u %u at depth "
					    "%d\n", host, addr, v[i].kind,
					    m.index >= 0 ?
					    recs->v[m.index].spec.usage : 0,
					    m.index >= 0 ?
					    recs->v[m.index].spec.selector : 0,
					    m.index >= 0 ?
					    recs->v[m.index].spec.mtype : 0,
					    m.depth);
				else {
					sbuf_printf(report, "  %s %s (%s): "
					    "DANE FAILED: %s\n", host, addr,
					    v[i].kind, r == 0 ? m.reason :
					    lerr);
					bad++;
				}
				if (served != NULL &&
				    roll_records_chain(s, v[i].chain, served,
				    lerr, sizeof(lerr)) == -1) {
					sbuf_printf(report, "  %s %s: %s\n",
					    host, addr, lerr);
					bad++;
				}
			}
			tlsa_served_free(v, n);
			v = NULL;
		}
		freeaddrinfo(res);
	}
	if (addrs == 0) {
		errfmt(err, errlen, "service %s: no MX address could be found",
		    s->name);
		return -1;
	}
	return bad;
}
