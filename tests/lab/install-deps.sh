#!/bin/sh
# Install every Debian 12 package the build, the tests and the lab need.
# Idempotent: does nothing (and needs no network) when all are present.
set -eu

PKGS="build-essential pkg-config clang llvm libclang-rt-14-dev
libssl-dev libldns-dev libyaml-dev libcmocka-dev libjansson-dev libidn2-dev
libcurl4-openssl-dev
openssl ca-certificates perl python3 time iproute2 util-linux valgrind
bind9 bind9-utils bind9-dnsutils unbound postfix pebble certbot lego dehydrated uacme curl
hash-slinger gnutls-bin ldnsutils knot-dnsutils mandoc faketime
knot pdns-server pdns-backend-sqlite3 sqlite3 tmux"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: not root and no sudo; install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
echo "install-deps: installing:$missing" >&2
# Postfix must not configure or touch a system mail setup: the lab runs
# private instances only.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
