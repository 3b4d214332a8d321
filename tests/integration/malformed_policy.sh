#!/bin/bash
# malformed_policy - hostile bytes on the policy port: each malformed
# request gets "action=DEFER_IF_PERMIT ..." and the connection is closed;
# the daemon keeps serving an already open connection and new ones, and
# counts the malformed requests (mailward status --json).
. "$(dirname "$0")/lib.sh"
mw_init malformed_policy

mw_write_config "$T/mailward.conf" "[lists]
deny = 198.51.100.0/24"
start_mailwardd

check "a connection opened before the attack" policy_conn_open

# send_raw DESC PY_BYTES_EXPR [strict]: the reply must be DEFER_IF_PERMIT
# followed by a close (non-strict: a close without a reply is accepted too,
# for input so large the daemon may reset the connection mid-send).
n_bad=0
send_raw() {
	local desc=$1 expr=$2 mode=${3:-strict} out
	out=$($MW_HELPER send 127.0.0.1 "$MW_POLICY_PORT" "$expr" 5)
	n_bad=$((n_bad + 1))
	if printf '%s\n' "$out" | grep -q '^action=DEFER_IF_PERMIT' &&
	    printf '%s\n' "$out" | grep -q '^closed$'; then
		ok "$desc: DEFER_IF_PERMIT, then closed"
	elif [ "$mode" != strict ] && printf '%s\n' "$out" | grep -q '^closed$' &&
	    ! printf '%s\n' "$out" | grep -q '^action=' ; then
		ok "$desc: connection closed"
	else
		fail "$desc: want DEFER_IF_PERMIT and close, got: $(printf '%s' "$out" | head -c 300 | tr '\n' '|')"
	fi
	check "  daemon alive after: $desc" kill -0 "$MW_DAEMON_PID"
}

send_raw "line without =" 'b"hello world\n\n"'
send_raw "empty name" 'b"=192.0.2.1\n\n"'
send_raw "empty request" 'b"\n"'
send_raw "NUL byte in a value" 'b"request=smtpd_access_policy\nclient_address=192.0.2.1\x00\n\n"'
send_raw "control character in helo_name" 'b"request=smtpd_access_policy\nhelo_name=a\x01b\nclient_address=192.0.2.1\n\n"'
send_raw "8 KiB line" 'b"request=smtpd_access_policy\nhelo_name=" + b"A" * 8192 + b"\nclient_address=192.0.2.1\n\n"'
send_raw "1000 attributes" 'b"request=smtpd_access_policy\n" + b"".join(b"x%d=y\n" % i for i in range(1000)) + b"\n"'
send_raw "64 KiB request of short lines" 'b"request=smtpd_access_policy\n" + b"helo_name=abcdefghijklmnopqrstuvwxyz0123456789\n" * 2000 + b"\n"' loose
send_raw "1 MiB without a newline" 'b"A" * (1 << 20)' loose
send_raw "binary garbage" 'bytes(range(256)) * 8' loose

# CRLF line ends are not what Postfix sends; "\r" is a control character.
out=$($MW_HELPER send 127.0.0.1 "$MW_POLICY_PORT" \
    'b"request=smtpd_access_policy\r\nclient_address=192.0.2.1\r\n\r\n"' 3)
if printf '%s' "$out" | grep -q '^action='; then
	ok "CRLF request answered: $(printf '%s' "$out" | head -n1)"
else
	fail "CRLF request answered (got: $(printf '%s' "$out" | tr '\n' '|'))"
fi
check "daemon alive after CRLF request" kill -0 "$MW_DAEMON_PID"

# A request cut short, then the client goes away.
$MW_HELPER send 127.0.0.1 "$MW_POLICY_PORT" 'b"request=smtpd_access_policy\nclient_addr"' 0.3 >/dev/null
check "daemon alive after a half request and a close" kill -0 "$MW_DAEMON_PID"

# Values that parse but are not usable addresses: no crash, some answer.
expect_policy "client_address=not-an-ip" not-an-ip '^(DUNNO|DEFER_IF_PERMIT)'
expect_policy "client_address=999.1.1.1" 999.1.1.1 '^(DUNNO|DEFER_IF_PERMIT)'
expect_policy "client_address with a prefix length (198.51.100.1/24)" 198.51.100.1/24 '^(DUNNO|DEFER_IF_PERMIT)'
expect_policy "client_address empty" '' '^(DUNNO|DEFER_IF_PERMIT)'

# 50 idle connections do not starve others.
idle=()
for i in $(seq 50); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$MW_POLICY_PORT" && idle+=("$fd")
done
note "${#idle[@]} idle connections open"
expect_policy "new connection answered while 50 sit idle" 198.51.100.9 '^(REJECT|5[0-9][0-9])'
for fd in "${idle[@]}"; do exec {fd}>&-; done

got=$(policy_conn_query 198.51.100.7)
if printf '%s' "$got" | grep -qE '^(REJECT|5[0-9][0-9])'; then
	ok "connection opened before the attack still served: $got"
else
	fail "connection opened before the attack still served: got $got"
fi
got=$(policy_conn_query 192.0.2.1)
check "and again on the same connection: $got" test "$got" = DUNNO
policy_conn_close

if mwcli status --json >"$T/status.json"; then
	m=$($MW_HELPER json-get "$T/status.json" listeners.policy.malformed)
	if [ -n "$m" ] && [ "$m" -ge 7 ] 2>/dev/null; then
		ok "status counts malformed requests: listeners.policy.malformed = $m"
	else
		fail "status counts malformed requests: listeners.policy.malformed = '${m:-absent}' (want >= 7)"
	fi
else
	fail "cli: status --json"
fi
check "the daemon logged malformed requests" grep -qi 'malformed' "$MW_DAEMON_LOG"
stop_mailwardd
mw_done
