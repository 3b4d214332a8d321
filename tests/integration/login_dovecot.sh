#!/bin/bash
# login_dovecot - the login guard against a real Dovecot: Dovecot (IMAP and
# POP3 on 127.0.0.1, a passwd-file of test users) asks mailwardd through
# contrib/dovecot/95-mailward.conf, included as shipped but for the URL's
# port and the nonce. Each client binds its own 127.0.0.x source address,
# so Dovecot (and mailward) see one address per "attacker".
#   1. wrong passwords from one address: answered at once, then tarpitted
#      (the delay measured), then the address is banned; the right password
#      from it is refused (IMAP and POP3) while another address logs in;
#      after `mailward ban del` the address logs in again
#   2. spraying: one address, one wrong password per account -> ban
#   3. distributed: several addresses failing on one account -> new
#      addresses refused for it, the user's own address still logs in
#   4. a success right after failures -> a "possible takeover" alert
# Thresholds are small ([login] below) so each scenario takes seconds.
. "$(dirname "$0")/lib.sh"
mw_init login_dovecot
command -v dovecot >/dev/null || skip_all "dovecot not installed (scripts/install-deps.sh test)"
[ "$(id -u)" = 0 ] || skip_all "Dovecot needs root to start (run: sudo scripts/test.sh)"

NONCE=mailward-test-nonce	# fixed: the wrong passwords below have distinct 12-bit hashes
MW_AUTHPOLICY_PORT=$(free_tcp_port)
API_KEY=$(mw_dovecot_policy "$T/95-mailward.conf" "$MW_AUTHPOLICY_PORT" "$NONCE")
mw_write_config "$T/mailward.conf" "[authpolicy]
enabled = yes
listen = 127.0.0.1:$MW_AUTHPOLICY_PORT
api_key = $API_KEY
hash_nonce = $NONCE
hash_truncate = 12

[login]
enabled = yes
window = 10m
tarpit_after = 2
tarpit_delay = 2s
ban_after = 5
account_address_ban_after = 100
# every loopback address its own network (the default /24 would make all
# of 127.0.0.0/24 one attacker, and one known network)
network_bits_v4 = 32
network_ban_after = 1000
spray_accounts = 3
spray_network_accounts = 200
spray_password_accounts = 200
distributed_addresses = 4
distributed_action = reject
alert_after_failures = 2
alert_new_network = no
ban_time = 1h"
check "docs/dovecot.md shows contrib/dovecot/95-mailward.conf as it is" \
    $MW_HELPER same-lines "$MW_SOURCE_DIR/contrib/dovecot/95-mailward.conf" \
    "$MW_SOURCE_DIR/docs/dovecot.md"
start_mailwardd

MW_IMAP_PORT=$(free_tcp_port)
MW_POP3_PORT=$(free_tcp_port)
MW_DOVECOT_USERS="alice@test.example:alice-pw bob@test.example:bob-pw
carol@test.example:carol-pw dave@test.example:dave-pw u1@test.example:u1-pw
u2@test.example:u2-pw u3@test.example:u3-pw"
MW_DOVECOT_POLICY=$T/95-mailward.conf
IPV6=0
python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null && IPV6=1
MW_DOVECOT_IPV6=$IPV6
start_dovecot

# --- 0. Dovecot talks to mailward -------------------------------------
expect_login "alice, right password, 127.0.0.9" imap 127.0.0.9 alice@test.example alice-pw ok 0 1800
check "mailward answered Dovecot's allow checks" authpolicy_stat_ge allow_checks 1
if grep -q 'authpolicy\[127.0.0.1:[0-9]*\]: imap login "alice@test.example" from 127.0.0.9: allowed' "$MW_DAEMON_LOG"; then
	ok "mailward logged the allowed IMAP login of alice from 127.0.0.9"
else
	fail "mailward logged the allowed IMAP login of alice from 127.0.0.9"
fi

