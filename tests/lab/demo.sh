#!/bin/sh
# demo.sh: the lab demo of the README's quick start.  In a private network
# namespace (nothing outside it is touched): a signed zone on a BIND
# primary and secondary with a validating Unbound, a Postfix MX serving
# RSA and ECDSA certificates with STARTTLS, and tlsagen making,
# publishing, checking and verifying the TLSA records, then staging the
# next key the way a safe rollover does.  Cleans up after itself.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test"
lab_netns "$@"
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
T=$TLSAGEN
[ -x "$T" ] || bail "build first: make"
chmod 711 "$WORK"	# Postfix's own users must reach their directories

step() { printf '\n==> %s\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$WORK|\$DEMO|g; s|$TOP/||g"; "$@"; }
die() { echo "demo: $*" >&2; exit 1; }

step "A throwaway CA and two certificates for mx1.example.test (RSA and ECDSA)"
mkdir -p "$WORK/pki" "$WORK/mx"
certs_ca "$WORK/pki" || die "CA"
certs_leaf "$WORK/pki" rsa rsa mx1.example.test || die "RSA leaf"
certs_leaf "$WORK/pki" ec ec mx1.example.test || die "ECDSA leaf"
certs_leaf "$WORK/pki" next ec mx1.example.test || die "next leaf"
ls "$WORK/pki" | sed 's/^/    /'

step "The lab: signed zone example.test on BIND (primary 127.0.0.40, secondary 127.0.0.41), Unbound validating on 127.0.0.53"
dns_lab_start "$WORK/dns" || die "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
echo "    zone $DNS_ZONE signed with a CSK; TSIG key $DNS_TSIG_KEY (mode $(stat -c %a "$DNS_TSIG_KEY"))"

step "Postfix MX on 127.0.0.20:25, STARTTLS with both chains"
sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" \
	"127.0.0.20=$WORK/pki/rsa.key,$WORK/pki/rsa.chain.pem,$WORK/pki/ec.key,$WORK/pki/ec.chain.pem" ||
	die "Postfix"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"

step "TLSA records for the deployed chains (3 1 1 leaf key, 2 1 1 issuer key)"
run "$T" -t 5 "$WORK/pki/rsa.chain.pem" "$WORK/pki/ec.chain.pem" || die "tlsagen"
echo "    cross-check with hash-slinger:"
tlsa --create --certificate "$WORK/pki/ec.pem" --usage 3 --selector 1 --mtype 1 --port 25 mx1.example.test 2>/dev/null |
	sed -n 's/^/    /; /TLSA/p'

step "Publish them by RFC 2136 with TSIG, guarded by the RRset as it is now"
run "$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -t 5 \
	"$WORK/pki/rsa.chain.pem" "$WORK/pki/ec.chain.pem" || die "update"
dns_lab_sync_wait "$WORK/dns" 20 || die "secondary did not catch up"

step "Served by every name server and the hidden primary, and DNSSEC-secure?"
run "$T" --dns-status --resolver "$DNS_RESOLVER" --primary "$DNS_PRIMARY" \
	--trust-anchor "$DNS_TRUST_ANCHOR" "$WORK/pki/rsa.chain.pem" "$WORK/pki/ec.chain.pem" ||
	die "not visible everywhere"

step "What the live MX serves (one handshake per key type), checked against DNS"
dig @"$DNS_RESOLVER" +short _25._tcp.mx1.example.test TLSA > "$WORK/published.txt"
run "$T" --verify "$WORK/published.txt" -c mx1.example.test || die "the live MX does not match"

step "Rollover, first step: publish the next key's 3 1 1 before it is deployed"
run "$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -t 5 -H mx1.example.test -r 3,1,1 \
	"$WORK/pki/next.key" || die "staging"
dns_lab_sync_wait "$WORK/dns" 20 || die "secondary did not catch up"
echo "    resolvers may cache the old RRset for its TTL (5 s): hold 2 x TTL before relying on it"
sleep 10
run "$T" --dns-status --resolver "$DNS_RESOLVER" -H mx1.example.test || die "not consistent"
echo "    every server and the resolver serve the next key: the next certificate can be deployed:"
run "$T" --verify "$WORK/published.txt" --verify "3 1 1 $("$T" -r 3,1,1 -f json -H mx1.example.test "$WORK/pki/next.key" |
	sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p')" -H mx1.example.test "$WORK/pki/next.chain.pem" ||
	die "the next chain would not match"

step "Done: the lab is stopped and removed"
