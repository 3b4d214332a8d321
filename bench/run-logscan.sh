#!/bin/bash
# run-logscan.sh - mail log scanning: `mailward logscan` beside fail2ban-regex
# and grep, in the same run, on the same generated log; and the set of
# addresses logscan would ban against the generator's ground truth.
#
#   bench/run-logscan.sh [--lines 1000000] [--runs 3] [--no-fail2ban] [--no-build]
#
# 1. bench/gen-maillog.py writes a realistic Postfix + Dovecot syslog of
#    --lines lines with known attackers and its truth file (kept in
#    bench/work/logscan/ while the arguments and the generator are unchanged).
# 2. Each tool runs --runs times on the file in the page cache (wall clock
#    of each run; the median is reported):
#      mailward logscan --bans-only         (all pattern sets, the login
#                                           guard's rules, default [login])
#      mailward logscan --bans-only --simple (one exact window per address)
#      grep -cE with three failure patterns (the physical reference)
#      fail2ban-regex with the stock postfix[mode=auth] and dovecot filters
# 3. lines/s of each, logscan's ratio to fail2ban-regex (each filter alone:
#    one fail2ban run covers one filter) and to grep, and logscan's bans
#    against the truth (extra / missing addresses): with --simple (one exact
#    window per address, the truth's own rule: 5 within 600 s) and with the
#    login guard's rules set to ban_after 5, window 10m.
# Targets (issue 3): >= 50x fail2ban-regex's lines/s, within 2x of grep -cE's
# time, exactly the truth's set of banned addresses.
# Results: bench/results/logscan-<UTC>.md. No root needed.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
WORK=${BENCH_WORK:-$BENCH/work}/logscan
MW_BUILD=${MW_BUILD:-$TOP/build-bench}
RESULTS=$BENCH/results
LINES=1000000
RUNS=3
F2B=1
BUILD=1

while [ $# -gt 0 ]; do
	case $1 in
	--lines) LINES=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--no-fail2ban) F2B=0; shift ;;
	--no-build) BUILD=0; shift ;;
	-h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-logscan.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