# --- IPv6: a ban on ::1 refuses its logins, and is lifted -----------------
if [ "$IPV6" = 1 ]; then
	expect_login "alice from ::1" imap ::1 alice@test.example alice-pw ok
	check "cli: ban add ::1" mwcli ban add ::1 --reason "ipv6 test"
	expect_login "alice from banned ::1: refused" imap ::1 alice@test.example alice-pw refused
	if grep -q 'authpolicy\[.*\]: imap login "alice@test.example" from ::1: refused (banned ::1 (manual): ipv6 test)' "$MW_DAEMON_LOG"; then
		ok "mailward refused alice from ::1 for the manual ban"
	else
		fail "mailward refused alice from ::1 for the manual ban"
	fi
	check "cli: ban del ::1" mwcli ban del ::1
	expect_login "alice from ::1 after ban del" pop3 ::1 alice@test.example alice-pw ok
else
	note "no IPv6 loopback here: the ::1 checks are skipped"
fi

# --- 1. one address guessing one password ------------------------------
# "at once" is under 1.8 s (Dovecot itself takes about 0.5 s to answer a
# failure here), a tarpit adds tarpit_delay = 2 s on top.
A=127.0.0.10
expect_login "wrong password 1 from $A: answered at once" imap $A alice@test.example wrong-1 failed 0 1800
expect_login "wrong password 2 from $A: answered at once" imap $A alice@test.example wrong-2 failed 0 1800
expect_login "wrong password 3 from $A: tarpitted 2 s" imap $A alice@test.example wrong-3 failed 1900 6000
note "tarpit measured: $LOGIN_MS ms for a 2 s tarpit_delay"
expect_login "wrong password 4 from $A: tarpitted" imap $A alice@test.example wrong-4 failed 1900 6000
expect_login "wrong password 5 from $A: tarpitted, then banned" pop3 $A alice@test.example wrong-5 failed 1900 6000
mwcli_to "$T/bans.json" "cli: ban list --json" --json ban list
if [ "$($MW_HELPER json-find "$T/bans.json" address $A source)" = login ]; then
	ok "$A banned by the login guard: $($MW_HELPER json-find "$T/bans.json" address $A reason)"
else
	fail "$A banned by the login guard (source login)"
	sed 's/^/     | /' "$T/bans.json" | head -n 5
fi
expect_login "right password from banned $A (IMAP): refused" imap $A alice@test.example alice-pw refused 0 1800
expect_login "right password from banned $A (POP3): refused" pop3 $A alice@test.example alice-pw refused 0 1800
if grep -q "policy(alice@test.example,$A,.*Authentication failure due to policy server refusal: Login refused" "$T/dovecot/dovecot.log"; then
	ok "Dovecot logged the refusal of alice from $A as a policy server refusal"
else
	fail "Dovecot logged the refusal of alice from $A as a policy server refusal"
fi
if grep -q "authpolicy\[.*\]: imap login \"alice@test.example\" from $A: refused (banned $A (login)" "$MW_DAEMON_LOG"; then
	ok "mailward logged the refusal with the ban as the reason"
else
	fail "mailward logged the refusal with the ban as the reason"
fi
expect_login "right password from another address 127.0.0.11" imap 127.0.0.11 alice@test.example alice-pw ok 0 1800
check "cli: ban del $A" mwcli ban del $A
expect_login "right password from $A after ban del" imap $A alice@test.example alice-pw ok 0 1800

# --- 2. spraying: one address, many accounts ---------------------------
S=127.0.0.20
expect_login "spray from $S: u1" imap $S u1@test.example wrong-1 failed
expect_login "spray from $S: u2" imap $S u2@test.example wrong-1 failed
expect_login "spray from $S: u3" pop3 $S u3@test.example wrong-1 failed
mwcli_to "$T/bans.json" "cli: ban list --json" --json ban list
reason=$($MW_HELPER json-find "$T/bans.json" address $S reason)
if [[ $reason == *spraying* ]]; then
	ok "$S banned for spraying after 3 accounts (ban_after is 5): $reason"
else
	fail "$S banned for spraying after 3 accounts: got reason \"$reason\""
fi
expect_login "spraying $S refused even with a right password" imap $S u1@test.example u1-pw refused

