#!/bin/bash
# run-bans.sh - mailwardd start-up time and memory with many bans loaded.
#
#   sudo bench/run-bans.sh [--bans 1000000] [--runs 3] [--no-build]
#
# 1. Writes N bans straight into a mailward SQLite store with bin/ban-fill,
#    which links the project's own store library (so the schema is always
#    the one src/store defines); reused while N and the store library do
#    not change, and restored from a pristine copy before every start.
# 2. Starts `mailwardd -c FILE -f` RUNS times and measures the time from
#    exec to the "ready" log line and to the first policy answer, and the
#    resident memory after start (VmRSS; VmHWM = peak during the load).
# 3. With the bans loaded: 16 connections of policy requests from banned
#    and unbanned addresses (policy-load --verify rules: banned -> reject).
# 4. The same start-up with an empty store, for comparison.
# Targets (issue): start-up with 1,000,000 bans < 3 s, memory < 150 MB.
#
# Runs inside `unshare --net` (a private loopback: no port clashes with
# anything else on the machine). Results: bench/results/bans-<UTC>.tsv/.md.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
WORK=${BENCH_WORK:-$BENCH/work}/bans
MW_BUILD=${MW_BUILD:-$TOP/build-bench}
RESULTS=$BENCH/results
NBANS=1000000
RUNS=3
BUILD=1
START_TARGET_S=3
RSS_TARGET_MB=150

