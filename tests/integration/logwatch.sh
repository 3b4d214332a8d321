#!/bin/bash
# logwatch - mailwardd follows a mail log the test appends Postfix SASL and
# Dovecot failure lines to: every failure becomes exactly one AUTH_FAIL
# event (listener logwatch), across a rotation by rename (lines written to
# the old file after the mv included), a copytruncate, and a restart (no
# line read twice, lines written while it was down read once); the 5th
# failure within the window bans the address (source logwatch) and the
# Postfix policy answer then refuses it.
. "$(dirname "$0")/lib.sh"
mw_init logwatch

# As in production: the daemon drops to an unprivileged user, which must
# be able to read the log (here: a world-readable file).
[ "$(id -u)" = 0 ] && MW_DAEMON_USER=nobody
LOGDIR=$T/log
mkdir -p "$LOGDIR"
chmod 755 "$LOGDIR"
LOG=$LOGDIR/mail.log
: >"$LOG"
chmod 644 "$LOG"
mw_write_config "$T/mailward.conf" "[login]
ban_after = 5
tarpit_after = 3
account_address_ban_after = 100
spray_accounts = 100
network_ban_after = 1000
window = 10m

[logwatch]
enabled = yes
files = $LOG
poll_interval = 200ms"

A=127.0.0.66	# rotation
B=127.0.0.77	# copytruncate and restart

stamp() { LC_ALL=C date '+%b %e %H:%M:%S'; }
postfix_fail() { # ADDR [FILE]
	printf '%s mx postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
	    "$(stamp)" $((RANDOM + 100)) "$1" >>"${2:-$LOG}"
}
dovecot_fail() { # ADDR USER [FILE]: one attempt logged by the auth process, then the login summary
	local s=$RANDOM$RANDOM
	printf '%s mx dovecot: auth: passwd-file(%s,%s,<%s>): Password mismatch\n' \
	    "$(stamp)" "$2" "$1" "$s" >>"${3:-$LOG}"
	printf '%s mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=127.0.0.1, TLS, session=<%s>\n' \
	    "$(stamp)" "$2" "$1" "$s" >>"${3:-$LOG}"
}
noise() {
	printf '%s mx postfix/smtpd[%d]: connect from unknown[127.0.0.99]\n' "$(stamp)" $RANDOM >>"${1:-$LOG}"
	printf '%s mx dovecot: imap-login: Login: user=<ok@test.example>, method=PLAIN, rip=127.0.0.99, lip=127.0.0.1, mpid=1, TLS, session=<x>\n' "$(stamp)" >>"${1:-$LOG}"
}

# fails ADDR: AUTH_FAIL events of ADDR in the store
fails() {
	mwcli events --address "$1" --limit 10000 --json >"$T/ev.json" || { echo -1; return; }
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["events"] if isinstance(d, dict) else d
print(sum(e.get("count", 1) for e in ev if e.get("verdict") == "AUTH_FAIL" and e.get("listener") == "logwatch"))
' "$T/ev.json"
}
fails_are() { [ "$(fails "$1")" = "$2" ]; }
# expect_fails DESC ADDR N: waits up to 10 s for N, then checks it stays N
expect_fails() {
	local desc=$1 addr=$2 n=$3 got
	wait_for 10 fails_are "$addr" "$n"
	sleep 0.6	# three more polls: nothing more may come
	got=$(fails "$addr")
	if [ "$got" = "$n" ]; then ok "$desc: $n AUTH_FAIL events for $addr"
	else fail "$desc: want $n AUTH_FAIL events for $addr, got $got"; fi
}
banned() { mwcli ban list --json >"$T/bans.json" && $MW_HELPER json-find "$T/bans.json" address "$1" >/dev/null; }
expect_banned() { # DESC ADDR yes|no
	if [ "$3" = yes ]; then wait_for 10 banned "$2"; fi
	if banned "$2"; then
		[ "$3" = yes ] && ok "$1: $2 banned" || fail "$1: $2 must not be banned yet"
	else
		[ "$3" = no ] && ok "$1: $2 not banned" || fail "$1: $2 banned"
	fi
}

