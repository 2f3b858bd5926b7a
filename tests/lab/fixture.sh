# tests/lab/fixture.sh: the lab set-up the tlsa-rollover tests share (sourced
# by sh after tests/lib.sh and lab_netns, which stays the first thing a test
# does):
#
#   . "$(dirname "$0")/../lib.sh"
#   LAB_HOSTS="127.0.0.20 mx1.example.test
#   127.0.0.21 mx2.example.test"
#   lab_netns "$@"
#   need_cmd named unbound postfix dig openssl
#   . "$TOP/tests/lab/fixture.sh"
#   fixture_dns                          signed BIND primary + secondary, Unbound
#   fixture_pki A B                      a CA and leaves A, B for $HOSTS
#   fixture_postfix 127.0.0.20 127.0.0.21   MX hosts serving $D
#   fixture_config                       $WORK/roll.yaml for service mx
#
# Sourcing it sources dns.sh, certs.sh and roll.sh and sets (a test may
# set HOSTS before, or any of them after):
#   R=$TLSA_ROLLOVER  T=$TLSAGEN  D=$WORK/deploy/current
#   C="-f $WORK/roll.yaml"
#   HOSTS   the service's MX host names (default mx1.example.test
#           mx2.example.test): certificate names, config hosts:, wrappers
# and the wrappers (a test may define its own after sourcing):
#   phase                 roll_phase mx
#   spki CERT             roll_spki CERT
#   observe               roll_observe $HOSTS
#   run_until PHASE MAX   roll_until PHASE MAX $HOSTS
#
# fixture_dns [ZONE]
#   dns_lab_start "$WORK/dns" with DNS_LAB_TTL 2 (or as set), stopped at
#   exit; bails out when it fails.
# fixture_pki [NAME[:ALG]...]
#   $WORK/pki with a CA (certs_ca) and, per NAME, a leaf for $HOSTS
#   (certs_leaf, ALG default ec): pki/NAME.key, .pem, .chain.pem.
# fixture_postfix [-d DIR] ADDR[=KEY,CHAIN...][+PARAM=VALUE...]...
#   Makes $WORK 0711, $WORK/deploy (0755) and starts a lab Postfix in DIR
#   (default $WORK/mx; stopped at exit) with postfix.sh start; a bare ADDR
#   serves $D/privkey.pem,$D/fullchain.pem.
# fixture_config [KEY=VALUE | ta]...
#   Writes the usual configuration (state_dir, dns: with the lab primary,
#   resolver, TSIG key, ttl 2, min_hold 1s, hold_margin 1s; one service mx
#   with hosts, deploy_dir and the Postfix reload) to $WORK/roll.yaml.
#     file=PATH        another file (C is not changed)
#     state=DIR        state_dir (default $WORK/state)
#     primary=ADDR     dns.primary (default 127.0.0.40; empty: none)
#     tsig=FILE        tsig_key_file (default $DNS_TSIG_KEY; empty: none)
#     resolver=ADDR    dns.resolver (default 127.0.0.53)
#     ta               add trust_anchor_file: $DNS_TRUST_ANCHOR
#     ta=FILE          add trust_anchor_file: FILE
#     deploy=DIR       the service's deploy_dir (default $WORK/deploy;
#                      empty: none, for a service with nodes:)
#     min_hold=DUR     (default 1s)
#     dns=LINE         one more key under dns: (repeatable)
#     hosts=NAME,...   the service's hosts (default $HOSTS)
#     reload=YAML      the service's reload (default postfix.sh reload $WORK/mx;
#                      empty: none)
#     pre=LINE         one more service key before deploy_dir (repeatable)
#     service=LINE     one more service key after reload (repeatable; the
#                      lines after the first of a LINE keep their own indent)
#     tail=TEXT        text after the service (more services)

. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
. "$TOP/tests/lab/roll.sh"
R=$TLSA_ROLLOVER
T=$TLSAGEN
D=$WORK/deploy/current
C="-f $WORK/roll.yaml"
: "${HOSTS:=mx1.example.test mx2.example.test}"

phase() { roll_phase mx; }
spki() { roll_spki "$1"; }
observe() { roll_observe $HOSTS; }
run_until() { roll_until "$1" "$2" $HOSTS; }

fixture_dns() {
	DNS_LAB_TTL=${DNS_LAB_TTL:-2} dns_lab_start "$WORK/dns" "$@" || bail "DNS lab"
	at_exit "dns_lab_stop '$WORK/dns'"
}

