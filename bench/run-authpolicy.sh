#!/bin/bash
# run-authpolicy.sh - Dovecot auth policy benchmark: mailwardd's
# [authpolicy] service beside the minimal HTTP server that answers every
# request with a fixed {"status":0,"msg":""} (bin/trivial-http, the HTTP
# limit of the machine), under the same wrk load, in one run.
#
#   bench/run-authpolicy.sh [options]
#
#   --conns 16,64         connection levels (wrk -c)
#   --runs N              timed runs per server and level (default 3)
#   --duration S          seconds per timed run (10); a 2 s warm-up first
#   --threads N           wrk threads (2)
#   --mailwardd PATH      daemon binary (default: built in $MW_BUILD)
#   --extra-mailwardd NAME=PATH
#                         also measure another mailwardd binary (an A/B test
#                         of a change, in the same run, as server NAME);
#                         repeatable
#   --no-build            use the binaries as they are
#   --quick               = --runs 1 --duration 5
#   --perf                also profile mailwardd (perf record -g) during its
#                         last run at the highest level
#
# Load (bench/lib/authpolicy.lua): keep-alive HTTP/1.1 POSTs of the JSON
# bodies Dovecot 2.3 sends, two allow checks per report, 2,000 client
# addresses, 500 accounts. mailwardd runs with the config this script
# writes (state in bench/work/authpolicy/, log level info, DNSBL off).
# Every answer must be 2xx (wrk counts other statuses: the run fails).
# Needs wrk (bench/install-deps.sh); no root, loopback only, free ports.
# Results: bench/results/authpolicy-<UTC time>.{tsv,md}.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
WORK=${BENCH_WORK:-$BENCH/work}/authpolicy
MW_BUILD=${MW_BUILD:-$TOP/build-bench}
RESULTS=$BENCH/results

ARGS="$*"
CONNS=16,64
RUNS=3
DURATION=10
THREADS=2
MAILWARDD=
EXTRA_MW=()
BUILD=1
PERF=0

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--conns) CONNS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--mailwardd) MAILWARDD=$2; shift 2 ;;
	--extra-mailwardd) EXTRA_MW+=("$2"); shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--quick) RUNS=1; DURATION=5; shift ;;
	--perf) PERF=1; shift ;;
	-h|--help) usage ;;
	*) echo "run-authpolicy.sh: unknown option $1" >&2; usage ;;
	esac
