#!/bin/bash
# policy_postfix - real Postfix asks mailwardd (check_policy_service, the
# lines of contrib/postfix/main.cf.snippet); swaks sends from different
# 127.0.0.0/8 source addresses; rbldnsd serves the DNSBL zones.
#
#   127.0.0.10  allowed (config) and also denied, banned and DNSBL-listed -> accepted
#   127.0.0.20  denied (config)                        -> 5xx with mailward's text
#   127.0.0.30  banned with the CLI -> rejected; unbanned -> accepted
#   127.0.0.2   listed in zen (SBL, weight 2 >= threshold 2) -> rejected
#   127.0.0.42  listed in zen (XBL), then allowed with the CLI -> accepted
#   127.0.0.41  excluded from the listed range          -> accepted
#   127.0.0.60  listed in one weight-1 zone (score 1)    -> accepted
#   127.0.0.61  listed in two weight-1 zones (score 2)   -> rejected
#   127.0.0.99  zen answers 127.255.255.254 (an error, not a listing) -> accepted
#   127.0.0.50  not listed                               -> accepted
# Direct policy requests: authenticated clients skip the DNSBL (but not the
# deny list); PBL listings do not count on submission ports; IPv6 clients
# are looked up in an ip6trie zone. Last, with
# mailwardd stopped, Postfix applies default_action=DUNNO: mail flows.
. "$(dirname "$0")/lib.sh"
mw_init policy_postfix
need_postfix

# The documented snippets are the tested ones.
for doc in docs/postfix.md README.md; do
	for snip in main.cf.snippet master.cf.snippet; do
		check "$doc shows contrib/postfix/$snip verbatim" \
		    $MW_HELPER same-lines "$MW_SOURCE_DIR/contrib/postfix/$snip" "$MW_SOURCE_DIR/$doc"
	done
done

mkdir -p "$T/dnsbl"
SOA='$SOA 300 ns.dnsbl.test hostmaster.dnsbl.test 0 600 300 86400 60
$NS 300 ns.dnsbl.test
$TTL 60'
cat >"$T/dnsbl/zen.ip4set" <<EOF
$SOA
:127.0.0.2:Listed (local SBL test) \$
127.0.0.2
127.0.0.10
127.0.0.40/30 :127.0.0.4:Listed (local XBL test) \$
!127.0.0.41
127.0.0.99 :127.255.255.254:public resolver
127.0.0.70 :127.0.0.10:Listed (local PBL test) \$
EOF
cat >"$T/dnsbl/zen.ip6trie" <<'EOF'
:127.0.0.3:Listed (local IPv6 test)
2001:db8:bad::/48
EOF
printf '%s\n:127.0.0.2:low\n127.0.0.60\n127.0.0.61\n' "$SOA" >"$T/dnsbl/low.ip4set"
printf '%s\n:127.0.0.2:low2\n127.0.0.61\n' "$SOA" >"$T/dnsbl/low2.ip4set"
start_rbldnsd zen.dnsbl.test:ip4set:zen.ip4set zen.dnsbl.test:ip6trie:zen.ip6trie \
    low.dnsbl.test:ip4set:low.ip4set low2.dnsbl.test:ip4set:low2.ip4set

mw_write_config "$T/mailward.conf" "[dnsbl]
resolver = 127.0.0.1:$MW_DNS_PORT
timeout = 2s
threshold = 2
action = reject

[dnsbl:zen]
preset = spamhaus-zen
zone = zen.dnsbl.test

[dnsbl:low]
zone = low.dnsbl.test
weights = 127.0.0.2=1
ipv6 = no

[dnsbl:low2]
zone = low2.dnsbl.test
weights = 127.0.0.2=1
ipv6 = no

[lists]
allow = 127.0.0.10
deny = 127.0.0.20/31"
start_mailwardd
start_postfix

