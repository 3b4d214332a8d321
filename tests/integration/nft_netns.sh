#!/bin/bash
# nft_netns - bans enforced in the kernel: mailwardd (with its nftables
# helper) runs inside a network namespace the test creates, joined by a
# veth pair to a second namespace holding the "client". Checks, with real
# TCP connections and the kernel's own set listing:
#   - a banned client's connection to a mail port is dropped (timeout),
#     another port and an unbanned client are not; IPv4 and IPv6
#   - unban: it connects again; an allow-list entry wins over a ban
#   - kill -9 and start again: the table is reloaded from the store in
#     one transaction (the ban is back; a stray element is gone)
#   - a ban made by the login guard (auth failures in a mail log) too
#   - a ban with --for 3s ends in the kernel too
#   - the helper's worker killed: respawned, sets reloaded
#   - mailward status shows the firewall; started as non-root, the daemon
#     says "firewall disabled" with the reason and runs on
# Addresses 10.231.N.1/.2 and fd00:231:N::1/::2 exist only in the test's
# namespaces; the host's own ruleset is never touched. Skips (77) when
# not root or without netns/nftables.
. "$(dirname "$0")/lib.sh"
mw_init nft_netns

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, nftables)"
command -v ip >/dev/null || skip_all "ip (iproute2) not installed (scripts/install-deps.sh test)"
command -v nft >/dev/null || skip_all "nft not installed (scripts/install-deps.sh test)"

N=$(( ($$ % 200) + 20 ))
NS_D=mw-fwd-$$		# the daemon's side
NS_C=mw-fwc-$$		# the client's side
ADDR_D=10.231.$N.1
ADDR_C=10.231.$N.2
ADDR6_D=fd00:231:$N::1
ADDR6_C=fd00:231:$N::2
MAIL_PORT=25		# in the default [firewall] ports
OTHER_PORT=2222		# not in them

ns_cleanup() {
	local rc=$?
	[ -n "$MW_DAEMON_PID" ] && kill -KILL "$MW_DAEMON_PID" 2>/dev/null
	for p in "${MW_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	MW_DAEMON_PID=
	ip netns del "$NS_D" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	return $rc
}
trap 'ns_cleanup; mw_cleanup' EXIT

ip netns add "$NS_D" 2>"$T/netns.err" || skip_all "cannot create a network namespace: $(head -n1 "$T/netns.err")"
ip netns add "$NS_C" || { fail "second namespace created"; exit 1; }
ip link add "mwd$$" netns "$NS_D" type veth peer name "mwc$$" netns "$NS_C" ||
    { fail "veth pair created"; exit 1; }
in_d() { ip netns exec "$NS_D" "$@"; }
in_c() { ip netns exec "$NS_C" "$@"; }
in_d ip link set lo up
in_c ip link set lo up
in_d ip addr add "$ADDR_D/30" dev "mwd$$"
in_c ip addr add "$ADDR_C/30" dev "mwc$$"
in_d ip -6 addr add "$ADDR6_D/64" dev "mwd$$" nodad
in_c ip -6 addr add "$ADDR6_C/64" dev "mwc$$" nodad
in_d ip link set "mwd$$" up
in_c ip link set "mwc$$" up
in_d nft list tables >/dev/null 2>&1 || skip_all "nftables unavailable in a namespace"
ok "namespaces $NS_D ($ADDR_D, $ADDR6_D) and $NS_C ($ADDR_C, $ADDR6_C)"

# A listener in the daemon's namespace (IPv4 and IPv6, two ports), and a
# probe that says open / timeout / refused.
cat >"$T/net.py" <<'PY'
import socket, sys, threading
def serve(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port)); s.listen(64)
    while True:
        c, _ = s.accept()
        try: c.sendall(b"hello\n")
        finally: c.close()
if sys.argv[1] == "serve":
    for p in sys.argv[3:]:
        threading.Thread(target=serve, args=(int(p),), daemon=True).start()
    open(sys.argv[2], "w").close()
    threading.Event().wait()
else:  # probe HOST PORT
    try:
        c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=2)
        print("open" if c.recv(16) == b"hello\n" else "garbled")
    except socket.timeout:
        print("timeout")
    except ConnectionRefusedError:
        print("refused")
PY
ip netns exec "$NS_D" python3 "$T/net.py" serve "$T/listener.ready" \
    "$MAIL_PORT" "$OTHER_PORT" &
MW_PIDS+=($!)
wait_for 10 test -e "$T/listener.ready" || { fail "listener started"; exit 1; }