done
log() { printf '%s run-authpolicy: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk missing: run bench/install-deps.sh"
if [ "$BUILD" = 1 ]; then
	make -s -C "$BENCH" bin/trivial-http >&2
	if [ -z "$MAILWARDD" ]; then
		log "building mailward in $MW_BUILD (Release, -j2)"
		cmake -S "$TOP" -B "$MW_BUILD" -DCMAKE_BUILD_TYPE=Release \
		    -DMW_TESTS=OFF -DCMAKE_C_FLAGS=-Wno-error=maybe-uninitialized >/dev/null
		cmake --build "$MW_BUILD" -j2 --target mailwardd >/dev/null
	fi
fi
[ -n "$MAILWARDD" ] || MAILWARDD=$MW_BUILD/src/daemon/mailwardd
[ -x "$MAILWARDD" ] || die "no mailwardd at $MAILWARDD"
[ -x "$BENCH/bin/trivial-http" ] || die "no bin/trivial-http (make -C bench)"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TSV=$RESULTS/authpolicy-$STAMP.tsv
MD=$RESULTS/authpolicy-$STAMP.md
KEY=bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
PIDS=()
rm -rf "$WORK"
mkdir -p "$WORK" "$RESULTS"

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SERVERS=(trivial)
declare -A PORT PID
PORT[trivial]=$(free_port)
"$BENCH/bin/trivial-http" -l "tcp:127.0.0.1:${PORT[trivial]}" 2>"$WORK/trivial.log" &
PIDS+=($!); PID[trivial]=$!

# start_mailwardd NAME BINARY: its own config, state and ports.
start_mailwardd() {
	local name=$1 bin=$2 dir=$WORK/$1
	mkdir -p "$dir/state"
	PORT[$name]=$(free_port)
	cat >"$dir/mailward.conf" <<EOC
# written by bench/run-authpolicy.sh
[daemon]
state_dir = $dir/state
user =
log_level = info

[policy]
listen = 127.0.0.1:$(free_port)

[authpolicy]
enabled = yes
listen = 127.0.0.1:${PORT[$name]}
api_key = $KEY
hash_nonce = bench-nonce
hash_truncate = 12

[dnsbl]
enabled = no

[dashboard]
enabled = no
EOC
	"$bin" -c "$dir/mailward.conf" -f >"$dir/mailwardd.log" 2>&1 &
	PIDS+=($!); PID[$name]=$!
	SERVERS+=("$name")
	for i in $(seq 100); do
		grep -q ' ready ' "$dir/mailwardd.log" && return 0
		sleep 0.1
	done
	cat "$dir/mailwardd.log" >&2
	die "$name ($bin) did not start"
}
start_mailwardd mailward "$MAILWARDD"
for x in "${EXTRA_MW[@]}"; do
	start_mailwardd "${x%%=*}" "${x#*=}"
done
for i in $(seq 50); do grep -q ready "$WORK/trivial.log" && break; sleep 0.1; done

# Both must answer a Dovecot request with 200 and status 0 before timing.
BODY='{"device_id":"","login":"alice@bench.example","protocol":"imap","pwhash":"010d","remote":"198.18.0.1","session_id":"x","tls":false}'
for name in "${SERVERS[@]}"; do
	port=${PORT[$name]}
	got=$(curl -s -H "X-API-Key: $KEY" -d "$BODY" "http://127.0.0.1:$port/?command=allow")
	[ "$got" = '{"status":0,"msg":""}' ] || die "127.0.0.1:$port answered: $got"
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

printf 'run\tserver\tconns\trps\tp50_us\tp90_us\tp99_us\tp999_us\tmax_us\terrors\tcpu_us_per_req\tsteal_pct\n' >"$TSV"
steal() { awk '/^cpu /{ print $9 }' /proc/stat; }
total() { awk '/^cpu /{ s = 0; for (i = 2; i <= NF; i++) s += $i; print s }' /proc/stat; }

# measure RUN NAME PORT PID CONNS
measure() {
	local run=$1 name=$2 port=$3 pid=$4 c=$5 out t0 t1 s0 s1 a0 a1 line
	AP_KEY=$KEY wrk -t"$THREADS" -c"$c" -d2s -s "$BENCH/lib/authpolicy.lua" \
	    "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
	t0=$(cpu_ticks "$pid"); s0=$(steal); a0=$(total)
	local perf_pid=
	if [ "$PERF" = 1 ] && [ "$name" = mailward ] && [ "$run" = "$RUNS" ] &&
	    [ "$c" = "${CONNS##*,}" ]; then
		perf record -g -o "$WORK/perf.data" -p "$pid" -- sleep "$DURATION" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	out=$(AP_KEY=$KEY wrk -t"$THREADS" -c"$c" -d"${DURATION}s" \
	    -s "$BENCH/lib/authpolicy.lua" "http://127.0.0.1:$port/" 2>&1)
	[ -z "$perf_pid" ] || wait "$perf_pid" || true
	t1=$(cpu_ticks "$pid"); s1=$(steal); a1=$(total)
	line=$(printf '%s\n' "$out" | grep '^RESULT ') || { printf '%s\n' "$out" >&2; die "wrk failed"; }
	eval "$(printf '%s\n' "$line" | sed 's/^RESULT //' | tr ' ' '\n' | sed 's/^/local r_/')"
	local errors=$((r_err_connect + r_err_read + r_err_write + r_err_status + r_err_timeout))
	local cpu
	cpu=$(awk -v d=$((t1 - t0)) -v tick="$TICK" -v n="$r_requests" \
	    'BEGIN { printf "%.1f", (n > 0 ? d / tick * 1e6 / n : 0) }')
	local st
	st=$(awk -v s=$((s1 - s0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.1f", (a > 0 ? 100 * s / a : 0) }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$name" "$c" \
	    "$r_rps" "$r_p50_us" "$r_p90_us" "$r_p99_us" "$r_p999_us" "$r_max_us" \
	    "$errors" "$cpu" "$st" >>"$TSV"
	log "run $run $name c=$c: $r_rps req/s, p99 $r_p99_us us, $errors errors, $cpu us CPU/req"
	[ "$errors" -eq 0 ] || die "$name answered $errors requests with errors (see wrk)"
}

log "servers: ${SERVERS[*]}"
for run in $(seq "$RUNS"); do
	for c in ${CONNS//,/ }; do
		for name in "${SERVERS[@]}"; do
			measure "$run" "$name" "${PORT[$name]}" "${PID[$name]}" "$c"
		done
	done
done
if [ "$PERF" = 1 ] && [ -f "$WORK/perf.data" ]; then
	perf report -i "$WORK/perf.data" --no-children --sort dso,sym -g none --percent-limit 0.4 \
	    --stdio 2>/dev/null | grep -v '^$' | head -n 150 \
	    >"$RESULTS/authpolicy-$STAMP-perf.txt" || true
	log "profile: $RESULTS/authpolicy-$STAMP-perf.txt"
fi
grep -E 'warning|error' "$WORK/mailward/mailwardd.log" | head -n 5 >&2 || true
RSS=$(awk '/VmRSS/ { print $2 }' "/proc/${PID[mailward]}/status")

python3 - "$TSV" "$MD" "$RSS" "$ARGS" <<'PYEOF'
import csv, statistics, sys
tsv, md, rss, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
out = []
out.append("# auth policy benchmark\n")
out.append("`bench/run-authpolicy.sh %s`; mailwardd RSS after the runs: %s kB\n" % (args, rss))
out.append("| server | conns | req/s median (min-max) | p50 us | p99 us | p99.9 us | x trivial | CPU us/req | steal % |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
checks = []
for c in sorted({int(r["conns"]) for r in rows}):
    med = {}
    names = []
    for r in rows:
        if r["server"] not in names:
            names.append(r["server"])
    for name in names:
        rs = [r for r in rows if r["server"] == name and int(r["conns"]) == c]
        rps = [float(r["rps"]) for r in rs]
        med[name] = statistics.median(rps)
        tr = [float(r["rps"]) for r in rows if r["server"] == "trivial" and int(r["conns"]) == c]
        out.append("| %s | %d | %s (%s-%s) | %d | %d | %d | %.3f | %s | %s |" % (
            name, c, format(round(statistics.median(rps)), ","),
            format(round(min(rps)), ","), format(round(max(rps)), ","),
            statistics.median(int(r["p50_us"]) for r in rs),
            statistics.median(int(r["p99_us"]) for r in rs),
            statistics.median(int(r["p999_us"]) for r in rs),
            statistics.median(rps) / statistics.median(tr),
            statistics.median(float(r["cpu_us_per_req"]) for r in rs),
            statistics.median(float(r["steal_pct"]) for r in rs)))
    for name in names[1:]:
        pairs = []
        for run in sorted({r["run"] for r in rows}):
            t = [float(r["rps"]) for r in rows if r["run"] == run and r["server"] == "trivial" and int(r["conns"]) == c]
            m = [float(r["rps"]) for r in rows if r["run"] == run and r["server"] == name and int(r["conns"]) == c]
            if t and m:
                pairs.append(m[0] / t[0])
        ratio = statistics.median(pairs)
        p99 = statistics.median(int(r["p99_us"]) for r in rows if r["server"] == name and int(r["conns"]) == c)
        tp99 = statistics.median(int(r["p99_us"]) for r in rows if r["server"] == "trivial" and int(r["conns"]) == c)
        checks.append("%s  %s rate c=%d: %.3f x trivial (median of paired runs); target >= 0.60" % ("PASS" if ratio >= 0.60 else "FAIL", name, c, ratio))
        if c == 64:
            checks.append("%s  %s p99 c=64: %d us (trivial's: %d us); absolute target < 2000 us" % ("PASS" if p99 < 2000 else "FAIL", name, p99, tp99))
            # The project's rule when even the minimal server misses the
            # absolute target on this machine: within 1.5 x its p99.
            if tp99 >= 2000:
                checks.append("%s  %s p99 c=64: %d us = %.2f x trivial's p99 (%d us; it misses 2000 us itself); relative target <= 1.5 x = %d us" % ("PASS" if p99 <= 1.5 * tp99 else "FAIL", name, p99, p99 / tp99, tp99, 1.5 * tp99))
out.append("")
out.append("```")
out.extend(checks)
out.append("```")
text = "\n".join(out) + "\n"
open(md, "w").write(text)
sys.stdout.write(text)
PYEOF
log "results: $TSV, $MD"
