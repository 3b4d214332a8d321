#!/bin/bash
# submission_postfix - the submission service of contrib/postfix/master.cf.snippet
# (only its address and the ports replaced) in a real Postfix, with TLS and
# Dovecot SASL: the policy check comes before permit_sasl_authenticated, so
# a logged-in user from a denied or banned address is refused by mailward,
# while a logged-in user from a DNSBL-listed address is not (authenticated
# clients skip the blocklists); without AUTH, Postfix itself refuses.
. "$(dirname "$0")/lib.sh"
mw_init submission_postfix
need_postfix
command -v dovecot >/dev/null || skip_all "dovecot not installed (scripts/install-deps.sh test)"

mkdir -p "$T/dnsbl"
cat >"$T/dnsbl/zen.ip4set" <<'EOT'
$SOA 300 ns.dnsbl.test hostmaster.dnsbl.test 0 600 300 86400 60
$NS 300 ns.dnsbl.test
:127.0.0.2:Listed (local SBL test) $
127.0.0.2
EOT
start_rbldnsd zen.dnsbl.test:ip4set:zen.ip4set
mw_write_config "$T/mailward.conf" "[dnsbl]
resolver = 127.0.0.1:$MW_DNS_PORT
timeout = 2s

[dnsbl:zen]
preset = spamhaus-zen
zone = zen.dnsbl.test

[lists]
deny = 127.0.0.20"
start_mailwardd

MW_SUBMISSION_PORT=$(free_tcp_port)
start_dovecot_auth alice@test.example 's3cret-pw'
start_postfix
check "cli: ban add 127.0.0.30" mwcli ban add 127.0.0.30 --reason "stolen password"

# Port 25 first: the DNSBL-listed address is refused there.
expect_smtp "port 25, not authenticated, DNSBL-listed" 127.0.0.2 reject 'mailward-test: '

MW_SMTP_PORT=$MW_SUBMISSION_PORT	# from here on, talk to submission
AUTH=(--tls --auth PLAIN --auth-user alice@test.example --auth-password 's3cret-pw')
expect_smtp "submission, authenticated, clean address" 127.0.0.5 accept "" "${AUTH[@]}"
expect_smtp "submission, authenticated, DNSBL-listed address (blocklists skipped)" \
    127.0.0.2 accept "" "${AUTH[@]}"
expect_smtp "submission, authenticated, denied address" 127.0.0.20 reject 'mailward-test: ' "${AUTH[@]}"
expect_smtp "submission, authenticated, banned address" 127.0.0.30 reject 'mailward-test: ' "${AUTH[@]}"
check "cli: ban del 127.0.0.30" mwcli ban del 127.0.0.30
expect_smtp "submission, authenticated, unbanned address" 127.0.0.30 accept "" "${AUTH[@]}"
expect_smtp "submission, not authenticated: Postfix's own reject" 127.0.0.5 reject 'Access denied' --tls

# mailward saw the logins: the policy requests carried sasl_username.
if grep -q 'sasl_username=alice@test.example\|alice@test.example' "$MW_DAEMON_LOG" ||
    { mwcli --json events >"$T/events.json" && grep -q 'alice@test.example' "$T/events.json"; }; then
	ok "mailward saw sasl_username=alice@test.example (log or events)"
else
	fail "mailward saw sasl_username=alice@test.example (log or events)"
fi
stop_mailwardd
mw_done
