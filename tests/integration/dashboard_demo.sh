#!/bin/bash
# dashboard_demo - mailwardd --demo: the generated attack goes through the
# real engine (the login guard bans the guessers, DNSBL-listed senders are
# refused, events and per-minute counts fill the stats), the admin "demo"
# logs in with the printed password, everything says demo, and a state
# directory holding a real store is refused.
. "$(dirname "$0")/lib.sh"
mw_init dashboard_demo

DASHAPI="python3 $MW_SOURCE_DIR/tests/integration/dashapi.py"
MW_DASH_PORT=$(free_tcp_port)
mw_write_config "$T/mailward.conf" "[dashboard]
listen = 127.0.0.1:$MW_DASH_PORT
web_root = $T
"

# a real store first: --demo must refuse it
start_mailwardd
mwcli ban add 192.0.2.1 --for 1h --reason "real data" >/dev/null
stop_mailwardd
"$MW_DAEMON" --demo -c "$MW_CONF" -f >"$T/refused.log" 2>&1; rc=$?
if [ "$rc" -eq 78 ] && grep -q -- '--demo: .* holds a store that was not made by --demo' "$T/refused.log"; then
	ok "--demo refuses a state dir with a real store (78)"
else
	fail "--demo refuses a real store (exit $rc)"; tail -n 5 "$T/refused.log" | sed 's/^/     | /'
fi
mwcli_ok() { "$MW_CLI" -c "$MW_CONF" "$@" 2>/dev/null; }

# a state dir of its own
mkdir -p "$T/demo"
sed "s|^state_dir = .*|state_dir = $T/demo|" "$MW_CONF" >"$T/demo.conf"
MW_CONF=$T/demo.conf
MW_STATE=$T/demo
MW_ADMIN_SOCK=$T/demo/admin.sock
MW_DAEMON_RUNS=$((MW_DAEMON_RUNS + 1))
MW_DAEMON_LOG=$T/mailwardd.$MW_DAEMON_RUNS.log
"$MW_DAEMON" --demo -c "$MW_CONF" -f >"$MW_DAEMON_LOG" 2>&1 &
MW_DAEMON_PID=$!
wait_for 30 test -S "$MW_ADMIN_SOCK" && wait_for 10 tcp_open 127.0.0.1 "$MW_DASH_PORT" ||
    { fail "mailwardd --demo starts"; tail -n 20 "$MW_DAEMON_LOG" | sed 's/^/     | /'; exit 1; }
test -f "$T/demo/DEMO" && ok "the demo marks its state dir (DEMO)" || fail "DEMO marker"
PW=$(sed -n 's/.*demo: DEMO DATA: log in at .* as demo, password \([a-z0-9]*\)$/\1/p' "$MW_DAEMON_LOG" | head -n1)
[ -n "$PW" ] && ok "log: demo: DEMO DATA: log in ... as demo, password ..." || fail "the demo password is printed"
grep -q 'the firewall is left alone' "$MW_DAEMON_LOG" && ok "the firewall is left alone" || fail "firewall line"

# the login guard bans the IMAP guesser within ~3 s of the start
wait_for 20 grep -q 'login: ban 203.0.113.10 ' "$MW_DAEMON_LOG" &&
    ok "the login guard bans the demo's IMAP guesser 203.0.113.10" || fail "203.0.113.10 banned"
wait_for 30 grep -q 'REJECT: banned 198.51.100.66 (dnsbl)' "$MW_DAEMON_LOG" &&
    ok "a DNSBL-listed demo sender is refused by the engine" || fail "dnsbl-listed sender refused"
wait_for 30 grep -q 'password spraying' "$MW_DAEMON_LOG" &&
    ok "the spraying run is detected" || fail "spraying detected"
mwcli_ok --json ban list >"$T/bans.json"
$MW_HELPER json-find "$T/bans.json" address 203.0.113.10 source | grep -qx login &&
    ok "ban list: 203.0.113.10 from source login" || fail "ban list: $(head -c 300 "$T/bans.json")"
mwcli_ok --json status >"$T/status.json"
[ "$($MW_HELPER json-get "$T/status.json" demo)" = true ] &&
    ok "GET /api/v1/status says demo: true" || fail "status demo: $(head -c 200 "$T/status.json")"

$DASHAPI login --port "$MW_DASH_PORT" --name demo --password "$PW" >"$T/session.json" &&
    ok "admin demo logs in with the printed password" || fail "demo login: $(cat "$T/session.json")"
[ "$($MW_HELPER json-get "$T/session.json" demo)" = true ] &&
    ok "the session says demo: true" || fail "session demo"
mwcli_ok events --limit 500 >"$T/events.out"
grep -q 'AUTH_FAIL' "$T/events.out" && grep -q 'REJECT' "$T/events.out" &&
    ok "events: login failures and refusals recorded" || fail "events: $(head -n 3 "$T/events.out")"

stop_mailwardd
mw_done
