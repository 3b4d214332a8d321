#!/bin/bash
# logwatch_journal - [logwatch] journal = yes: mailwardd follows a journal
# directory (journal files written by systemd-journal-remote, as a real
# journald would): entries of the mail facility become AUTH_FAIL events
# with the entry's time; what was there before the start is not replayed;
# after a restart it resumes after the saved cursor (nothing twice, what
# came while it was down once); the 5th failure bans; Postfix's policy
# answer refuses the address. Skipped without systemd-journal-remote or a
# build without libsystemd.
. "$(dirname "$0")/lib.sh"
mw_init logwatch_journal

JR=/lib/systemd/systemd-journal-remote
[ -x "$JR" ] || skip_all "systemd-journal-remote not installed (Debian: systemd-journal-remote)"
[ "$(id -u)" = 0 ] && MW_DAEMON_USER=nobody
JDIR=$T/journal
mkdir -p "$JDIR"
chmod 755 "$JDIR"
BOOT=0123456789abcdef0123456789abcdef
MONO=1000

# jentry IDENT MESSAGE [FACILITY]: appends one entry to the journal file
jentry() {
	MONO=$((MONO + 1000))
	printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\nSYSLOG_FACILITY=%s\nSYSLOG_IDENTIFIER=%s\n_PID=%s\nMESSAGE=%s\n\n' \
	    "${JR_TIME:-$(date +%s%6N)}" "$MONO" "$BOOT" "${3:-2}" "$1" $((RANDOM + 100)) "$2" |
	    "$JR" -o "$JDIR/remote.journal" - 2>>"$T/jr.log" ||
	    { fail "systemd-journal-remote appends an entry"; exit 1; }
	chmod 644 "$JDIR"/*.journal
}
sasl_fail() { jentry postfix/submission/smtpd "warning: unknown[$1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"; }

A=127.0.0.66
sasl_fail $A	# before the start: not replayed
jentry postfix/smtpd "warning: unknown[127.0.0.55]: SASL LOGIN authentication failed: x" 3	# not the mail facility

mw_write_config "$T/mailward.conf" "[login]
ban_after = 5
tarpit_after = 3
account_address_ban_after = 100
spray_accounts = 100
network_ban_after = 1000

[logwatch]
enabled = yes
journal = yes
journal_directory = $JDIR
poll_interval = 200ms"

fails() {
	mwcli events --address "$1" --limit 1000 --json >"$T/ev.json" || { echo -1; return; }
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["events"] if isinstance(d, dict) else d
print(sum(e.get("count", 1) for e in ev if e.get("verdict") == "AUTH_FAIL" and e.get("listener") == "logwatch"))
' "$T/ev.json"
}
fails_are() { [ "$(fails "$1")" = "$2" ]; }
expect_fails() {
	local desc=$1 addr=$2 n=$3 got
	wait_for 10 fails_are "$addr" "$n"
	sleep 0.6
	got=$(fails "$addr")
	if [ "$got" = "$n" ]; then ok "$desc: $n AUTH_FAIL events for $addr"
	else fail "$desc: want $n AUTH_FAIL events for $addr, got $got"; fi
}
banned() { mwcli ban list --json >"$T/bans.json" && $MW_HELPER json-find "$T/bans.json" address "$1" >/dev/null; }

start_mailwardd
if grep -q "this build reads files only" "$MW_DAEMON_LOG"; then
	stop_mailwardd
	skip_all "mailwardd built without libsystemd-dev"
fi
check "journal followed from its end" wait_for 10 grep -q "logwatch: journal $JDIR: following from its end" "$MW_DAEMON_LOG"
sasl_fail $A
sasl_fail $A
OLD_US=$(( $(date +%s) * 1000000 - 300000000 + 123000 ))	# 5 min ago, .123 s
JR_TIME=$OLD_US jentry dovecot "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<a@test.example>, method=PLAIN, rip=$A, lip=127.0.0.1, TLS"
expect_fails "3 new entries (the one before the start not replayed)" $A 3
check "other facilities are not read" fails_are 127.0.0.55 0
mwcli events --address $A --json >"$T/evA.json"
ts=$(python3 -c 'import json,sys; print(min(e["time_ms"] for e in json.load(open(sys.argv[1]))["events"] if e["verdict"] == "AUTH_FAIL"))' "$T/evA.json" 2>/dev/null)
check "event time is the journal entry's own time (${ts:-none} = $((OLD_US / 1000)))" \
    test "${ts:-none}" = "$((OLD_US / 1000))"

stop_mailwardd
sasl_fail $A	# while down
start_mailwardd
check "resumed after the saved cursor" wait_for 10 grep -q "logwatch: journal $JDIR: resuming after the saved cursor" "$MW_DAEMON_LOG"
expect_fails "restart: nothing twice, the entry written while down once" $A 4
# windows start empty after a restart: 1 failure so far; 4 more make 5
sasl_fail $A
sasl_fail $A
sasl_fail $A
expect_fails "3 more" $A 7
if banned $A; then fail "4 failures since the restart: $A not banned yet"
else ok "4 failures since the restart: $A not banned yet"; fi
sasl_fail $A
wait_for 10 banned $A
check "5th failure since the restart: $A banned" banned $A
expect_policy "Postfix policy refuses $A" $A '^(REJECT|DEFER|4[0-9][0-9]|5[0-9][0-9])'
stop_mailwardd
mw_done
