#!/bin/bash
# dashboard_api - the dashboard listener against the real daemon: every API
# route needs a session (401), state changes need the CSRF token and a
# matching Origin (403), malformed input is a 400 with a JSON error, admins
# cannot be managed over TCP, cookie flags, logout, idle timeout, static
# files cannot escape web_root, stats/audit/stream/metrics, HTTPS, a
# non-loopback listen without TLS is refused, and repeated wrong passwords
# are throttled and then banned by the login guard.
# The checks themselves are in dashapi.py (Python standard library only).
. "$(dirname "$0")/lib.sh"
mw_init dashboard_api

DASHAPI="python3 $MW_SOURCE_DIR/tests/integration/dashapi.py"
PW='correct horse battery'

# dashapi GROUP ARGS...: one group of checks; its ok/FAIL lines count here.
dashapi() {
	local out=$T/dashapi.$1.out line
	$DASHAPI suite "$@" --port "$MW_DASH_PORT" --password "$PW" >"$out" 2>&1
	while IFS= read -r line; do
		case $line in
		'ok   - '*) ok "$1: ${line#ok   - }" ;;
		'FAIL - '*) fail "$1: ${line#FAIL - }" ;;
		*) note "$line" ;;
		esac
	done <"$out"
}

# A web root with the files and the traps the static checks need.
WEB=$T/web
mkdir -p "$WEB/assets" "$T/outside"
printf '<!doctype html><title>mailward test</title><p>index</p>\n' >"$WEB/index.html"
printf 'console.log("app");\n' >"$WEB/assets/app.js"
printf 'body { color: black; }\n' >"$WEB/assets/style.css"
printf 'hidden\n' >"$WEB/.hidden"
printf 'TOP SECRET\n' >"$T/outside/secret"
ln -s "$WEB/assets" "$WEB/inside"
ln -s /etc "$WEB/outside"
ln -s "$T/outside/secret" "$WEB/secret-link"

MW_DASH_PORT=$(free_tcp_port)
# dash_ini PORT [IDLE [LOGIN_INI]]: the [dashboard] section, and [login]:
# the login guard stays out of the way (every check logs in and out from
# 127.0.0.1) until the throttling checks at the end restore its defaults.
QUIET_LOGIN='[login]
tarpit_after = 1000
ban_after = 2000
account_address_ban_after = 2000
alert_after_failures = 1000'
dash_ini() {
	printf '[dashboard]\nlisten = 127.0.0.1:%s\nweb_root = %s\n' "$1" "$WEB"
	printf 'session_idle_timeout = %s\n\n%s\n' "${2:-30m}" "${3-$QUIET_LOGIN}"
}
mw_write_config "$T/mailward.conf" "$(dash_ini "$MW_DASH_PORT")"

# --- a listener reachable from other hosts needs TLS -----------------------
mw_write_config "$T/open.conf" "$(printf '[dashboard]\nlisten = 0.0.0.0:%s\n' "$MW_DASH_PORT")"
"$MW_DAEMON" -t -c "$T/open.conf" >"$T/open.out" 2>&1; rc=$?
if [ "$rc" -eq 78 ] && grep -q 'dashboard: listen: 0.0.0.0:.* is not a loopback address and TLS is off' "$T/open.out"; then
	ok "mailwardd -t refuses listen = 0.0.0.0 without TLS (exit 78, clear error)"
else
	fail "mailwardd -t refuses listen = 0.0.0.0 without TLS (exit $rc)"; sed 's/^/     | /' "$T/open.out"
fi
"$MW_DAEMON" -f -c "$T/open.conf" >"$T/open.run" 2>&1; rc=$?
if [ "$rc" -eq 78 ] && grep -q 'not a loopback address' "$T/open.run"; then
	ok "mailwardd does not start with listen = 0.0.0.0 without TLS (exit 78)"
else
	fail "mailwardd does not start with listen = 0.0.0.0 without TLS (exit $rc)"
fi
mw_write_config "$T/half.conf" "$(printf '[dashboard]\ntls_certificate = /nonexistent.pem\n')"
"$MW_DAEMON" -t -c "$T/half.conf" >"$T/half.out" 2>&1; rc=$?
[ "$rc" -eq 78 ] && grep -q 'tls_key: missing' "$T/half.out" &&
    ok "a certificate without a key is a config error" ||
    fail "a certificate without a key is a config error (exit $rc)"
