#!/bin/sh
# quickstart.sh: the two commands of the README.
#
#   sh quickstart.sh demo   install what is needed, build, run the lab demo
#   sh quickstart.sh test   install what is needed, build, run every test
#
# Both install the Debian 12 packages first (idempotent: nothing happens
# when they are present), so a fresh machine needs nothing else.
set -eu
cd "$(dirname "$0")"

what=${1:-}
case $what in
demo|test) ;;
*) echo "usage: sh quickstart.sh demo|test" >&2; exit 2 ;;
esac

sh tests/lab/install-deps.sh
make -j2

case $what in
demo)
	TLSAGEN=$PWD/build/tlsagen sh tests/lab/demo.sh
	;;
test)
	make check
	make asan
	;;
esac
