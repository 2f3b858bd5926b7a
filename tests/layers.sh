#!/bin/sh
#
# layers.sh OBJDIR OBJECT...: the source layout's two rules, checked on
# the sources and on the objects given (OBJDIR/FOLDER/FILE.o).
#
# 1. The layers, lowest first: common tlsagen zones check rollover cli.
#    A source includes headers of its own layer or of a layer below,
#    by name only ("tlsa_rec.h", never "../tlsagen/tlsa_rec.h", nor
#    <tlsa_rec.h>: <> is for the system's headers); the tests
#    (tests/unit, tests/fuzz) may include any layer, by name.
# 2. Every name an object exports starts with its file's prefix: the
#    layer's (tlsa_ in tlsagen/, zone_ in zones/, chk_ in check/, roll_
#    in rollover/, whose files are named so), the module's in common/
#    (sbuf_ from sbuf.c; crashpoint.c exports crashpoint), and main
#    alone in cli/.  Names from the compiler (__*, .*) do not count.
#    common/log.c also exports the error helpers every layer uses on
#    its error paths: errfmt, err_prefix, err_add_openssl, str_vis.
#
# Each breach is one line naming the file (and line); exit 1 if any.

LAYERS="common tlsagen zones check rollover cli"
LOG_ALLOW="errfmt err_prefix err_add_openssl str_vis"

rank() {
	n=0
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $n; return; }
		n=$((n + 1))
	done
	echo -1
}

bad=0

# 1. Includes.
for f in $(for l in $LAYERS; do ls $l/*.c $l/*.h 2>/dev/null; done) \
    $(ls tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h \
    2>/dev/null); do
	layer=${f%%/*}
	[ "$layer" = tests ] && me=99 || me=$(rank "$layer")
	out=$(grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r l; do
		line=${l%%:*}
		# The delimiter right after #include, and the name in it.
		form=$(printf '%s\n' "${l#*:}" | sed -n \
		    's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(["<]\).*/\1/p')
		case "$form" in
		'"')	inc=$(printf '%s\n' "${l#*:}" | sed -n \
			    's/^[^"]*"\([^"]*\)".*/\1/p') ;;
		'<')	inc=$(printf '%s\n' "${l#*:}" | sed -n \
			    's/^[^<]*<\([^>]*\)>.*/\1/p') ;;
		*)	echo "$f:$line: an #include this check cannot read"
			continue ;;
		esac
		case "$inc" in
		*../*|/*)
			echo "$f:$line: includes \"$inc\" by a path"
			continue ;;
		esac
		if [ "$form" = '<' ]; then
			# <sys/x.h> is the system's, whatever our names.
			case "$inc" in */*) continue ;; esac
			for l2 in $LAYERS; do
				[ -f "$l2/$inc" ] &&
				    echo "$f:$line: includes <$inc>, a header" \
				    "of $l2/: name it in quotes"
			done
			continue
		fi
		case "$inc" in
		*/*)
			echo "$f:$line: includes \"$inc\" by a path"
			continue ;;
		esac
		for l2 in $LAYERS; do
			[ -f "$l2/$inc" ] || continue
			if [ "$(rank "$l2")" -gt "$me" ]; then
				echo "$f:$line: includes $l2/$inc, from a" \
				    "layer above $layer/"
			fi
		done
	done)
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		bad=1
	fi
done

# 2. Exported names.
objdir=${1%/}
shift
for o in "$@"; do
	case "$o" in
	"$objdir"/*)	src=${o#"$objdir"/} ;;
	*)		echo "$o: not under $objdir"; bad=1; continue ;;
	esac
	src=${src%.o}.c
	layer=${src%%/*}
	base=${src##*/}
	base=${base%.c}
	case "$layer" in
	common)		want=$base ;;
	tlsagen)	want=tlsa ;;
	zones)		want=zone ;;
	check)		want=chk ;;
	rollover)	want=roll ;;
	cli)		want=main ;;
	*)		echo "$src: not in a layer ($LAYERS)"; bad=1; continue ;;
	esac
	if [ "$layer" != common ] && [ "$layer" != cli ]; then
		case "$base" in
		"$want"_*) ;;
		*)	echo "$src: a file in $layer/ is named ${want}_*.c"
			bad=1 ;;
		esac
	fi
	syms=$(nm -g --defined-only "$o" | awk 'NF == 3 { print $3 }') || {
		echo "$o: nm failed"
		bad=1
		continue
	}
	for s in $syms; do
		case "$s" in
		__*|.*)	continue ;;
		esac
		if [ "$layer" = cli ]; then
			[ "$s" = main ] && continue
		else
			case "$s" in
			"$want"|"$want"_*) continue ;;
			esac
		fi
		if [ "$src" = common/log.c ]; then
			case " $LOG_ALLOW " in *" $s "*) continue ;; esac
		fi
		line=$(grep -n -m1 "^$s\\b" "$src" 2>/dev/null | cut -d: -f1)
		[ -n "$line" ] || line=$(grep -n -m1 -w "$s" "$src" 2>/dev/null |
		    cut -d: -f1)
		if [ "$layer" = cli ]; then
			echo "$src:${line:-?}: exports $s; a program exports" \
			    "main alone"
		else
			echo "$src:${line:-?}: exports $s, not ${want}_*"
		fi
		bad=1
	done
done

[ $bad -eq 0 ] && echo "# layers: includes and exported names follow" \
    "the layout"
exit $bad