fixture_pki() {
	mkdir -p "$WORK/pki" || bail "mkdir pki"
	certs_ca "$WORK/pki" || bail "CA"
	for _fx_n in "$@"; do
		case $_fx_n in
		*:*) _fx_a=${_fx_n#*:} _fx_n=${_fx_n%%:*} ;;
		*) _fx_a=ec ;;
		esac
		certs_leaf "$WORK/pki" "$_fx_n" "$_fx_a" $HOSTS || bail "cert $_fx_n"
	done
}

fixture_postfix() {
	_fx_dir=$WORK/mx
	if [ "${1:-}" = -d ]; then _fx_dir=$2; shift 2; fi
	chmod 711 "$WORK"
	mkdir -p "$_fx_dir" "$WORK/deploy" || bail "mkdir"
	chmod 755 "$WORK/deploy"
	_fx_args=""
	for _fx_s in "$@"; do
		case $_fx_s in
		*=*) ;;
		*+*) _fx_s="${_fx_s%%+*}=$D/privkey.pem,$D/fullchain.pem+${_fx_s#*+}" ;;
		*) _fx_s="$_fx_s=$D/privkey.pem,$D/fullchain.pem" ;;
		esac
		_fx_args="$_fx_args '$_fx_s'"
	done
	eval "sh '$TOP/tests/lab/postfix.sh' start '$_fx_dir' $_fx_args" || bail "Postfix"
	at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$_fx_dir'"
}

fixture_config() {
	_fx_file=$WORK/roll.yaml _fx_state=$WORK/state _fx_tsig=$DNS_TSIG_KEY _fx_ta=""
	_fx_primary=127.0.0.40 _fx_resolver=127.0.0.53 _fx_deploy=$WORK/deploy
	_fx_hold=1s _fx_dns="" _fx_pre="" _fx_svc="" _fx_tail=""
	_fx_hosts=$(echo $HOSTS | sed 's/ /, /g')
	_fx_reload="[/bin/sh, $TOP/tests/lab/postfix.sh, reload, $WORK/mx]"
	_fx_nl='
'
	for _fx_o in "$@"; do
		case $_fx_o in
		file=*) _fx_file=${_fx_o#*=} ;;
		state=*) _fx_state=${_fx_o#*=} ;;
		primary=*) _fx_primary=${_fx_o#*=} ;;
		tsig=*) _fx_tsig=${_fx_o#*=} ;;
		resolver=*) _fx_resolver=${_fx_o#*=} ;;
		ta) _fx_ta="$_fx_nl  trust_anchor_file: $DNS_TRUST_ANCHOR" ;;
		ta=*) _fx_ta="$_fx_nl  trust_anchor_file: ${_fx_o#*=}" ;;
		deploy=*) _fx_deploy=${_fx_o#*=} ;;
		min_hold=*) _fx_hold=${_fx_o#*=} ;;
		dns=*) _fx_dns="$_fx_dns$_fx_nl  ${_fx_o#*=}" ;;
		hosts=*) _fx_hosts=$(echo "${_fx_o#*=}" | sed 's/ *, */, /g') ;;
		reload=*) _fx_reload=${_fx_o#*=} ;;
		pre=*) _fx_pre="$_fx_pre$_fx_nl    ${_fx_o#*=}" ;;
		service=*) _fx_svc="$_fx_svc$_fx_nl    ${_fx_o#*=}" ;;
		tail=*) _fx_tail="$_fx_nl${_fx_o#*=}" ;;
		*) bail "fixture_config: unknown option $_fx_o" ;;
		esac
	done
	# Optional lines, each with the newline before it.
	_fx_p=${_fx_primary:+$_fx_nl  primary: $_fx_primary}
	_fx_k=${_fx_tsig:+$_fx_nl  tsig_key_file: $_fx_tsig}
	_fx_d=${_fx_deploy:+$_fx_nl    deploy_dir: $_fx_deploy}
	_fx_r=${_fx_reload:+$_fx_nl    reload: $_fx_reload}
	cat > "$_fx_file" <<YAML || bail "cannot write $_fx_file"
state_dir: $_fx_state
dns:
  zone: example.test$_fx_p$_fx_k
  resolver: $_fx_resolver$_fx_ta
  ttl: 2
  min_hold: $_fx_hold
  hold_margin: 1s$_fx_dns
services:
  - name: mx
    hosts: [$_fx_hosts]$_fx_pre$_fx_d$_fx_r$_fx_svc$_fx_tail
YAML
}
