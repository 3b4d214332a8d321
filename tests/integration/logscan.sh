#!/bin/bash
# logscan - `mailward logscan` offline (no daemon): on a log written by
# bench/gen-maillog.py with its ground truth, --simple --ban-after 5
# --window 10m bans exactly the truth's addresses at the truth's times;
# the login guard's rules (default [login]) give verdicts with reasons;
# JSON and human output agree; usage errors exit 64, unreadable files 1,
# a broken configuration 78.
. "$(dirname "$0")/lib.sh"
mw_init logscan

GEN=$MW_SOURCE_DIR/bench/gen-maillog.py
LOGF=$T/mail.log
python3 "$GEN" -n 30000 --seed 7 -o "$LOGF" --truth "$T/truth" ||
    { fail "gen-maillog.py wrote a log"; exit 1; }
: >"$T/empty.conf"
ls() { "$MW_CLI" -c "$T/empty.conf" logscan "$@"; }

ls --bans-only --simple --ban-after 5 --window 10m "$LOGF" >"$T/simple.out" 2>"$T/cli.err"
check "--simple exits 0" test $? -eq 0
grep -v '^#' "$T/truth" | awk -F'\t' '{n = split($2, t, " "); print $1, t[n]}' | sort >"$T/want"
awk -F'\t' '{n = split($2, t, " "); print $1, t[n]}' "$T/simple.out" | sort >"$T/got"
check "truth has bans ($(wc -l <"$T/want"))" test -s "$T/want"
if cmp -s "$T/want" "$T/got"; then ok "--simple: exactly the truth's addresses and ban times"
else fail "--simple: differs from the truth"; diff "$T/want" "$T/got" | head -5 | sed 's/^/     | /'; fi

gzip -c "$LOGF" >"$T/mail.log.gz"
zcat "$T/mail.log.gz" | ls --bans-only --simple --ban-after 5 --window 10m - >"$T/stdin.out" 2>>"$T/cli.err"
check "- (standard input, e.g. zcat): exit 0" test $? -eq 0
check "- gives the same bans as the file" cmp -s "$T/simple.out" "$T/stdin.out"
{ head -c 100000 /dev/zero | tr '\0' x; echo; tail -n 200 "$LOGF"; } |
    ls --json - >"$T/long.json" 2>>"$T/cli.err"
check "a 100 kB line on standard input is skipped and counted" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["overlong_lines"] == 1 and d["lines"] == 201, d' "$T/long.json"

ls --json --top 0 "$LOGF" >"$T/rules.json" 2>>"$T/cli.err"
check "--json exits 0" test $? -eq 0
python3 - "$T/rules.json" "$T/want" "$T/empty.conf" <<'PY' >"$T/json.check"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["rules"] == "login" and d["rules_from"] == sys.argv[3], d["rules_from"]
assert d["lines"] >= 30000, d["lines"]
assert d["failures"] > 0 and d["attempts"] > 0
assert set(d["matches_per_rule"]) <= {"postfix-sasl", "dovecot-login", "dovecot-passdb"}, d["matches_per_rule"]
assert d["repeated_summaries"] > 0          # Dovecot summaries not counted twice
assert all(b["reason"] for b in d["bans"])
truth = {l.split()[0] for l in open(sys.argv[2])}
bans = {b["address"] for b in d["bans"]}
# default rules: 10 failures (or spraying) in 10m; every such address is
# in the truth (5 in 10m), never an address the truth leaves alone
assert bans and bans <= truth, sorted(bans - truth)[:5]
print(len(bans), len(truth))
PY
check "login-guard rules: reasons, no address outside the truth ($(cat "$T/json.check"))" test -s "$T/json.check"

ls "$LOGF" >"$T/human.out" 2>>"$T/cli.err"
check "human output: rules table" grep -q '^postfix-sasl ' "$T/human.out"
check "human output: bans header" grep -q '^bans the login guard would make' "$T/human.out"

ls --ban-after 0 "$LOGF" >/dev/null 2>"$T/err"
check "--ban-after 0 exits 64" test $? -eq 64
check "--ban-after 0: says why" grep -q 'expected a number from 1' "$T/err"
ls --patterns postfx "$LOGF" >/dev/null 2>"$T/err"
check "--patterns postfx exits 64" test $? -eq 64
ls "$T/missing.log" >/dev/null 2>"$T/err"
check "a missing file exits 1" test $? -eq 1
check "a missing file: named" grep -q 'missing.log' "$T/err"
printf '[login]\nban_after = x\n' >"$T/bad.conf"
"$MW_CLI" -c "$T/bad.conf" logscan "$LOGF" >/dev/null 2>"$T/err"
check "a broken configuration exits 78" test $? -eq 78
printf '[logwatch]\npatterns = postfix dovecto\n' >"$T/pat.conf"
"$MW_CLI" config check "$T/pat.conf" >/dev/null 2>"$T/err"
check "config check: an unknown pattern set exits 78" test $? -eq 78
check "config check: names it" grep -q '"dovecto" is not a pattern set' "$T/err"
"$MW_CLI" logscan --help >"$T/help" 2>&1
check "--help explains --simple" grep -q -- '--simple' "$T/help"
mw_done