# expect_conn DESC HOST PORT open|timeout: a connection from the client's
# namespace (2 s timeout). "open" may take a second try on a loaded
# machine; a drop must hold on the first.
expect_conn() {
	local got try
	for try in 1 2 3; do
		got=$(in_c python3 "$T/net.py" probe "$2" "$3")
		[ "$got" = "$4" ] || [ "$4" != open ] && break
	done
	if [ "$got" = "$4" ] && [ "$try" = 1 ]; then ok "$1: $2:$3 $got"
	elif [ "$got" = "$4" ]; then ok "$1: $2:$3 $got (try $try)"
	else fail "$1: $2:$3 want $4, got $got (try $try)"; fi
}
# set_has SET ELEMENT: the element is in the kernel's set
set_has() { in_d nft list set inet mailward "$1" 2>/dev/null | grep -qE "[ {]$2( |,|$)"; }
set_lacks() { ! set_has "$@"; }

# start_ns_daemon: mailwardd inside $NS_D (root there; the service user
# nobody), waiting for the admin socket and the firewall's first load.
start_ns_daemon() {
	MW_DAEMON_RUNS=$((MW_DAEMON_RUNS + 1))
	MW_DAEMON_LOG=$T/mailwardd.$MW_DAEMON_RUNS.log
	rm -f "$MW_ADMIN_SOCK"
	ip netns exec "$NS_D" "$MW_DAEMON" -c "$MW_CONF" -f >"$MW_DAEMON_LOG" 2>&1 &
	MW_DAEMON_PID=$!
	if ! wait_for 30 grep -q 'firewall: table inet mailward loaded' "$MW_DAEMON_LOG"; then
		fail "mailwardd started in $NS_D and loaded the firewall"
		tail -n 30 "$MW_DAEMON_LOG" | sed 's/^/     | /'
		exit 1
	fi
	wait_for 10 test -S "$MW_ADMIN_SOCK" || { fail "admin socket"; exit 1; }
	note "mailwardd pid $MW_DAEMON_PID in $NS_D"
}

MW_DAEMON_USER=nobody
MW_POLICY_PORT=10045	# inside the namespace: nothing else listens there
mkdir -p "$T/log" && chmod 755 "$T/log"
MAILLOG=$T/log/mail.log
: >"$MAILLOG" && chmod 644 "$MAILLOG"
mw_write_config "$T/mailward.conf" "[login]
ban_after = 5
tarpit_after = 3
network_ban_after = 1000
[logwatch]
enabled = yes
files = $MAILLOG
poll_interval = 200ms

[firewall]
enabled = yes"
chmod 755 "$T"
start_ns_daemon
check "log: helper started" grep -q 'firewall: helper started (pid' "$MW_DAEMON_LOG"
helper=$(pgrep -f -u nobody -P "$MW_DAEMON_PID" mailwardd | head -n1)
check "the helper runs as nobody with CAP_NET_ADMIN only" \
    grep -q 'CapEff:.*0000000000001000' "/proc/$helper/status"
check "the daemon runs as nobody with no capability" \
    grep -q 'CapEff:.*0000000000000000' "/proc/$MW_DAEMON_PID/status"
check "table inet mailward exists in $NS_D" in_d nft list table inet mailward
if nft list table inet mailward >/dev/null 2>&1; then
	fail "the host's own ruleset has no table inet mailward"
else
	ok "the host's own ruleset has no table inet mailward"
fi

expect_conn "before any ban" "$ADDR_D" "$MAIL_PORT" open
expect_conn "before any ban (IPv6)" "$ADDR6_D" "$MAIL_PORT" open

# --- ban / unban ------------------------------------------------------------
check "cli: ban add $ADDR_C --for 1h" mwcli ban add "$ADDR_C" --for 1h --reason nft-test
check "element $ADDR_C in set ban4" wait_for 5 set_has ban4 "$ADDR_C"
check "with its timeout" bash -c "ip netns exec $NS_D nft list set inet mailward ban4 | grep -qE '$ADDR_C timeout (1h|59m)'"
expect_conn "banned" "$ADDR_D" "$MAIL_PORT" timeout
expect_conn "banned, port not in [firewall] ports" "$ADDR_D" "$OTHER_PORT" open
expect_conn "banned v4, IPv6 still fine" "$ADDR6_D" "$MAIL_PORT" open
check "drop counter counted the SYNs" bash -c "ip netns exec $NS_D nft list chain inet mailward input | grep -E '@ban4 counter packets [1-9]'"

check "cli: allow add $ADDR_C (while banned)" mwcli allow add "$ADDR_C"
check "allow set has $ADDR_C" wait_for 5 set_has allow4 "$ADDR_C"
expect_conn "banned but allowed" "$ADDR_D" "$MAIL_PORT" open
check "cli: allow del $ADDR_C" mwcli allow del "$ADDR_C"
check "allow set lost $ADDR_C" wait_for 5 set_lacks allow4 "$ADDR_C"
expect_conn "banned, no longer allowed" "$ADDR_D" "$MAIL_PORT" timeout

