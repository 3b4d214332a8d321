#!/bin/bash
# login_guard - the login guard through the daemon and the admin API, fed
# by log watching (Dovecot auth failure lines appended to a followed log):
# password spraying from one address bans it (source logwatch, reason
# "password spraying: N accounts in 10m"); many addresses failing on one
# account raise a distributed_attack alert that `mailward alerts` lists,
# `mailward account` shows the account under attack, `mailward accounts`
# ranks it first, `mailward alerts ack` acknowledges it once (a second ack
# is refused, exit 1); `mailward check` explains an address's login-guard
# history; a second ban of the same address after `ban del` lasts twice
# as long (escalation, remembered across a restart).
. "$(dirname "$0")/lib.sh"
mw_init login_guard

[ "$(id -u)" = 0 ] && MW_DAEMON_USER=nobody
LOGDIR=$T/log
mkdir -p "$LOGDIR"
chmod 755 "$LOGDIR"
LOG=$LOGDIR/mail.log
: >"$LOG"
chmod 644 "$LOG"
mw_write_config "$T/mailward.conf" "[login]
ban_after = 50
tarpit_after = 3
account_address_ban_after = 100
network_ban_after = 1000
spray_accounts = 4
spray_network_accounts = 200
distributed_addresses = 3
ban_time = 10m
window = 10m

[logwatch]
enabled = yes
files = $LOG
poll_interval = 200ms"

stamp() { LC_ALL=C date '+%b %e %H:%M:%S'; }
dovecot_fail() { # ADDR USER
	local s=$RANDOM$RANDOM
	printf '%s mx dovecot: auth: passwd-file(%s,%s,<%s>): Password mismatch\n' \
	    "$(stamp)" "$2" "$1" "$s" >>"$LOG"
	printf '%s mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=127.0.0.1, TLS, session=<%s>\n' \
	    "$(stamp)" "$2" "$1" "$s" >>"$LOG"
}
banned() { mwcli ban list --json >"$T/bans.json" && $MW_HELPER json-find "$T/bans.json" address "$1" >/dev/null; }
ban_field() { mwcli ban list --json >"$T/bans.json" && $MW_HELPER json-find "$T/bans.json" address "$1" "$2"; }
has_alert() { mwcli alerts --json >"$T/alerts.json" && $MW_HELPER json-find "$T/alerts.json" kind "$1" >/dev/null; }

start_mailwardd
check "logwatch follows $LOG" wait_for 10 grep -q "logwatch: $LOG: following from its end" "$MW_DAEMON_LOG"

# --- password spraying from one address. Accounts per address are counted
# in a 64-bit bitmap: two names may share a bit, so the ban may come an
# account or two after the 4th; 8 accounts are sent (the 5th and later
# from a banned address are still read from the log).
S=127.0.0.81
for u in ann ben cid dot eli fox guy hex; do dovecot_fail $S $u@test.example; done
check "spraying address banned" wait_for 10 banned $S
check "ban source is logwatch" test "$(ban_field $S source)" = logwatch
reason=$(ban_field $S reason)
check "ban reason explains the spraying (got: $reason)" grep -qE "^password spraying: [4-6] accounts in 10m$" <<<"$reason"
expect_policy "Postfix policy refuses the sprayer" $S '^(REJECT|DEFER|4[0-9][0-9]|5[0-9][0-9])'
check "the ban is logged" grep -qE "login: ban $S for 10m \(logwatch\): password spraying: [4-6] accounts in 10m" "$MW_DAEMON_LOG"
check "banned once, not again for the later lines" test "$(grep -c "login: ban $S " "$MW_DAEMON_LOG")" = 1

out=$(mwcli status)
check "status shows the login guard" grep -qE "^login guard  8 failed and 0 successful logins, 0 repeats of a wrong password not counted; 0 tarpitted, [0-9]+ refused; 1 bans, 0 alerts" <<<"$out"
check "status shows what is tracked" grep -qE "^             tracking 1 addresses, 1 networks, 8 accounts, 8 account\+address pairs" <<<"$out"

