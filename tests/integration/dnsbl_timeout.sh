#!/bin/bash
# dnsbl_timeout - a DNSBL server that never answers must not delay the
# verdict beyond [dnsbl] timeout: mailwardd answers DUNNO (fail open)
# within timeout + 0.5 s, counts the timeout (mailward status --json), and
# a deny-list entry is still refused at once (it never fails open).
. "$(dirname "$0")/lib.sh"
mw_init dnsbl_timeout

start_blackhole_dns
mw_write_config "$T/mailward.conf" "[dnsbl]
resolver = 127.0.0.1:$MW_DNS_PORT
timeout = 1s
threshold = 2

[dnsbl:zen]
preset = spamhaus-zen
zone = zen.dnsbl.test

[dnsbl:cop]
preset = spamcop
zone = cop.dnsbl.test

[lists]
deny = 127.0.0.20"
start_mailwardd

LIMIT_MS=1500	# timeout 1 s + 0.5 s

# timed_query DESC ADDR PATTERN MAX_MS
timed_query() {
	local desc=$1 addr=$2 pat=$3 max=$4 t0 t1 got
	t0=$(now_ms)
	got=$(policy_query "$addr")
	t1=$(now_ms)
	if printf '%s' "$got" | grep -qE "$pat" && [ $((t1 - t0)) -le "$max" ]; then
		ok "$desc: $got in $((t1 - t0)) ms (limit $max ms)"
	else
		fail "$desc: want /$pat/ within $max ms, got '$got' in $((t1 - t0)) ms"
	fi
}

timed_query "silent DNSBL server, two zones in parallel: fail open" 127.0.0.2 '^DUNNO$' $LIMIT_MS
timed_query "another address, same silent server" 127.0.0.3 '^DUNNO$' $LIMIT_MS
timed_query "IPv6 client, same silent server" 2001:db8::5 '^DUNNO$' $LIMIT_MS
timed_query "deny list does not wait for the DNSBL" 127.0.0.20 '^(REJECT|5[0-9][0-9])' 500

# Authenticated: direct query with sasl_username (timed separately).
t0=$(now_ms)
got=$(policy_query 127.0.0.5 sasl_method=PLAIN sasl_username=alice server_port=587)
t1=$(now_ms)
if [ "$got" = DUNNO ] && [ $((t1 - t0)) -le 500 ]; then
	ok "authenticated client skips the DNSBL: $got in $((t1 - t0)) ms"
else
	fail "authenticated client skips the DNSBL: want DUNNO within 500 ms, got '$got' in $((t1 - t0)) ms"
fi

# Several requests at once: each bounded, none serialized behind another.
t0=$(now_ms)
pids=()
for i in 11 12 13 14 15 16; do
	policy_query 127.0.1.$i >"$T/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
t1=$(now_ms)
bad=0
for i in 11 12 13 14 15 16; do
	[ "$(cat "$T/par.$i")" = DUNNO ] || bad=$((bad + 1))
done
if [ "$bad" -eq 0 ] && [ $((t1 - t0)) -le 2500 ]; then
	ok "6 parallel requests, all DUNNO in $((t1 - t0)) ms"
else
	fail "6 parallel requests: $bad not DUNNO, $((t1 - t0)) ms (limit 2500)"
fi

if mwcli status --json >"$T/status.json"; then
	ok "cli: status --json"
	timeouts=$($MW_HELPER json-get "$T/status.json" dnsbl.timeouts)
	if [ -n "$timeouts" ] && [ "$timeouts" -ge 1 ] 2>/dev/null; then
		ok "status counts DNSBL timeouts: dnsbl.timeouts = $timeouts"
	else
		fail "status counts DNSBL timeouts: dnsbl.timeouts = '${timeouts:-absent}'"
		sed 's/^/     | /' "$T/status.json"
	fi
	fo=$($MW_HELPER json-get "$T/status.json" engine.dnsbl_fail_open)
	if [ -n "$fo" ] && [ "$fo" -ge 1 ] 2>/dev/null; then
		ok "status counts fail-open decisions: engine.dnsbl_fail_open = $fo"
	else
		fail "status counts fail-open decisions: engine.dnsbl_fail_open = '${fo:-absent}'"
	fi
else
	fail "cli: status --json (exit $?): $(cat "$T/cli.last.err")"
fi
if grep -qiE 'dnsbl.*tim(e|ed) ?out|timeout' "$MW_DAEMON_LOG"; then
	ok "daemon log mentions the DNSBL timeout"
else
	fail "daemon log mentions the DNSBL timeout"
fi
stop_mailwardd
mw_done