check "cli: ban del $ADDR_C" mwcli ban del "$ADDR_C"
check "element $ADDR_C left set ban4" wait_for 5 set_lacks ban4 "$ADDR_C"
expect_conn "unbanned" "$ADDR_D" "$MAIL_PORT" open

check "cli: ban add $ADDR6_C (IPv6)" mwcli ban add "$ADDR6_C" --for 1h
check "element $ADDR6_C in set ban6" wait_for 5 set_has ban6 "$ADDR6_C"
expect_conn "banned (IPv6)" "$ADDR6_D" "$MAIL_PORT" timeout
expect_conn "IPv6 ban, IPv4 still fine" "$ADDR_D" "$MAIL_PORT" open
check "cli: ban del $ADDR6_C" mwcli ban del "$ADDR6_C"
check "cli: ban add 10.231.$N.0/30 (network)" mwcli ban add "10.231.$N.0/30" --for 1h
check "network in set bannet4" wait_for 5 set_has bannet4 "10.231.$N.0/30"
expect_conn "banned network" "$ADDR_D" "$MAIL_PORT" timeout
check "cli: ban del 10.231.$N.0/30" mwcli ban del "10.231.$N.0/30"
expect_conn "network unbanned" "$ADDR_D" "$MAIL_PORT" open

# --- a ban by the login guard (failures in the mail log) --------------------
for i in 1 2 3 4 5; do
	printf '%s mx postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
	    "$(LC_ALL=C date '+%b %e %H:%M:%S')" $((RANDOM + 100)) "$ADDR_C" >>"$MAILLOG"
done
check "login guard: 5 SMTP AUTH failures in the log ban $ADDR_C in the kernel" wait_for 10 set_has ban4 "$ADDR_C"
mwcli ban list --json >"$T/bans.login.json"
check "the ban's source is logwatch" test "$($MW_HELPER json-find "$T/bans.login.json" address "$ADDR_C" source)" = logwatch
expect_conn "banned by the login guard" "$ADDR_D" "$MAIL_PORT" timeout
check "cli: ban del $ADDR_C" mwcli ban del "$ADDR_C"
check "element $ADDR_C left set ban4" wait_for 5 set_lacks ban4 "$ADDR_C"

# --- restart: the sets come back from the store ----------------------------
check "cli: ban add $ADDR_C --permanent" mwcli ban add "$ADDR_C" --permanent
check "element $ADDR_C in set ban4" wait_for 5 set_has ban4 "$ADDR_C"
kill9_mailwardd
ok "mailwardd killed with SIGKILL"
check "the helper exits with the daemon" wait_for 10 mw_gone "$helper"
# Lost while the daemon was down: the client's element; left over: a
# stray one. The reload must fix both in one transaction.
in_d nft delete element inet mailward ban4 "{ $ADDR_C }"
in_d nft add element inet mailward ban4 '{ 10.231.250.250 }'
expect_conn "daemon down, element removed by hand" "$ADDR_D" "$MAIL_PORT" open
start_ns_daemon
check "after the restart: $ADDR_C back in ban4" wait_for 5 set_has ban4 "$ADDR_C"
check "after the restart: the stray element is gone" set_lacks ban4 10.231.250.250
expect_conn "banned after the restart" "$ADDR_D" "$MAIL_PORT" timeout
check "log: the load says how many" grep -qE 'firewall: table inet mailward loaded: 1 elements in' "$MW_DAEMON_LOG"

# --- the helper's worker dies: respawned, sets reloaded ---------------------
mwcli status --json >"$T/status1.json"
worker=$($MW_HELPER json-get "$T/status1.json" firewall.worker_pid)
check "status: firewall running" test "$($MW_HELPER json-get "$T/status1.json" firewall.state)" = running
in_d nft delete element inet mailward ban4 "{ $ADDR_C }"
kill -KILL "$worker"
check "log: worker restarted" wait_for 10 grep -q 'firewall: helper worker restarted' "$MW_DAEMON_LOG"
check "after the respawn: $ADDR_C back in ban4" wait_for 10 set_has ban4 "$ADDR_C"
mwcli status --json >"$T/status2.json"
check "status: 2 worker starts" test "$($MW_HELPER json-get "$T/status2.json" firewall.worker_starts)" = 2
check "status: a new worker pid" test "$($MW_HELPER json-get "$T/status2.json" firewall.worker_pid)" != "$worker"
check "daemon still alive" kill -0 "$MW_DAEMON_PID"
expect_conn "banned after the respawn" "$ADDR_D" "$MAIL_PORT" timeout

