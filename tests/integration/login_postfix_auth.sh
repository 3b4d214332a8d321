#!/bin/bash
# login_postfix_auth - SMTP AUTH password guessing against a real Postfix
# (the submission service of contrib/postfix/master.cf.snippet, TLS, SASL
# through a real Dovecot that includes contrib/dovecot/95-mailward.conf):
# Dovecot's auth policy reports each failed AUTH to mailwardd, which bans
# the address; from then on Postfix's check_policy_service (mailwardd
# again) refuses that address on port 25, and Dovecot refuses its AUTH on
# submission even with the right password, while another address still
# authenticates and sends.
. "$(dirname "$0")/lib.sh"
mw_init login_postfix_auth
need_postfix
command -v dovecot >/dev/null || skip_all "dovecot not installed (scripts/install-deps.sh test)"

NONCE=mailward-test-nonce
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
tarpit_after = 3
ban_after = 3
network_bits_v4 = 32
alert_new_network = no"
start_mailwardd

MW_SUBMISSION_PORT=$(free_tcp_port)
MW_DOVECOT_USERS="alice@test.example:s3cret-pw"
MW_DOVECOT_SASL=1
MW_DOVECOT_POLICY=$T/95-mailward.conf
start_dovecot
start_postfix

A=127.0.0.60
# expect_auth DESC SRC PASSWORD ok|failed|refused: AUTH PLAIN on submission.
expect_auth() {
	local desc=$1 src=$2 pw=$3 want=$4 reply
	MW_SMTP_PORT=$MW_SUBMISSION_PORT smtp_send "$src" --tls --auth PLAIN \
	    --auth-user alice@test.example --auth-password "$pw"
	MW_LOGINS=$((MW_LOGINS + 1))
	reply=$(grep -E '^<(-|~|\*\*|~\*) +(235|535)' "$T/swaks.out" | head -n1 |
	    sed -E 's/^<(-|~|\*\*|~\*) +//')
	case $want in
	ok) [[ $reply == 235* ]] ;;
	failed) [[ $reply == 535* && $reply != *"Login refused"* ]] ;;
	refused) [[ $reply == 535* && $reply == *"Login refused"* ]] ;;
	esac
	if [ $? -eq 0 ]; then ok "$desc: $reply"
	else
		fail "$desc: want $want, AUTH got: ${reply:-?}"
		tail -n 6 "$T/swaks.out" | sed 's/^/     | /'
	fi
	wait_reports
}

expect_smtp "port 25 from $A before the attack" $A accept
for i in 1 2 3; do
	expect_auth "submission AUTH from $A, wrong password $i" $A "wrong-$i" failed
done
if grep -q "authpolicy\[.*\]: report: smtp login \"alice@test.example\" from $A: failure" "$MW_DAEMON_LOG"; then
	ok "Dovecot reported the SMTP AUTH failures (protocol smtp, client $A) to mailward"
else
	fail "Dovecot reported the SMTP AUTH failures (protocol smtp, client $A) to mailward"
fi
mwcli_to "$T/bans.json" "cli: ban list --json" --json ban list
if [ "$($MW_HELPER json-find "$T/bans.json" address $A source)" = login ]; then
	ok "$A banned: $($MW_HELPER json-find "$T/bans.json" address $A reason)"
else
	fail "$A banned by the login guard"
fi
expect_smtp "port 25 from banned $A, a later connection: refused by the policy check" \
    $A reject 'mailward-test: '
expect_auth "submission AUTH from banned $A, right password: refused by Dovecot's policy" \
    $A s3cret-pw refused
MW_SMTP_PORT=$MW_SUBMISSION_PORT expect_smtp \
    "submission from another address, authenticated: accepted" 127.0.0.61 accept "" \
    --tls --auth PLAIN --auth-user alice@test.example --auth-password s3cret-pw
check "cli: ban del $A" mwcli ban del $A
expect_smtp "port 25 from $A after ban del: accepted" $A accept
stop_mailwardd
mw_done