args=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--bans) NBANS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	-h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) echo "run-bans.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
log() { printf '%s run-bans: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ -z "${MW_BENCH_SANDBOX:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0): the run uses a private network namespace"
	if [ "$BUILD" = 1 ]; then
		log "building mailward in $MW_BUILD (Release, -j2)"
		cmake -S "$TOP" -B "$MW_BUILD" -DCMAKE_BUILD_TYPE=Release \
		    -DMW_TESTS=OFF -DCMAKE_C_FLAGS=-Wno-error=maybe-uninitialized >/dev/null
		cmake --build "$MW_BUILD" -j2 --target mailwardd mw_store mw_core >/dev/null
		extra=
		grep -q 'store_ban_put_many' "$TOP/src/store/store.h" &&
		    extra=-DMW_HAVE_BAN_PUT_MANY
		make -s -C "$BENCH" all >&2
		rm -f "$BENCH/bin/ban-fill"
		make -s -C "$BENCH" ban-fill BUILD="$MW_BUILD" CFLAGS="-O2 -g $extra" >&2
	fi
	mkdir -p "$WORK" "$RESULTS"
	export MW_BENCH_SANDBOX=1
	exec unshare --net -- "$0" "${args[@]}"
fi

ip link set lo up
BIN=$BENCH/bin
MAILWARDD=$MW_BUILD/src/daemon/mailwardd
[ -x "$MAILWARDD" ] || die "no $MAILWARDD"
[ -x "$BIN/ban-fill" ] || die "no $BIN/ban-fill (run without --no-build)"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TSV=$RESULTS/bans-$STAMP.tsv
MD=$RESULTS/bans-$STAMP.md
PORT=10946
DPID=

cleanup() {
	set +e
	if [ -n "$DPID" ] && [ -d "/proc/$DPID" ]; then
		kill -TERM "$DPID"; sleep 1; kill -KILL "$DPID" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

write_conf() {	# state_dir
	mkdir -p "$1"
	cat > "$1/mailward.conf" <<-EOF
	# written by bench/run-bans.sh
	[daemon]
	state_dir = $1
	user =
	log_level = info
	[policy]
	listen = 127.0.0.1:$PORT
	[admin]
	socket = $1/admin.sock
	[dnsbl]
	enabled = no
	EOF
}

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# Starts the daemon on state dir $1; sets DPID, T_LOG, T_ANS (ms), RSS/HWM (kB).
start_measure() {
	local dir=$1 t0 now
	: > "$dir/daemon.log"
	t0=$(ms_now)
	"$MAILWARDD" -c "$dir/mailward.conf" -f >"$dir/daemon.log" 2>&1 &
	DPID=$!
	T_LOG=; T_ANS=
	for _ in $(seq 6000); do	# 60 s at most
		[ -d "/proc/$DPID" ] || die "mailwardd exited at start: $(tail -3 "$dir/daemon.log")"
		now=$(ms_now)
		if [ -z "$T_LOG" ] && grep -q 'ready' "$dir/daemon.log"; then
			T_LOG=$((now - t0))
		fi
		if [ -z "$T_ANS" ] && "$BIN/policy-load" -t "tcp:127.0.0.1:$PORT" \
		    -c 1 -n 1 -w 0 -d 60 --timeout 60 --ips "$WORK/probe.txt" \
		    >/dev/null 2>&1; then
			T_ANS=$(($(ms_now) - t0))
		fi
		[ -n "$T_LOG" ] && [ -n "$T_ANS" ] && break
		sleep 0.01
	done
	[ -n "$T_ANS" ] || die "mailwardd did not answer within 60 s"
	[ -n "$T_LOG" ] || T_LOG=NA
	sleep 1
	RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
	HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
}

stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null || true
	for _ in $(seq 100); do [ -d "/proc/$DPID" ] || break; sleep 0.05; done
	kill -KILL "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}

echo "192.0.2.1 clean" > "$WORK/probe.txt"

# ---- 1. the store with N bans (reused when nothing changed)
FULL=$WORK/full
key="$NBANS $(md5sum "$BIN/ban-fill" | cut -d' ' -f1)"
if [ "$(cat "$FULL/.filled" 2>/dev/null)" != "$key" ] || [ ! -s "$WORK/pristine.db" ]; then
	rm -rf "$FULL"; write_conf "$FULL"
	log "writing $NBANS bans into $FULL"
	t0=$(ms_now)
	"$BIN/ban-fill" -c "$FULL/mailward.conf" -n "$NBANS" --sample "$WORK/banned-sample.txt"
	FILL_MS=$(($(ms_now) - t0))
	# The pristine store, restored before every start: the policy
	# requests of a run add events, which must not weigh on the next.
	cp "$FULL/mailward.db" "$WORK/pristine.db"
	echo "$key" > "$FULL/.filled"
	echo "$FILL_MS" > "$FULL/.fill_ms"
else
	write_conf "$FULL"
	log "reusing the store with $NBANS bans in $FULL"
	FILL_MS=$(cat "$FULL/.fill_ms")
fi
DB_BYTES=$(stat -c %s "$WORK/pristine.db")

EMPTY=$WORK/empty
rm -rf "$EMPTY"; write_conf "$EMPTY"

printf 'time\tstore\tbans\trun\tready_log_ms\tfirst_answer_ms\trss_kb\thwm_kb\tpolicy_rps\tpolicy_p99_us\tmismatches\tverified\n' > "$TSV"
for r in $(seq "$RUNS"); do
	for which in full empty; do
		if [ $which = full ]; then dir=$FULL; n=$NBANS; else dir=$EMPTY; n=0; fi
		[ $which = empty ] && [ "$r" -gt 1 ] && continue
		if [ $which = full ]; then
			rm -f "$FULL/mailward.db-wal" "$FULL/mailward.db-shm"
			cp "$WORK/pristine.db" "$FULL/mailward.db"
		fi
		start_measure "$dir"
		rps=NA; p99=NA; mism=NA; ver=NA
		if [ $which = full ]; then
			out=$("$BIN/policy-load" -t "tcp:127.0.0.1:$PORT" -c 16 -n 200000 \
			    -w 2000 -d 5 --ips "$WORK/banned-sample.txt" --verify rules \
			    --seed "$r" 2>>"$WORK/policy-load.log") || true
			for kv in $out; do
				case $kv in
				rps=*) rps=${kv#*=} ;; p99_us=*) p99=${kv#*=} ;;
				mismatches=*) mism=${kv#*=} ;; verified=*) ver=${kv#*=} ;;
				esac
			done
		fi
		stop_daemon
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		    "$(date -u +%H:%M:%S)" "$which" "$n" "$r" "$T_LOG" "$T_ANS" \
		    "$RSS" "$HWM" "$rps" "$p99" "$mism" "$ver" >> "$TSV"
		log "$which ($n bans) run $r: ready log ${T_LOG} ms, first answer ${T_ANS} ms, RSS ${RSS} kB (peak ${HWM} kB), policy ${rps} req/s, mismatches ${mism}"
	done
done

# ---- report
awk -F'\t' -v n="$NBANS" -v st="$START_TARGET_S" -v mt="$RSS_TARGET_MB" \
    -v fill="$FILL_MS" -v db="$DB_BYTES" -v stamp="$STAMP" \
    -v host="$(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)" \
    -v rev="$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')" '
function median(a, k,   i, j, t) {
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
NR == 1 { next }
$2 == "full" { k++; ans[k] = $6; lg[k] = ($5 == "NA" ? $6 : $5); rss[k] = $7; hwm[k] = $8
	rps[k] = $9; p99[k] = $10; mism += $11; ver += $12 }
$2 == "empty" { e_ans = $6; e_rss = $7; e_hwm = $8 }
END {
	printf "# Ban start-up benchmark %s\n\n", stamp
	printf "- mailwardd %s (Release), %s\n", rev, host
	printf "- store: %d bans written by ban-fill in %.1f s; database files %.0f MB\n\n", n, fill / 1000, db / 1e6
	printf "| store | runs | ready (log line) ms, median | first answer ms, median (min-max) | RSS after start kB, median | peak RSS kB | policy req/s (16 conns) | p99 us |\n"
	printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
	lo = hi = ans[1]; for (i = 1; i <= k; i++) { if (ans[i] < lo) lo = ans[i]; if (ans[i] > hi) hi = ans[i]; if (hwm[i] > mh) mh = hwm[i] }
	for (i = 1; i <= k; i++) { a1[i] = lg[i]; a2[i] = ans[i]; a3[i] = rss[i]; a4[i] = rps[i]; a5[i] = p99[i] }
	ml = median(a1, k); ma = median(a2, k); mr = median(a3, k); mp = median(a4, k); m9 = median(a5, k)
	printf "| %d bans | %d | %d | %d (%d-%d) | %d | %d | %.0f | %.1f |\n", n, k, ml, ma, lo, hi, mr, mh, mp, m9
	printf "| empty | 1 | - | %d | %d | %d | - | - |\n\n", e_ans, e_rss, e_hwm
	printf "```\n"
	t = (ml > ma ? ml : ma) / 1000
	printf "%s  start-up with %d bans: %.2f s (ready and answering); target < %d s\n", t < st ? "PASS" : "FAIL", n, t, st
	printf "%s  memory with %d bans: %.1f MB (10^6 bytes) RSS after start (peak %.1f MB); target < %d MB\n", mr * 1.024 / 1000 < mt ? "PASS" : "FAIL", n, mr * 1.024 / 1000, mh * 1.024 / 1000, mt
	printf "info  with the bans loaded: %d policy answers verified (banned -> reject, others -> pass), %d mismatches\n", ver, mism
	printf "```\n"
}' "$TSV" > "$MD"
cat "$MD"
log "results: $TSV, $MD"