# --- check explains the address's login-guard history
out=$(mwcli check $S)
check "check shows the failures" grep -qE "login        8 failed logins in the last 10m on [6-8] accounts" <<<"$out"
check "check shows the escalation" grep -q "banned 1 times by the login guard" <<<"$out"

# --- distributed attack on one account: 3 addresses
for a in 127.0.0.91 127.0.0.92 127.0.0.93; do dovecot_fail $a eve@test.example; done
check "distributed_attack alert" wait_for 10 has_alert distributed_attack
id=$($MW_HELPER json-find "$T/alerts.json" kind distributed_attack id)
acct=$($MW_HELPER json-find "$T/alerts.json" kind distributed_attack account)
check "alert names the account (got $acct)" test "$acct" = eve@test.example
out=$(mwcli alerts)
check "alerts table lists it" grep -qE "^$id +.* eve@test\.example +127\.0\.0\.93 +distributed_attack +open" <<<"$out"
out=$(mwcli account eve@test.example)
check "account shows the attack" grep -q "^status         UNDER ATTACK since" <<<"$out"
check "account counts failures and addresses" grep -q "^failed logins  3 in the last 10m from 3 addresses" <<<"$out"
mwcli account eve@test.example --json >"$T/acct.json"
check "account JSON: 3 recent failures" test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["recent_failures"]))' "$T/acct.json")" = 3
out=$(mwcli accounts)
check "accounts ranks eve first" grep -qE "^eve@test\.example +3 +3 +under attack" <<<"$(sed -n 2p <<<"$out")"
out=$(mwcli alerts ack "$id")
check "alerts ack" test "$out" = "alert $id acknowledged (eve@test.example, distributed_attack)"
mwcli alerts ack "$id" >/dev/null
rc=$?
check "second ack refused with exit 1 (got $rc)" test "$rc" = 1
check "second ack says by whom" grep -q "was already acknowledged by uid" "$T/cli.last.err"
curl -s --unix-socket "$MW_ADMIN_SOCK" "http://localhost/api/v1/audit?limit=20" >"$T/audit.json"
check "the audit log records the ack (action, alert, account)" python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["audit"]
sys.exit(0 if any(r["action"] == "alert_ack" and r["target"] == "alert " + sys.argv[2]
                  and r["detail"] == "eve@test.example" for r in rows) else 1)' "$T/audit.json" "$id"
check "no open alerts left" test "$(mwcli alerts)" = "no open alerts"
check "--all shows the acknowledged one" grep -q "acknowledged by uid" <<<"$(mwcli alerts --all)"
mwcli alerts ack 999999 >/dev/null
rc=$?
check "unknown alert id: exit 1 (got $rc)" test "$rc" = 1
check "unknown alert id named" grep -q "no such alert: 999999" "$T/cli.last.err"
mwcli alerts ack x1 >/dev/null
rc=$?
check "malformed alert id: usage error 64 (got $rc)" test "$rc" = 64

# --- escalation: lift the ban, spray again: twice as long, across a restart
mwcli ban del $S >/dev/null
stop_mailwardd
start_mailwardd
check "logwatch resumed" wait_for 10 grep -q "logwatch: $LOG: resuming at offset" "$MW_DAEMON_LOG"
for u in fay gus hal ida jon kim lea max; do dovecot_fail $S $u@test.example; done
check "banned again" wait_for 10 banned $S
exp=$(ban_field $S expires)
left=$((exp - $(date +%s)))
check "second ban lasts 20m (got ${left}s)" test "$left" -gt 1100 -a "$left" -le 1200
check "escalation logged" grep -q "login: ban $S for 20m (logwatch, repeat offender: ban 2 within 30d)" "$MW_DAEMON_LOG"
check "no password or hash logged" bash -c "! grep -qi 'pwhash' '$MW_DAEMON_LOG'"
stop_mailwardd
mw_done
