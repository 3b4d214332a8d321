#!/bin/bash
# sighup - SIGHUP re-reads the config: a deny entry added to [lists]
# takes effect without dropping an open policy connection; a broken config
# is refused (logged with file:line) and the running one stays in force;
# `mailward reload` does the same through the admin API.
. "$(dirname "$0")/lib.sh"
mw_init sighup

# As root, drop to nobody as in production: the reload then reads the
# file without root.
[ "$(id -u)" = 0 ] && MW_DAEMON_USER=nobody
base_conf() {
	mw_write_config "$T/mailward.conf" "[lists]
deny = 198.51.100.1
$1"
}
base_conf ""
start_mailwardd

# log_count_above REGEX N: the daemon log has more than N lines matching.
log_count_above() { [ "$(grep -cE "$1" "$MW_DAEMON_LOG")" -gt "$2" ]; }

check "policy connection opened" policy_conn_open
expect_policy_conn() {
	local desc=$1 addr=$2 pat=$3 got
	got=$(policy_conn_query "$addr")
	if printf '%s' "$got" | grep -qE "$pat"; then ok "$desc: $got"
	else fail "$desc: want /$pat/, got: $got"; fi
}
expect_policy_conn "open connection: 203.0.113.50 not yet denied" 203.0.113.50 '^DUNNO$'
expect_policy_conn "open connection: 198.51.100.1 denied" 198.51.100.1 '^(REJECT|5[0-9][0-9])'

base_conf "deny = 203.0.113.50"
n0=$(grep -c 'configuration reloaded' "$MW_DAEMON_LOG")
kill -HUP "$MW_DAEMON_PID"
if wait_for 10 log_count_above 'configuration reloaded' "$n0"; then
	ok "SIGHUP: daemon logged the reload"
else
	fail "SIGHUP: daemon logged the reload"
fi
expect_policy_conn "same connection after SIGHUP: new deny entry in force" 203.0.113.50 '^(REJECT|5[0-9][0-9])'
expect_policy_conn "same connection: old deny entry still in force" 198.51.100.1 '^(REJECT|5[0-9][0-9])'
expect_policy "new connection after SIGHUP: new deny entry in force" 203.0.113.50 '^(REJECT|5[0-9][0-9])'

# A broken file: host bits set, and a typo in a key.
cp "$T/mailward.conf" "$T/good.conf"
printf '\n[dnsbl]\ntreshold = 2\n' >>"$T/mailward.conf"
sed -i 's|^deny = 198.51.100.1$|deny = 10.0.0.1/8|' "$T/mailward.conf"
n0=$(grep -c 'keeping the running configuration' "$MW_DAEMON_LOG")
kill -HUP "$MW_DAEMON_PID"
if wait_for 10 log_count_above 'keeping the running configuration' "$n0"; then
	ok "broken config on SIGHUP: daemon says it keeps the running configuration"
else
	fail "broken config on SIGHUP: daemon says it keeps the running configuration"
fi
check "broken config on SIGHUP: log names file:line of the bad entry" \
    grep -qE "mailward\.conf:[0-9]+: .*10\.0\.0\.1/8" "$MW_DAEMON_LOG"
check "daemon still running" kill -0 "$MW_DAEMON_PID"
expect_policy_conn "same connection after a broken reload: old config in force" 198.51.100.1 '^(REJECT|5[0-9][0-9])'
expect_policy_conn "same connection: 203.0.113.50 still denied" 203.0.113.50 '^(REJECT|5[0-9][0-9])'
expect_policy "10.0.0.5 not denied (the broken /8 was not loaded)" 10.0.0.5 '^DUNNO$'

# mailward reload: refused with the errors while broken, then accepted.
mwcli reload >"$T/reload.out"; rc=$?
if [ "$rc" -ne 0 ] && grep -qE 'mailward\.conf:[0-9]+' "$T/reload.out" "$T/cli.last.err"; then
	ok "cli reload of a broken config fails (exit $rc) and names file:line"
else
	fail "cli reload of a broken config fails and names file:line (exit $rc)"
	sed 's/^/     | /' "$T/reload.out" "$T/cli.last.err"
fi
# With --socket the CLI need not read the broken file itself: the daemon
# refuses the reload, exit 1 (mailward(1)).
"$MW_CLI" --socket "$MW_ADMIN_SOCK" reload >"$T/reload2.out" 2>"$T/reload2.err"; rc=$?
if [ "$rc" -eq 1 ] && grep -qE 'mailward\.conf:[0-9]+: .*treshold' "$T/reload2.out" "$T/reload2.err"; then
	ok "cli --socket reload of a broken config: exit 1, names file:line"
else
	fail "cli --socket reload of a broken config: want exit 1 and file:line, got exit $rc"
	sed 's/^/     | /' "$T/reload2.out" "$T/reload2.err"
fi
cp "$T/good.conf" "$T/mailward.conf"
sed -i 's|^deny = 203.0.113.50$||' "$T/mailward.conf"
check "cli reload of the fixed config succeeds" mwcli reload
expect_policy_conn "same connection after cli reload: removed deny entry gone" 203.0.113.50 '^DUNNO$'
expect_policy_conn "same connection: first deny entry still there" 198.51.100.1 '^(REJECT|5[0-9][0-9])'
policy_conn_close

stop_mailwardd
mw_done