# --- 3. distributed attack on one account ------------------------------
expect_login "carol logs in from her own address 127.0.0.40" imap 127.0.0.40 carol@test.example carol-pw ok
for i in 41 42 43 44; do
	expect_login "carol attacked from 127.0.0.$i" imap 127.0.0.$i carol@test.example "guess-$i" failed
done
expect_login "carol from a new address 127.0.0.45, right password: refused (account protected)" \
    imap 127.0.0.45 carol@test.example carol-pw refused
expect_login "carol from her own address 127.0.0.40 still logs in" imap 127.0.0.40 carol@test.example carol-pw ok
mwcli_to "$T/bans.json" "cli: ban list --json" --json ban list
if $MW_HELPER json-find "$T/bans.json" address 127.0.0.41 >/dev/null; then
	fail "no attacking address of the distributed attack banned after one failure each"
else
	ok "no attacking address of the distributed attack banned after one failure each"
fi
mwcli_to "$T/alerts.json" "cli: alerts --json" alerts --json
if $MW_HELPER json-find "$T/alerts.json" account carol@test.example >/dev/null; then
	ok "alert for carol@test.example: $($MW_HELPER json-find "$T/alerts.json" account carol@test.example reason)"
else
	fail "an alert names carol@test.example (distributed attack)"
fi

# --- 4. success after failures -----------------------------------------
D=127.0.0.30
expect_login "dave from $D: wrong password" imap $D dave@test.example wrong-1 failed
expect_login "dave from $D: wrong password" imap $D dave@test.example wrong-2 failed
expect_login "dave from $D: right password (tarpitted, succeeds)" imap $D dave@test.example dave-pw ok 1900 6000
mwcli_to "$T/alerts.json" "cli: alerts --json" alerts --json
alert=$($MW_HELPER json-find "$T/alerts.json" account dave@test.example)
if [[ $alert == *after_failures* && $alert == *"$D"* ]]; then
	ok "possible-takeover alert for dave@test.example from $D"
else
	fail "possible-takeover alert (after_failures) for dave@test.example from $D; got: ${alert:-none}"
	sed 's/^/     | /' "$T/alerts.json" | head -n 5
fi
if grep -q "login: alert [0-9]*: possible takeover of \"*dave@test.example\"* from $D" "$MW_DAEMON_LOG"; then
	ok "mailwardd logged the possible takeover of dave@test.example"
else
	fail "mailwardd logged the possible takeover of dave@test.example"
fi

# --- SIGHUP/reload: a new reject_text is used at once ---------------------
sed -i 's/^\[authpolicy\]$/[authpolicy]\nreject_text = Blocked by mailward-test (%s)./' "$MW_CONF"
check "cli: reload with a new [authpolicy] reject_text" mwcli reload
expect_login "spraying $S after the reload: the new text with the reason" \
    imap $S u2@test.example u2-pw refused
if [[ $(tail -n1 "$T/logins.txt") == *"Blocked by mailward-test (banned $S (login): password spraying"* ]]; then
	ok "the refusal carries the new reject_text with the reason"
else
	fail "the refusal carries the new reject_text with the reason: $(tail -n1 "$T/logins.txt")"
fi
mwcli status >"$T/status.txt"
if grep -qE '^authpolicy +connections [0-9]+, .*allow_checks [1-9][0-9]*, reports [1-9]' "$T/status.txt"; then
	ok "mailward status shows the authpolicy listener: $(grep '^authpolicy' "$T/status.txt" | cut -c1-100)..."
else
	fail "mailward status shows the authpolicy listener"
	sed 's/^/     | /' "$T/status.txt"
fi

# --- the password never reaches mailward's log or store ------------------
if grep -qE 'alice-pw|dave-pw|wrong-[0-9]|"pwhash"' "$MW_DAEMON_LOG" "$MW_STATE"/mailward.db* 2>/dev/null; then
	fail "no password or password hash in mailwardd's log or store"
else
	ok "no password or password hash in mailwardd's log or store"
fi
check "no malformed or unauthorized auth policy requests" \
    test "$(authpolicy_stat malformed)$(authpolicy_stat unauthorized)$(authpolicy_stat fail_open)" = 000
stop_mailwardd
mw_done
