#!/bin/bash
# run-policy.sh - Postfix policy-delegation benchmark: mailwardd beside the
# minimal always-DUNNO server (the protocol's limit), postfwd and
# policyd-weight, with one workload, in one run.
#
#   sudo bench/install-deps.sh && sudo bench/run-policy.sh [options]
#
#   --conns 1,16,64       connection levels
#   --runs N              timed runs per server and level (default 3)
#   --requests N          requests per timed run, all connections (1000000)
#   --duration S          time cap of a timed run, seconds (10)
#   --warmup N            warm-up requests before each timed run (2000)
#   --pool N              client addresses (1000)
#   --sasl-frac F         authenticated fraction (0.2)
#   --shape S             postfix (Postfix 3.7's attributes in its order) or
#                         shuffled (32 attributes, a random order in every
#                         request)
#   --servers LIST        subset of: trivial,mailward,postfwd,policyd-weight
#   --mailwardd PATH      daemon binary (default: built in $MW_BUILD)
#   --extra-mailwardd NAME=PATH
#                         also measure a second mailwardd binary (an A/B
#                         test of a change, in the same run, as server NAME)
#   --no-build            use the binaries as they are
#   --quick               = --runs 1 --duration 5 --requests 300000
#   --perf                also profile mailwardd and the trivial server (perf
#                         record -g) during their last run at the highest
#                         level, over each transport
#
# Everything runs inside `unshare --net --mount` (the script re-executes
# itself): only a fresh loopback exists there, rbldnsd serves the test
# DNSBL zone on 127.0.0.1:53, /etc/resolv.conf is bind-mounted (in the
# private mount namespace only) to point at it, and a private /dev carries
# a /dev/log served by log-sink, because policyd-weight and postfwd resolve
# through the system resolver on port 53 and log through syslog. At exit
# every process this script started is stopped by PID.
#
# Results: bench/results/policy-<UTC time>.tsv (every run) and .md (the
# table, ratios and target checks). Work files: bench/work/policy/
# (BENCH_WORK overrides bench/work).
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
WORK=${BENCH_WORK:-$BENCH/work}/policy
MW_BUILD=${MW_BUILD:-$TOP/build-bench}
RESULTS=$BENCH/results

CONNS=1,16,64
RUNS=3
REQUESTS=1000000
DURATION=10
WARMUP=2000
POOL=1000
SASL_FRAC=0.2
SHAPE=postfix
SERVERS=trivial,mailward,postfwd,policyd-weight
MAILWARDD=
EXTRA_MW=
BUILD=1
PERF=0

usage() { sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

args=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--conns) CONNS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--requests) REQUESTS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--pool) POOL=$2; shift 2 ;;
	--sasl-frac) SASL_FRAC=$2; shift 2 ;;
	--shape) SHAPE=$2; shift 2 ;;
	--servers) SERVERS=$2; shift 2 ;;
	--mailwardd) MAILWARDD=$2; shift 2 ;;
	--extra-mailwardd) EXTRA_MW=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--quick) RUNS=1; DURATION=5; REQUESTS=300000; shift ;;
	--perf) PERF=1; shift ;;
	-h|--help) usage ;;
	*) echo "run-policy.sh: unknown option $1" >&2; usage ;;
	esac