# The allow list wins over everything: deny, ban and DNSBL.
check "cli: deny add 127.0.0.10" mwcli deny add 127.0.0.10
check "cli: ban add 127.0.0.10" mwcli ban add 127.0.0.10 --reason "it allow test"
expect_smtp "allowed, also denied+banned+listed" 127.0.0.10 accept

expect_smtp "denied by [lists] deny" 127.0.0.20 reject 'mailward-test: '
expect_smtp "denied (2nd address of the /31)" 127.0.0.21 reject 'mailward-test: '

expect_smtp "not yet banned" 127.0.0.30 accept
check "cli: ban add 127.0.0.30 --for 1h" mwcli ban add 127.0.0.30 --for 1h --reason "it ban test"
expect_smtp "banned" 127.0.0.30 reject 'mailward-test: '
check "cli: ban del 127.0.0.30" mwcli ban del 127.0.0.30
expect_smtp "unbanned" 127.0.0.30 accept

expect_smtp "DNSBL: SBL-listed (score 2)" 127.0.0.2 reject 'mailward-test: '
expect_smtp "DNSBL: XBL-listed range (score 2)" 127.0.0.42 reject 'mailward-test: '
expect_smtp "DNSBL: excluded from the range" 127.0.0.41 accept
expect_smtp "DNSBL: one weight-1 zone (score 1 < 2)" 127.0.0.60 accept
expect_smtp "DNSBL: two weight-1 zones (score 2)" 127.0.0.61 reject 'mailward-test: '
expect_smtp "DNSBL: 127.255.255.254 is an error, not a listing" 127.0.0.99 accept
expect_smtp "not listed anywhere" 127.0.0.50 accept
check "cli: allow add 127.0.0.42" mwcli allow add 127.0.0.42
expect_smtp "DNSBL-listed but allowed with the CLI" 127.0.0.42 accept

# What Postfix logged for a refusal: mailward's text reached the log too.
if grep -q 'reject: RCPT from .*127.0.0.20.*mailward-test: ' "$T/postfix/maillog"; then
	ok "postfix logged the refusal with mailward's text"
else
	fail "postfix logged the refusal with mailward's text"
fi

# Direct policy requests (what Postfix sends, without Postfix).
expect_policy "policy: an allowed client gets DUNNO, never OK (OK would skip later checks)" \
    127.0.0.10 '^DUNNO$'
expect_policy "policy: authenticated client skips the DNSBL" 127.0.0.2 '^DUNNO$' \
    sasl_method=PLAIN sasl_username=alice@test.example server_port=587 policy_context=submission
expect_policy "policy: authenticated but denied is still refused" 127.0.0.20 '^(REJECT|5[0-9][0-9])' \
    sasl_method=PLAIN sasl_username=alice@test.example server_port=587 policy_context=submission
expect_policy "policy: PBL-listed client on port 25 is refused" 127.0.0.70 '^(REJECT|5[0-9][0-9]).*mailward-test: '
expect_policy "policy: PBL-listed client on a submission port (587) is not" 127.0.0.70 '^DUNNO$' \
    server_port=587 policy_context=submission
expect_policy "policy: IPv6 listed in the ip6trie zone" 2001:db8:bad::1 '^(REJECT|5[0-9][0-9]).*mailward-test: '
expect_policy "policy: IPv6 not listed" 2001:db8:beef::1 '^DUNNO$'
expect_policy "policy: IPv4-mapped IPv6 of a denied address" ::ffff:127.0.0.20 '^(REJECT|5[0-9][0-9])'

# mailwardd down: Postfix must apply the snippet's default_action=DUNNO
# (its own default would answer 451 4.3.5 and defer all mail).
stop_mailwardd
expect_smtp "mailwardd stopped: default_action=DUNNO lets mail through" 127.0.0.50 accept
if grep -q 'problem talking to server 127.0.0.1:'"$MW_POLICY_PORT" "$T/postfix/maillog"; then
	ok "postfix logged the unreachable policy server"
else
	fail "postfix logged the unreachable policy server"
fi
mw_done
