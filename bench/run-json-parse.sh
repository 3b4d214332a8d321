#!/bin/sh
# run-json-parse.sh - what reading one Dovecot auth policy body costs with
# jansson, json-c and yajl (bench/src/json-parse.c), in one run, with the
# ratio to jansson. Needs libjansson-dev, libjson-c-dev, libyajl-dev
# (bench/install-deps.sh).
#
#   bench/run-json-parse.sh [iterations]
set -eu
case "${1:-}" in
-h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
''|*[!0-9]*) [ -z "${1:-}" ] || { echo "run-json-parse.sh: iterations must be a number" >&2; exit 2; } ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here" json-parse
for lib in jansson jsonc yajl; do
	"$here/bin/json-parse-$lib" "$@"
done | awk '{ print; ns[NR] = $2 }
    END { printf "json-c %.2f x jansson, yajl %.2f x jansson\n", ns[2] / ns[1], ns[3] / ns[1] }'
