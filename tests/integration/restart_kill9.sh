#!/bin/bash
# restart_kill9 - what the CLI was told is done survives kill -9: bans,
# allow and deny entries added (and a ban deleted) through the CLI are
# there after the daemon is killed with SIGKILL right after the CLI
# returned and started again, with the same expiry, and enforced.
. "$(dirname "$0")/lib.sh"
mw_init restart_kill9

# As root, run it as in production: drop to an unprivileged user (nobody
# here, as the test cannot create users), so the store is written by it.
[ "$(id -u)" = 0 ] && MW_DAEMON_USER=nobody
mw_write_config "$T/mailward.conf"
start_mailwardd
if [ -n "${MW_DAEMON_USER:-}" ]; then
	check "daemon runs as $MW_DAEMON_USER" \
	    test "$(ps -o user= -p "$MW_DAEMON_PID" | tr -d ' ')" = "$MW_DAEMON_USER"
	check "state dir belongs to $MW_DAEMON_USER" \
	    test "$(stat -c %U "$MW_STATE")" = "$MW_DAEMON_USER"
	check "store belongs to $MW_DAEMON_USER" \
	    test "$(stat -c %U "$MW_STATE/mailward.db")" = "$MW_DAEMON_USER"
fi

check "cli: ban add 203.0.113.9 --for 2h" mwcli ban add 203.0.113.9 --for 2h --reason "kill9 test"
check "cli: ban add 203.0.113.77" mwcli ban add 203.0.113.77 --reason "to be deleted"
mwcli_to "$T/bans.before.json" "cli: ban list --json (before)" ban list --json
exp_before=$($MW_HELPER json-find "$T/bans.before.json" address 203.0.113.9 expires)
check "ban 203.0.113.9 has an expiry before the restart ($exp_before)" \
    test -n "$exp_before" -a "$exp_before" != null
check "cli: allow add 192.0.2.0/24" mwcli allow add 192.0.2.0/24
check "cli: deny add 198.51.100.0/24" mwcli deny add 198.51.100.0/24
check "cli: deny add 2001:db8:dead::/48" mwcli deny add 2001:db8:dead::/48
check "cli: ban add 2001:db8:bad::7 --permanent" mwcli ban add 2001:db8:bad::7 --permanent
check "cli: ban del 203.0.113.77" mwcli ban del 203.0.113.77
kill9_mailwardd	# immediately after the CLI returned
ok "mailwardd killed with SIGKILL right after the last CLI command"

start_mailwardd
mwcli_to "$T/bans.after.json" "cli: ban list --json (after)" ban list --json
check "ban 203.0.113.9 survived" $MW_HELPER json-find "$T/bans.after.json" address 203.0.113.9
check "permanent IPv6 ban survived" $MW_HELPER json-find "$T/bans.after.json" address 2001:db8:bad::7
if $MW_HELPER json-find "$T/bans.after.json" address 203.0.113.77 >/dev/null; then
	fail "deleted ban 203.0.113.77 stays deleted"
else
	ok "deleted ban 203.0.113.77 stays deleted"
fi
exp_after=$($MW_HELPER json-find "$T/bans.after.json" address 203.0.113.9 expires)
check "ban keeps its expiry ($exp_before = $exp_after)" test "$exp_before" = "$exp_after"
exp6=$($MW_HELPER json-find "$T/bans.after.json" address 2001:db8:bad::7 expires)
check "permanent ban has expires null (got $exp6)" test "$exp6" = null
reason=$($MW_HELPER json-find "$T/bans.after.json" address 203.0.113.9 reason)
check "ban keeps its reason ('$reason')" test "$reason" = "kill9 test"

mwcli_to "$T/allow.json" "cli: allow list --json" allow list --json
check "allow entry survived" $MW_HELPER json-find "$T/allow.json" network 192.0.2.0/24
mwcli_to "$T/deny.json" "cli: deny list --json" deny list --json
check "deny entry survived" $MW_HELPER json-find "$T/deny.json" network 198.51.100.0/24
check "IPv6 deny entry survived" $MW_HELPER json-find "$T/deny.json" network 2001:db8:dead::/48

# Human output lists them too.
mwcli ban list >"$T/bans.txt"
check "ban list (table) shows 203.0.113.9" grep -q '203\.0\.113\.9' "$T/bans.txt"

# And they are enforced.
expect_policy "banned address refused after restart" 203.0.113.9 '^(REJECT|5[0-9][0-9])'
expect_policy "denied network refused after restart" 198.51.100.7 '^(REJECT|5[0-9][0-9])'
expect_policy "denied IPv6 network refused after restart" 2001:db8:dead::1 '^(REJECT|5[0-9][0-9])'
expect_policy "banned IPv6 address refused after restart" 2001:db8:bad::7 '^(REJECT|5[0-9][0-9])'
expect_policy "allowed network passes after restart" 192.0.2.5 '^DUNNO$'
expect_policy "deleted ban no longer enforced" 203.0.113.77 '^DUNNO$'

# A second kill -9 right after a delete and an add, restart again.
check "cli: ban del 203.0.113.9" mwcli ban del 203.0.113.9
check "cli: deny del 198.51.100.0/24" mwcli deny del 198.51.100.0/24
check "cli: ban add 203.0.113.10" mwcli ban add 203.0.113.10
kill9_mailwardd
start_mailwardd
expect_policy "ban deleted before the 2nd kill -9 stays deleted" 203.0.113.9 '^DUNNO$'
expect_policy "deny entry deleted before the 2nd kill -9 stays deleted" 198.51.100.7 '^DUNNO$'
expect_policy "ban added right before the 2nd kill -9 is enforced" 203.0.113.10 '^(REJECT|5[0-9][0-9])'
stop_mailwardd
mw_done