log() { printf '%s run-logscan: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "$F2B" = 1 ] && ! command -v fail2ban-regex >/dev/null; then
	die "fail2ban-regex not found: sudo bench/install-deps.sh (or --no-fail2ban)"
fi
if [ "$BUILD" = 1 ]; then
	log "building mailward in $MW_BUILD (Release, -j2)"
	cmake -S "$TOP" -B "$MW_BUILD" -DCMAKE_BUILD_TYPE=Release -DMW_TESTS=OFF \
	    -DCMAKE_C_FLAGS=-Wno-error=maybe-uninitialized >/dev/null
	cmake --build "$MW_BUILD" -j2 --target mailward >/dev/null
fi
MW=${MW_CLI:-$MW_BUILD/src/cli/mailward}
[ -x "$MW" ] || die "no mailward binary at $MW"
mkdir -p "$WORK" "$RESULTS"

LOGF=$WORK/maillog-$LINES.log
TRUTH=$WORK/maillog-$LINES.truth
want="$(sha256sum "$BENCH/gen-maillog.py" | cut -c1-16) -n $LINES"
if [ ! -s "$LOGF" ] || [ "$(cat "$LOGF.args" 2>/dev/null)" != "$want" ]; then
	log "generating $LOGF"
	python3 "$BENCH/gen-maillog.py" -n "$LINES" -o "$LOGF" --truth "$TRUTH"
	echo "$want" >"$LOGF.args"
fi
nlines=$(wc -l <"$LOGF")
cat "$LOGF" >/dev/null	# page cache
log "$nlines lines, $(du -m "$LOGF" | cut -f1) MB"

# time_runs NAME CMD...: RUNS wall-clock times (s), median in $median
declare -A MEDIAN CPU
# time_runs NAME CMD...: RUNS runs; median wall clock (s) in MEDIAN[NAME],
# median CPU time (user + system, s, from /usr/bin/time) in CPU[NAME]:
# CPU time hardly depends on what else runs on the machine, wall time does.
time_runs() {
	local name=$1; shift
	local ts=() cs=() t0 t1 out=$WORK/out-${name// /_}
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s.%N)
		/usr/bin/time -f '%U %S' -o "$out.time" "$@" >"$out" 2>&1 ||
		    die "$name failed: $(tail -3 "$out")"
		t1=$(date +%s.%N)
		ts+=("$(echo "$t1 - $t0" | bc -l)")
		cs+=("$(awk '{print $1 + $2}' "$out.time")")
	done
	MEDIAN[$name]=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	CPU[$name]=$(printf '%s\n' "${cs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	log "$name: wall ${ts[*]} -> median ${MEDIAN[$name]} s; cpu median ${CPU[$name]} s"
}

GREP_RE='SASL [A-Z0-9-]+ authentication failed: |\(auth failed, [0-9]+ attempts|: (unknown user|Password mismatch)$'
# The compared tools run alternately in each round, so that load from
# others on the machine falls on all of them alike.
: >"$WORK/empty.conf"	# [login] defaults, whatever /etc holds
for ((round = 0; round < RUNS; round++)); do
	saved=$RUNS; RUNS=1
	time_runs "logscan.$round" "$MW" -c "$WORK/empty.conf" logscan --bans-only "$LOGF"
	time_runs "simple.$round" "$MW" -c "$WORK/empty.conf" logscan --bans-only --simple "$LOGF"
	time_runs "grep.$round" env LC_ALL=C grep -cE "$GREP_RE" "$LOGF"
	RUNS=$saved
done
if [ "$F2B" = 1 ]; then
	# fail2ban-regex is ~100x slower: one run each is enough to rank it
	RUNS_F2B=${RUNS_F2B:-1}
	saved=$RUNS; RUNS=$RUNS_F2B
	time_runs "f2b-postfix" fail2ban-regex "$LOGF" 'postfix[mode=auth]'
	time_runs "f2b-dovecot" fail2ban-regex "$LOGF" dovecot
	RUNS=$saved
fi
med() { # med PREFIX [CPU]: median over the rounds
	for ((r = 0; r < RUNS; r++)); do
		if [ -n "${2:-}" ]; then echo "${CPU[$1.$r]}"; else echo "${MEDIAN[$1.$r]}"; fi
	done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
t_ls=$(med logscan)
t_simple=$(med simple)
t_grep=$(med grep)
c_ls=$(med logscan cpu)
c_simple=$(med simple cpu)
c_grep=$(med grep cpu)
rate() { echo "$nlines / $1" | bc -l | awk '{printf "%.0f", $1}'; }

grep -v '^#' "$TRUTH" | cut -f1 | sort >"$WORK/truth.bans"
"$MW" -c "$WORK/empty.conf" logscan --bans-only --simple --ban-after 5 --window 10m "$LOGF" |
    cut -f1 | sort >"$WORK/logscan.bans"
extra=$(comm -23 "$WORK/logscan.bans" "$WORK/truth.bans" | wc -l)
missing=$(comm -13 "$WORK/logscan.bans" "$WORK/truth.bans" | wc -l)
"$MW" -c "$WORK/empty.conf" logscan --bans-only --ban-after 5 --window 10m "$LOGF" >"$WORK/logscan-rules.out"
grep -v / "$WORK/logscan-rules.out" | cut -f1 | sort >"$WORK/logscan-rules.bans"
r_extra=$(comm -23 "$WORK/logscan-rules.bans" "$WORK/truth.bans" | wc -l)
r_missing=$(comm -13 "$WORK/logscan-rules.bans" "$WORK/truth.bans" | wc -l)
r_nets=$(grep -c / "$WORK/logscan-rules.out" || true)

# fail2ban's jails on the same log (maxretry 5, findtime 10m, Debian's
# defaults; one jail per filter, as configured in production)
f2b_bans() { # FILTER OUT
	TZ=UTC fail2ban-regex -o '<time> <ip>' "$LOGF" "$1" 2>/dev/null | python3 -c '
import sys, collections
ev = collections.defaultdict(list)
for line in sys.stdin:
    p = line.split()
    if len(p) == 2:
        ev[p[1]].append(float(p[0]))
for ip, ts in ev.items():
    ts.sort()
    if any(ts[j] - ts[j - 4] <= 600 for j in range(4, len(ts))):
        print(ip)
' | sort >"$2"
}
if [ "$F2B" = 1 ]; then
	log "fail2ban jails' bans (one more run per filter, not timed)"
	f2b_bans 'postfix[mode=auth]' "$WORK/f2b-postfix.bans"
	f2b_bans dovecot "$WORK/f2b-dovecot.bans"
	sort -u "$WORK/f2b-postfix.bans" "$WORK/f2b-dovecot.bans" >"$WORK/f2b-union.bans"
	f_extra=$(comm -23 "$WORK/f2b-union.bans" "$WORK/truth.bans" | wc -l)
	f_missing=$(comm -13 "$WORK/f2b-union.bans" "$WORK/truth.bans" | wc -l)
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
MD=$RESULTS/logscan-$STAMP.md
{
	echo "### Log scan, $nlines lines ($(du -m "$LOGF" | cut -f1) MB), median of $RUNS runs, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "| tool | wall (s) | lines/s | CPU (s) | mailward logscan (login guard rules) is |"
	echo "|---|---:|---:|---:|---|"
	printf '| mailward logscan --bans-only (login guard rules) | %.3f | %s | %.3f | |\n' \
	    "$t_ls" "$(rate "$t_ls")" "$c_ls"
	printf '| mailward logscan --bans-only --simple | %.3f | %s | %.3f | (--simple: %.2fx grep wall, %.2fx CPU) |\n' \
	    "$t_simple" "$(rate "$t_simple")" "$c_simple" "$(echo "$t_simple / $t_grep" | bc -l)" \
	    "$(echo "$c_simple / $c_grep" | bc -l)"
	printf '| grep -cE (3 failure patterns) | %.3f | %s | %.3f | %.2fx grep wall, %.2fx CPU |\n' \
	    "$t_grep" "$(rate "$t_grep")" "$c_grep" "$(echo "$t_ls / $t_grep" | bc -l)" \
	    "$(echo "$c_ls / $c_grep" | bc -l)"
	if [ "$F2B" = 1 ]; then
		for f in postfix dovecot; do
			t=${MEDIAN[f2b-$f]} c=${CPU[f2b-$f]}
			printf '| fail2ban-regex %s | %.2f | %s | %.2f | %.0fx faster (wall), %.0fx less CPU |\n' \
			    "$([ $f = postfix ] && echo 'postfix[mode=auth]' || echo dovecot)" \
			    "$t" "$(rate "$t")" "$c" "$(echo "$t / $t_ls" | bc -l)" \
			    "$(echo "$c / $c_ls" | bc -l)"
		done
	fi
	echo
	echo "bans: truth $(wc -l <"$WORK/truth.bans") addresses (>= 5 attempts within 600 s)"
	echo
	echo "- mailward logscan --simple --ban-after 5 --window 10m: $(wc -l <"$WORK/logscan.bans") addresses, extra $extra, missing $missing"
	echo "- mailward logscan, login guard rules with ban_after 5, window 10m: $(wc -l <"$WORK/logscan-rules.bans") addresses, extra $r_extra, missing $r_missing; $r_nets network bans"
	if [ "$F2B" = 1 ]; then
		echo "- fail2ban, postfix[mode=auth] and dovecot jails (maxretry 5, findtime 10m), union: $(wc -l <"$WORK/f2b-union.bans") addresses, extra $f_extra, missing $f_missing (postfix jail $(wc -l <"$WORK/f2b-postfix.bans"), dovecot jail $(wc -l <"$WORK/f2b-dovecot.bans"))"
	fi
	if [ "$extra" -gt 0 ] || [ "$missing" -gt 0 ]; then
		echo
		echo '```'
		comm -3 "$WORK/logscan.bans" "$WORK/truth.bans" | head -20
		echo '```'
	fi
	echo
	echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); generator: bench/gen-maillog.py -n $LINES"
} | tee "$MD"
log "results: $MD"