mw_write_config "$T/mailward.conf" "$(dash_ini "$MW_DASH_PORT")"

start_mailwardd
wait_for 10 tcp_open 127.0.0.1 "$MW_DASH_PORT" || { fail "dashboard listens on 127.0.0.1:$MW_DASH_PORT"; exit 1; }
grep -q "dashboard: listening on http://127.0.0.1:$MW_DASH_PORT/" "$MW_DAEMON_LOG" &&
    ok "log: dashboard: listening on http://127.0.0.1:$MW_DASH_PORT/" ||
    fail "log line: dashboard: listening on ..."

# --- admins from the CLI (unix socket) --------------------------------------
printf '%s\n' "$PW" | mwcli admin add alice --password-stdin >"$T/add.out" &&
    ok "mailward admin add alice --password-stdin" ||
    fail "mailward admin add alice: $(cat "$T/cli.last.err")"
printf 'short\n' | mwcli admin add bob --password-stdin >/dev/null; rc=$?
[ "$rc" -eq 64 ] && ok "a 5-byte password is refused (64)" || fail "short password (exit $rc)"
printf '%s\n' "$PW" | mwcli admin add alice --password-stdin >/dev/null; rc=$?
[ "$rc" -eq 1 ] && grep -q 'exists already' "$T/cli.last.err" &&
    ok "adding alice twice: exit 1, 'exists already'" || fail "alice twice (exit $rc)"
mwcli admin add 'bad name' --password-stdin </dev/null >/dev/null; rc=$?
[ "$rc" -eq 64 ] && ok "a bad admin name: usage error 64" || fail "bad admin name (exit $rc)"
printf 'another password 2\n' | mwcli admin add carol --password-stdin >/dev/null &&
    ok "admin add carol"
mwcli admin list >"$T/list.out" && grep -q '^alice ' "$T/list.out" && grep -q '^carol ' "$T/list.out" &&
    ok "admin list shows alice and carol" || fail "admin list: $(cat "$T/list.out")"
mwcli --json admin list >"$T/list.json" &&
    $MW_HELPER json-find "$T/list.json" name alice >/dev/null &&
    ! grep -q argon2 "$T/list.json" &&
    ok "admin list --json: names, no hashes" || fail "admin list --json"
sqlite3 "$MW_STATE/mailward.db" "SELECT pwhash FROM admins WHERE name='alice'" >"$T/hash" 2>/dev/null
grep -q '^\$argon2id\$' "$T/hash" && ! grep -qF "$PW" "$T/hash" &&
    ok "the store holds an argon2id hash, not the password" || fail "stored hash: $(cat "$T/hash")"
grep -qF "$PW" "$MW_DAEMON_LOG" && fail "the password appears in the daemon log" ||
    ok "the password is not in the daemon log"

# carol logs in, then loses her account: her session ends
$DASHAPI login --port "$MW_DASH_PORT" --name carol --password 'another password 2' >"$T/carol.json" &&
    ok "carol logs in" || fail "carol logs in: $(cat "$T/carol.json")"
mwcli admin del carol >/dev/null && ok "admin del carol" || fail "admin del carol"
$DASHAPI login --port "$MW_DASH_PORT" --name carol --password 'another password 2' >/dev/null &&
    fail "a deleted admin cannot log in" || ok "a deleted admin cannot log in"
mwcli admin del carol >/dev/null; rc=$?
[ "$rc" -eq 1 ] && ok "admin del of a missing admin: exit 1" || fail "del missing (exit $rc)"

# --- the API groups --------------------------------------------------------
dashapi auth --name alice
dashapi malformed --name alice
dashapi static --name alice --web-root "$WEB"

# refusals for the stats: the attacker is banned through the dashboard
# (data group), so first ban it by hand to create policy REJECTs.
ATTACKER=203.0.113.77
mwcli ban add "$ATTACKER" --for 1h --reason "dashboard test" >/dev/null
for i in 1 2 3; do policy_query "$ATTACKER" >/dev/null; done
mwcli ban del "$ATTACKER" >/dev/null
dashapi data --name alice --attacker "$ATTACKER" --policy-refusals 3
grep -qE "dashboard: alice logged in from 127\.0\.0\.1:[0-9]+" "$MW_DAEMON_LOG" &&
    ok "log: dashboard: alice logged in from 127.0.0.1:PORT" || fail "login log line"