done
has_server() { case ",$SERVERS," in *",$1,"*) return 0 ;; esac; return 1; }
log() { printf '%s run-policy: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- outside
if [ -z "${MW_BENCH_SANDBOX:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0): the sandbox needs a network namespace and port 53"
	for t in unshare ip rbldnsd; do
		command -v "$t" >/dev/null || die "$t missing: run bench/install-deps.sh"
	done
	if [ "$BUILD" = 1 ]; then
		make -s -C "$BENCH" >&2
		if has_server mailward && [ -z "$MAILWARDD" ]; then
			log "building mailward in $MW_BUILD (Release, -j2)"
			if ! { cmake -S "$TOP" -B "$MW_BUILD" -DCMAKE_BUILD_TYPE=Release \
			    -DMW_TESTS=OFF -DCMAKE_C_FLAGS=-Wno-error=maybe-uninitialized >/dev/null &&
			    cmake --build "$MW_BUILD" -j2 --target mailwardd >/dev/null; }; then
				log "mailward build failed: measuring without it"
				SERVERS=$(echo ",$SERVERS," | sed 's/,mailward,/,/; s/^,//; s/,$//')
				args+=(--servers "$SERVERS")
			fi
		fi
	fi
	mkdir -p "$WORK" "$RESULTS"
	export MW_BENCH_SANDBOX=1
	exec unshare --net --mount --propagation private -- "$0" "${args[@]}"
fi

# ---------------------------------------------------------------- inside
BIN=$BENCH/bin
[ -n "$MAILWARDD" ] || MAILWARDD=$MW_BUILD/src/daemon/mailwardd
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TSV=$RESULTS/policy-$STAMP.tsv
MD=$RESULTS/policy-$STAMP.md
ZONE=dnsbl.bench.test
PIDS=()			# started servers (roots of process trees)
declare -A SRV_PID	# server name -> root pid

# All descendants of $1, and $1.
tree_pids() {
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			q[1] = root; n = 1; i = 1
			while (i <= n) {
				p = q[i++]; print p
				m = split(kids[p], k, " ")
				for (j = 1; j <= m; j++) q[++n] = k[j]
			}
		}'
}

# Resident set of the whole tree, kB.
tree_rss() {
	local sum=0 p v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# CPU time of the tree (user + system, with reaped children), clock ticks.
tree_ticks() {
	local sum=0 p v
	for p in $(tree_pids "$1"); do
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null |
		    awk '{ print $12 + $13 + $14 + $15 }' || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# "total steal" jiffies of all CPUs.
cpu_steal() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9 }' /proc/stat; }

stop_tree() {
	local root=$1 p pids
	pids=$(tree_pids "$root" | tr '\n' ' ')
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 30); do
		local alive=0
		for p in $pids; do [ -d "/proc/$p" ] && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
}

cleanup() {
	local i netns p
	set +e
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_tree "${PIDS[$i]}"; done
	# Anything left in this network namespace was started by us.
	netns=$(readlink /proc/$$/ns/net)
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] && continue
		[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$netns" ] || continue
		grep -qE 'postfwd|policyd-weight|rbldnsd|mailwardd|trivial-policyd|log-sink|policy-load' \
		    "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until SPEC answers a policy request (bounded: 15 s).
wait_ready() {
	local name=$1 spec=$2 pid=$3
	for _ in $(seq 150); do
		[ -d "/proc/$pid" ] || die "$name exited at start (see $WORK/$name.log)"
		if "$BIN/policy-load" -t "$spec" -c 1 -n 1 -w 0 -d 2 --timeout 2 \
		    --ips "$WORK/fixtures/ips.txt" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	die "$name does not answer on $spec (see $WORK/$name.log)"
}

# ---- the sandbox
ip link set lo up
# A private /dev: the real nodes bind-mounted, plus our own /dev/log.
mkdir -p "$WORK/dev"
mount -t tmpfs -o mode=0755,size=1m bench-dev "$WORK/dev"
for n in null zero full random urandom tty; do
	[ -e "/dev/$n" ] || continue
	touch "$WORK/dev/$n"
	mount --bind "/dev/$n" "$WORK/dev/$n"
done
for d in pts shm; do
	[ -d "/dev/$d" ] || continue
	mkdir -p "$WORK/dev/$d"
	mount --bind "/dev/$d" "$WORK/dev/$d"
done
ln -s /proc/self/fd "$WORK/dev/fd"
ln -s /proc/self/fd/0 "$WORK/dev/stdin"
ln -s /proc/self/fd/1 "$WORK/dev/stdout"
ln -s /proc/self/fd/2 "$WORK/dev/stderr"
mount --move "$WORK/dev" /dev
# Resolver: the benchmark's rbldnsd only.
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' > "$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
# Names the Perl peers may look up are answered from /etc/hosts only.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' > "$WORK/hosts"
mount --bind "$WORK/hosts" /etc/hosts

"$BIN/log-sink" -s /dev/log -o "$WORK/syslog.txt" --keep 2000 2>"$WORK/log-sink.log" &
PIDS+=($!)

# ---- fixtures
rm -rf "$WORK/fixtures"
"$BIN/policy-load" --fixtures "$WORK/fixtures" --pool "$POOL" --seed 1
chmod 755 "$WORK" "$WORK/fixtures"
chmod 644 "$WORK/fixtures/"*
IPS=$WORK/fixtures/ips.txt

# ---- rbldnsd on 127.0.0.1:53
rbldnsd -n -u rbldns -b 127.0.0.1/53 -w "$WORK/fixtures" -t 3600 \
    "$ZONE:ip4set:dnsbl.ip4set" "$ZONE:ip6trie:dnsbl.ip6trie" \
    >"$WORK/rbldnsd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	getent hosts "2.0.0.127.$ZONE" >/dev/null 2>&1 && break
	sleep 0.1
done
getent hosts "2.0.0.127.$ZONE" >/dev/null 2>&1 ||
    die "rbldnsd does not answer 2.0.0.127.$ZONE (see $WORK/rbldnsd.log)"
getent hosts "1.0.0.127.$ZONE" >/dev/null 2>&1 &&
    die "rbldnsd lists 127.0.0.1: zone data wrong"

# ---- servers. Each: name, transport, spec, verify model.
TARGETS=()
VERSIONS=()

if has_server trivial; then
	mkdir -p "$WORK/trivial"
	"$BIN/trivial-policyd" -l "unix:$WORK/trivial/policy.sock" \
	    -l tcp:127.0.0.1:10030 2>"$WORK/trivial.log" &
	SRV_PID[trivial]=$!; PIDS+=($!)
	wait_ready trivial "unix:$WORK/trivial/policy.sock" $!
	wait_ready trivial tcp:127.0.0.1:10030 "${SRV_PID[trivial]}"
	TARGETS+=("trivial unix unix:$WORK/trivial/policy.sock none"
	    "trivial tcp tcp:127.0.0.1:10030 none")
fi

# start_mailward NAME BINARY TCP_PORT: config, start, wait, add targets.
start_mailward() {
	local name=$1 bin=$2 port=$3 dir=$WORK/$1 c
	[ -x "$bin" ] || die "no mailwardd at $bin (build the project or pass --mailwardd)"
	rm -rf "$dir"; mkdir -p "$dir"
	{
		echo "# written by bench/run-policy.sh"
		echo "[daemon]"
		echo "state_dir = $dir"
		echo "user ="
		echo "log_level = info"
		echo "[policy]"
		echo "listen = 127.0.0.1:$port"
		echo "unix_socket = $dir/policy.sock"
		echo "unix_socket_mode = 0666"
		echo "max_connections = 5000"
		echo "[admin]"
		echo "socket = $dir/admin.sock"
		echo "[dnsbl]"
		echo "resolver = 127.0.0.1:53"
		echo "timeout = 2s"
		echo "threshold = 2"
		echo "action = reject"
		# The benchmark measures cached DNSBL answers: keep every
		# answer of the warm-up for the whole run.
		echo "cache_min_ttl = 1h"
		echo "negative_ttl = 1h"
		echo "[dnsbl:bench]"
		echo "zone = $ZONE"
		echo "weights = 127.0.0.2=2"
		echo "[lists]"
		while read -r c; do echo "allow = $c"; done < "$WORK/fixtures/allow.cidr"
		while read -r c; do echo "deny = $c"; done < "$WORK/fixtures/deny.cidr"
	} > "$dir/mailward.conf"
	# The dashboard (a0bd1d5 and older have none) listens on a fixed port
	# by default: off, so that two daemons can run side by side.
	cp "$dir/mailward.conf" "$dir/with-dashboard.conf"
	printf '[dashboard]\nenabled = no\n' >> "$dir/with-dashboard.conf"
	if "$bin" -t -c "$dir/with-dashboard.conf" >/dev/null 2>&1; then
		mv "$dir/with-dashboard.conf" "$dir/mailward.conf"
	else
		rm -f "$dir/with-dashboard.conf"
	fi
	"$bin" -c "$dir/mailward.conf" -f >"$WORK/$name.log" 2>&1 &
	SRV_PID[$name]=$!; PIDS+=($!)
	wait_ready "$name" "tcp:127.0.0.1:$port" "${SRV_PID[$name]}"
	wait_ready "$name" "unix:$dir/policy.sock" "${SRV_PID[$name]}"
	TARGETS+=("$name unix unix:$dir/policy.sock rules"
	    "$name tcp tcp:127.0.0.1:$port rules")
}

if has_server mailward; then
	start_mailward mailward "$MAILWARDD" 10045
	VERSIONS+=("mailwardd $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?') (Release build, $MAILWARDD)")
fi
if [ -n "$EXTRA_MW" ]; then
	start_mailward "${EXTRA_MW%%=*}" "${EXTRA_MW#*=}" 10046
	VERSIONS+=("${EXTRA_MW%%=*}: ${EXTRA_MW#*=} (a second mailwardd, same config)")
fi

if has_server postfwd; then
	PF=$WORK/postfwd
	rm -rf "$PF"; mkdir -p "$PF"; chmod 777 "$PF"
	allow=$(paste -sd, "$WORK/fixtures/allow.cidr")
	deny=$(paste -sd, "$WORK/fixtures/deny.cidr")
	cat > "$PF/postfwd.cf" <<-EOF
	# written by bench/run-policy.sh: allow > deny > authenticated > DNSBL > DUNNO
	id=ALLOW; client_address=$allow; action=DUNNO
	id=DENY; client_address=$deny; action=REJECT denied by the deny list
	id=SASL; sasl_username=~.; action=DUNNO
	id=RBL; rbl=$ZONE; action=REJECT listed in $ZONE
	id=DEFAULT; action=DUNNO
	EOF
	postfwd2 -u nobody -g nogroup -f "$PF/postfwd.cf" -i 127.0.0.1 -p 10040 \
	    --cache_proto unix --cache_port "$PF/cache.sock" \
	    --pidfile "$PF/postfwd.pid" >"$WORK/postfwd.log" 2>&1 &
	# postfwd2 daemonizes: its master is the pid in the pid file.
	for _ in $(seq 100); do [ -s "$PF/postfwd.pid" ] && break; sleep 0.1; done
	[ -s "$PF/postfwd.pid" ] || die "postfwd2 did not start (see $WORK/postfwd.log)"
	SRV_PID[postfwd]=$(tr -dc 0-9 < "$PF/postfwd.pid"); PIDS+=("${SRV_PID[postfwd]}")
	wait_ready postfwd tcp:127.0.0.1:10040 "${SRV_PID[postfwd]}"
	TARGETS+=("postfwd tcp tcp:127.0.0.1:10040 rules")
	VERSIONS+=("postfwd2 $(dpkg-query -W -f '${Version}' postfwd 2>/dev/null)")
fi

if has_server policyd-weight; then
	PW=$WORK/policyd-weight
	rm -rf "$PW"; mkdir -p "$PW/lock"; chown polw "$PW/lock" 2>/dev/null || chmod 777 "$PW/lock"
	cat > "$PW/policyd-weight.conf" <<-EOF
	# written by bench/run-policy.sh: DNSBL checks only, the benchmark zone only
	\$DEBUG = 0;
	\$dnsbl_checks_only = 1;
	@dnsbl_score = ('$ZONE', 4.35, 0, 'BENCH_BL');
	\$MAXDNSBLHITS = 1;
	\$MAXDNSBLSCORE = 1;
	\$MAXDNSBLMSG = '550 Your MTA is listed in $ZONE';
	@rhsbl_score = ();
	\$LOCKPATH = '$PW/lock/';
	\$SPATH = \$LOCKPATH.'/polw.sock';
	\$PIDFILE = '$PW/policyd-weight.pid';
	\$TCP_PORT = 12525;
	\$BIND_ADDRESS = '127.0.0.1';
	\$USER = 'polw';
	\$MAX_PROC = 100;
	\$MIN_PROC = 3;
	1;
	EOF
	policyd-weight -f "$PW/policyd-weight.conf" start >"$WORK/policyd-weight.log" 2>&1 || true
	for _ in $(seq 100); do [ -s "$PW/policyd-weight.pid" ] && break; sleep 0.1; done
	[ -s "$PW/policyd-weight.pid" ] || die "policyd-weight did not start (see $WORK/policyd-weight.log)"
	SRV_PID[policyd-weight]=$(tr -dc 0-9 < "$PW/policyd-weight.pid"); PIDS+=("${SRV_PID[policyd-weight]}")
	wait_ready policyd-weight tcp:127.0.0.1:12525 "${SRV_PID[policyd-weight]}"
	TARGETS+=("policyd-weight tcp tcp:127.0.0.1:12525 dnsbl")
	VERSIONS+=("policyd-weight $(dpkg-query -W -f '${Version}' policyd-weight 2>/dev/null)")
fi

[ ${#TARGETS[@]} -gt 0 ] || die "no servers selected"
# Measure each server right after the trivial server of its transport:
# unix first, then TCP, so that the ratios compare neighbouring minutes.
ordered=()
for tr in unix tcp; do
	for t in "${TARGETS[@]}"; do
		read -r _ transport _ <<< "$t"
		[ "$transport" = "$tr" ] && ordered+=("$t")
	done
done
TARGETS=("${ordered[@]}")

# ---- the runs: for each run, level and server, so that every server is
# measured under the same conditions of the shared machine.
printf 'time\ttarget\ttransport\tconns\trun\trequests\tseconds\trps\tp50_us\tp90_us\tp99_us\tp999_us\tmax_us\tmean_us\terrors\ttimeouts\tmalformed\tmismatches\tverified\tpass\treject\tdefer\tother\tcapped\trss_kb\tcpu_us_per_req\tsteal_pct\n' > "$TSV"
TCK=$(getconf CLK_TCK)
IFS=, read -r -a LEVELS <<< "$CONNS"
log "servers: ${SERVERS}; levels ${CONNS}; $RUNS run(s) of $REQUESTS requests or ${DURATION}s each"
for run in $(seq "$RUNS"); do
	for c in "${LEVELS[@]}"; do
		for t in "${TARGETS[@]}"; do
			read -r name transport spec model <<< "$t"
			pid=${SRV_PID[$name]}
			perf_pid=
			if [ "$PERF" = 1 ] && { [ "${name#mailward}" != "$name" ] || [ "$name" = trivial ]; } && [ "$run" = "$RUNS" ] &&
			    [ "$c" = "${LEVELS[-1]}" ] && command -v perf >/dev/null; then
				perf record -q -F 999 -g -p "$pid" -o "$WORK/perf-$name-$transport.data" \
				    -- sleep "$DURATION" >/dev/null 2>&1 &
				perf_pid=$!
			fi
			t0=$(tree_ticks "$pid"); read -r s_tot0 s_st0 <<< "$(cpu_steal)"
			out=$("$BIN/policy-load" -t "$spec" -c "$c" -n "$REQUESTS" \
			    -w "$WARMUP" -d "$DURATION" --sasl-frac "$SASL_FRAC" --shape "$SHAPE" \
			    --seed "$run" --ips "$IPS" --verify "$model" \
			    2>>"$WORK/policy-load.log") || true
			t1=$(tree_ticks "$pid"); read -r s_tot1 s_st1 <<< "$(cpu_steal)"
			if [ -n "$perf_pid" ]; then
				kill -INT "$perf_pid" 2>/dev/null || true
				wait "$perf_pid" 2>/dev/null || true
				pf=$RESULTS/policy-$STAMP-perf-$name-$transport.txt
				{
					echo "# perf record -F 999 -g -p PID ($name) during $name $transport c=$c run $run"
					echo "# CPU share per thread:"
					perf report -i "$WORK/perf-$name-$transport.data" --stdio \
					    --no-children -s pid -g none 2>/dev/null | grep -v '^#' | grep -v '^$'
					echo "# self time per symbol (>= 0.7 %):"
					perf report -i "$WORK/perf-$name-$transport.data" --stdio \
					    --no-children -s pid,dso,sym --percent-limit 0.7 -g none \
					    2>/dev/null | grep -v '^#' | grep -v '^$'
					echo "# with callees (children), >= 3 %:"
					perf report -i "$WORK/perf-$name-$transport.data" --stdio \
					    --children -s sym --percent-limit 3 -g none \
					    2>/dev/null | grep -v '^#' | grep -v '^$'
				} > "$pf" || true
			fi
			rss=$(tree_rss "$pid")
			if [ -z "$out" ]; then
				log "$name/$transport c=$c run $run: no result (see $WORK/policy-load.log)"
				continue
			fi
			declare -A R=()
			for kv in $out; do R[${kv%%=*}]=${kv#*=}; done
			total=$(( ${R[requests]} + ${R[warmup]} ))
			cpu=$(awk -v d=$((t1 - t0)) -v tck="$TCK" -v n="$total" \
			    'BEGIN { printf "%.2f", n ? d / tck * 1e6 / n : 0 }')
			steal=$(awk -v a=$((s_st1 - s_st0)) -v b=$((s_tot1 - s_tot0)) \
			    'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
			    "$(date -u +%H:%M:%S)" "$name" "$transport" "$c" "$run" \
			    "${R[requests]}" "${R[seconds]}" "${R[rps]}" "${R[p50_us]}" \
			    "${R[p90_us]}" "${R[p99_us]}" "${R[p999_us]}" "${R[max_us]}" \
			    "${R[mean_us]}" "${R[errors]}" "${R[timeouts]}" \
			    "${R[malformed]}" "${R[mismatches]}" "${R[verified]}" \
			    "${R[pass]}" "${R[reject]}" "${R[defer]}" "${R[other]}" \
			    "${R[capped]}" "$rss" "$cpu" "$steal" >> "$TSV"
			log "$(printf '%-15s %-4s c=%-3s run %s: %9.0f req/s  p50 %8.1f  p99 %9.1f us  rss %7s kB  cpu %6s us/req  mism %s' \
			    "$name" "$transport" "$c" "$run" "${R[rps]}" "${R[p50_us]}" \
			    "${R[p99_us]}" "$rss" "$cpu" "${R[mismatches]}")"
		done
	done
done

# ---- report
{
	echo "# Policy benchmark $STAMP"
	echo
	echo "- host: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
	echo "- command: \`bench/run-policy.sh --conns $CONNS --runs $RUNS --requests $REQUESTS --duration $DURATION --warmup $WARMUP --pool $POOL --sasl-frac $SASL_FRAC --shape $SHAPE --servers $SERVERS${EXTRA_MW:+ --extra-mailwardd $EXTRA_MW}\`"
	for v in "${VERSIONS[@]}"; do echo "- $v"; done
	echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other sessions share the 2 cores: figures are noisy)"
	echo
	python3 "$BENCH/lib/policy-report.py" "$TSV"
} > "$MD"
cat "$MD"
log "results: $TSV, $MD"