start_mailwardd
check "logwatch follows $LOG" wait_for 10 grep -q "logwatch: $LOG: following from its end" "$MW_DAEMON_LOG"

# --- 3 failures, then a rotation: 1 more into the old file after the mv,
# --- 1 into the new file: 5 in all -> ban
noise
postfix_fail $A
dovecot_fail $A alice@test.example
postfix_fail $A
noise
expect_fails "3 failures appended" $A 3
expect_banned "after 3 failures" $A no
expect_policy "policy answer for $A before the ban" $A '^DUNNO'

mv "$LOG" "$LOG.1"
postfix_fail $A "$LOG.1"	# syslog still writing to the old file
: >"$LOG"; chmod 644 "$LOG"
dovecot_fail $A bob@test.example
check "rotation logged" wait_for 10 grep -q "logwatch: $LOG: rotated" "$MW_DAEMON_LOG"
expect_fails "rotation: the old file's last line and the new file's line" $A 5
expect_banned "5th failure within 10m" $A yes
src=$($MW_HELPER json-find "$T/bans.json" address $A source)
check "ban source is logwatch (got $src)" test "$src" = logwatch
expect_policy "Postfix policy refuses $A after the logwatch ban" $A '^(REJECT|DEFER|4[0-9][0-9]|5[0-9][0-9])'

# --- copytruncate
postfix_fail $B
postfix_fail $B
expect_fails "2 failures of $B" $B 2
cp "$LOG" "$LOG.2"
: >"$LOG"	# truncate in place, as logrotate's copytruncate
postfix_fail $B
check "truncation logged" wait_for 10 grep -q "logwatch: $LOG: truncated" "$MW_DAEMON_LOG"
expect_fails "copytruncate: only the new line" $B 3

# --- restart: nothing read twice; a line written while down read once
stop_mailwardd
postfix_fail $B
start_mailwardd
check "resumed at the saved offset" wait_for 10 grep -q "logwatch: $LOG: resuming at offset" "$MW_DAEMON_LOG"
expect_fails "restart: the line written while down, once" $B 4
expect_fails "restart: $A's failures not read again" $A 5
# The engine's windows start empty after a restart: 1 failure of B so far.
# If old lines had been read again, B would be banned by these 3.
postfix_fail $B
dovecot_fail $B carol@test.example
postfix_fail $B
expect_fails "3 more failures of $B" $B 7
expect_banned "4 failures since the restart" $B no
postfix_fail $B
expect_fails "the 5th since the restart" $B 8
expect_banned "5 failures since the restart" $B yes
expect_policy "Postfix policy refuses $B" $B '^(REJECT|DEFER|4[0-9][0-9]|5[0-9][0-9])'
expect_policy "an address without failures is let through" 127.0.0.99 '^DUNNO'

mwcli status --json >"$T/status.json"
rep=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["listeners"]["logwatch"]; print(l["reported"], l["repeated_summaries"], l["files_open"])' "$T/status.json")
check "status: 5 failures reported since the restart, 1 Dovecot summary not counted again, 1 file open (got $rep)" test "$rep" = "5 1 1"
# --- SIGHUP: a second file is followed, the first keeps its position
LOG2=$LOGDIR/dovecot.log
: >"$LOG2"; chmod 644 "$LOG2"
sed -i "s|^files = $LOG\$|files = $LOG $LOG2|" "$MW_CONF"
C=127.0.0.88
kill -HUP "$MW_DAEMON_PID"
check "reload logged" wait_for 10 grep -q "configuration reloaded" "$MW_DAEMON_LOG"
check "the new file is followed" wait_for 10 grep -q "logwatch: $LOG2: following from its end" "$MW_DAEMON_LOG"
dovecot_fail $C dave@test.example "$LOG2"
postfix_fail $C
expect_fails "after SIGHUP: one line in each file" $C 2
expect_fails "after SIGHUP: nothing of $B read again" $B 8
sleep 11	# the old configuration is freed 10 s after a reload
postfix_fail $C "$LOG2"
expect_fails "still following once the old configuration is gone" $C 3

check "no line skipped as overlong" test "$(grep -c 'overlong' "$MW_DAEMON_LOG")" = 0
stop_mailwardd
mw_done