# --- an admin flushes the whole ruleset: the table comes back -------------
in_d nft flush ruleset
expect_conn "ruleset flushed by hand" "$ADDR_D" "$MAIL_PORT" open
check "cli: ban add 10.231.$N.3 (a change after the flush)" mwcli ban add "10.231.$N.3"
check "log: the helper noticed the table is gone" wait_for 15 grep -q 'helper: table inet mailward is gone' "$MW_DAEMON_LOG"
check "after the flush: $ADDR_C back in ban4" wait_for 10 set_has ban4 "$ADDR_C"
check "after the flush: the new ban too" set_has ban4 "10.231.$N.3"
expect_conn "banned again after the flush" "$ADDR_D" "$MAIL_PORT" timeout

# --- a short ban ends in the kernel -----------------------------------------
check "cli: ban del $ADDR_C" mwcli ban del "$ADDR_C"
check "cli: ban add $ADDR_C --for 3s" mwcli ban add "$ADDR_C" --for 3s
check "element with timeout 3s" wait_for 5 bash -c "ip netns exec $NS_D nft list set inet mailward ban4 | grep -qE '$ADDR_C timeout [123]s'"
expect_conn "banned for 3s" "$ADDR_D" "$MAIL_PORT" timeout
# The daemon stopped, so the kernel's own timeout is what removes it.
kill -STOP "$MW_DAEMON_PID"
check "the element expires in the kernel (daemon stopped)" wait_for 8 set_lacks ban4 "$ADDR_C"
kill -CONT "$MW_DAEMON_PID"
expect_conn "after the 3s ban" "$ADDR_D" "$MAIL_PORT" open

# --- status -------------------------------------------------------------------
mwcli status >"$T/status.txt"
check "mailward status: firewall running" grep -qE '^firewall +running: table inet mailward, helper pid [0-9]+ \(worker [0-9]+\)' "$T/status.txt"
check "mailward status: worker starts" grep -q '3 worker start(s)' "$T/status.txt"

# --- [firewall] is read at start only: a reload says so ---------------------
printf 'priority = -20\n' >>"$MW_CONF"
check "cli: reload with another [firewall] priority" mwcli reload
check "log: the change needs a restart" grep -q 'firewall: \[firewall\] changed; it is read at start only: restart mailwardd' "$MW_DAEMON_LOG"
check "the chain keeps its priority" bash -c "ip netns exec $NS_D nft list chain inet mailward input | grep -q 'priority filter - 10;'"

# --- the helper gone for good: the daemon says so and runs on ---------------
mwcli status --json >"$T/status3.json"
sup=$($MW_HELPER json-get "$T/status3.json" firewall.helper_pid)
worker=$($MW_HELPER json-get "$T/status3.json" firewall.worker_pid)
kill -KILL "$sup" "$worker"
check "log: firewall unavailable, with what still works" wait_for 10 grep -q "firewall unavailable: the helper (pid $sup) exited; banned clients are still refused by the policy answers" "$MW_DAEMON_LOG"
check "daemon still alive" kill -0 "$MW_DAEMON_PID"
mwcli status >"$T/status.gone.txt"
check "mailward status: firewall unavailable" grep -q '^firewall *unavailable: the helper' "$T/status.gone.txt"
check "cli: ban add still works" mwcli ban add 10.231.$N.2 --for 1h
answer=$(in_d timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MW_POLICY_PORT &&
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=10.231.$N.2\n\n' >&3 &&
    head -n1 <&3")
check "the policy answer still refuses the banned client ($answer)" grep -q '^action=REJECT' <<<"$answer"
stop_mailwardd

# --- not root: disabled, said once, runs on ---------------------------------
chown -R nobody "$MW_STATE"
rm -f "$MW_ADMIN_SOCK"
ip netns exec "$NS_D" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$MW_DAEMON" -c "$MW_CONF" -f >"$T/mailwardd.nonroot.log" 2>&1 &
MW_DAEMON_PID=$!
check "non-root daemon: admin socket" wait_for 20 test -S "$MW_ADMIN_SOCK"
check "log: firewall disabled, with the reason and the fix" \
    grep -q 'firewall disabled: mailwardd runs as uid [0-9]*, not root, so it cannot create the nftables table; start it as root' "$T/mailwardd.nonroot.log"
check "said once" test "$(grep -c 'firewall disabled' "$T/mailwardd.nonroot.log")" = 1
mwcli status >"$T/status.nonroot.txt"
check "mailward status: firewall disabled" grep -q '^firewall *disabled: mailwardd runs as uid' "$T/status.nonroot.txt"
check "cli: ban add works without the firewall" mwcli ban add 192.0.2.99
stop_mailwardd

mw_done