grep -qE 'admin: ban 203\.0\.113\.77 for 2h by alice from 127\.0\.0\.1:[0-9]+: dashboard test' "$MW_DAEMON_LOG" &&
    ok "log: admin: ban ... by alice from 127.0.0.1:PORT" || fail "ban log line names the admin"

# --- X-Forwarded-For: ignored, then believed from a trusted proxy ---------
dashapi proxy --name alice
mw_write_config "$T/mailward.conf" "$(dash_ini "$MW_DASH_PORT" 30m "$QUIET_LOGIN
[dashboard]
trusted_proxy = 127.0.0.1")"
mwcli reload >/dev/null && ok "reload with trusted_proxy = 127.0.0.1" || fail "reload (trusted_proxy): $(cat "$T/cli.last.err")"
dashapi proxy --name alice --proxy
mw_write_config "$T/mailward.conf" "$(dash_ini "$MW_DASH_PORT")"
mwcli reload >/dev/null || fail "reload without trusted_proxy"

# --- idle timeout (applied by a reload) -----------------------------------
mw_write_config "$T/mailward.conf" "$(dash_ini "$MW_DASH_PORT" 2s)"
mwcli reload >/dev/null && ok "reload with session_idle_timeout = 2s" || fail "reload"
dashapi idle --name alice --idle 2

# --- HTTPS ---------------------------------------------------------------
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	    -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1
	TLS_PORT=$(free_tcp_port)
	mkdir -p "$T/tls"
	cat >"$T/tls.conf" <<EOF
[daemon]
state_dir = $T/tls
user =
[policy]
listen = 127.0.0.1:$(free_tcp_port)
[dnsbl]
enabled = no
[dashboard]
listen = 127.0.0.1:$TLS_PORT
tls_certificate = $T/cert.pem
tls_key = $T/key.pem
web_root = $WEB
EOF
	"$MW_DAEMON" -c "$T/tls.conf" -f >"$T/mailwardd.tls.log" 2>&1 &
	TLS_PID=$!
	MW_PIDS+=("$TLS_PID")
	if wait_for 20 test -S "$T/tls/admin.sock" && wait_for 10 tcp_open 127.0.0.1 "$TLS_PORT"; then
		printf '%s\n' "$PW" | "$MW_CLI" --socket "$T/tls/admin.sock" admin add alice --password-stdin >/dev/null
		save=$MW_DASH_PORT; MW_DASH_PORT=$TLS_PORT
		dashapi tls --tls --name alice
		MW_DASH_PORT=$save
		grep -q "dashboard: listening on https://127.0.0.1:$TLS_PORT/" "$T/mailwardd.tls.log" &&
		    ok "log: dashboard: listening on https://..." || fail "https log line"
		curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TLS_PORT/" >"$T/plain" 2>/dev/null
		[ "$(cat "$T/plain")" != 200 ] && ok "plain HTTP to the TLS port gets no page" ||
		    fail "plain HTTP to the TLS port"
	else
		fail "the TLS daemon starts"; tail -n 20 "$T/mailwardd.tls.log" | sed 's/^/     | /'
	fi
	kill -TERM "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null
else
	note "openssl missing: HTTPS checks skipped"
fi

# --- the login guard: throttled, then banned (last: it bans 127.0.0.1) -----
# its defaults: tarpit after 3 failures, ban after 10 (6 for one account)
mw_write_config "$T/mailward.conf" "$(dash_ini "$MW_DASH_PORT" 30m '')"
mwcli reload >/dev/null && ok "reload with the login guard's defaults" || fail "reload"
dashapi throttle --name alice --attempts 40
mwcli ban list >"$T/bans.out"
grep -qE '^127\.0\.0\.1 +login ' "$T/bans.out" &&
    ok "mailward ban list: 127.0.0.1 banned by the login guard (source login)" ||
    fail "127.0.0.1 banned by the login guard: $(cat "$T/bans.out")"
expect_policy "the banned address is refused by the policy service too" \
    127.0.0.1 '^(REJECT|DEFER|4|5)'
grep -qE 'dashboard: login failed for "alice" from 127\.0\.0\.1:[0-9]+' "$MW_DAEMON_LOG" &&
    ok "log: dashboard: login failed for \"alice\" from 127.0.0.1:PORT" || fail "failed-login log line"
grep -q 'dashboard: login of "root" from 127.0.0.1:[0-9]* refused by the login guard' "$MW_DAEMON_LOG" &&
    ok "log: ... refused by the login guard" || fail "refused log line"

stop_mailwardd
mw_done
