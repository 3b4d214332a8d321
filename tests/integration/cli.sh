#!/bin/bash
# cli - every verb of `mailward` against a running daemon: human tables
# carry the expected columns, --json is valid JSON, malformed input is
# refused with a clear message (and a fix where there is one) and exit 64
# before anything is sent, a refusal by the daemon (no such ban, entry from
# the config file) exits 1, a stopped daemon gives exit 69
# (EX_UNAVAILABLE), `config check` gives 78 (EX_CONFIG) with file:line.
. "$(dirname "$0")/lib.sh"
mw_init cli

mw_write_config "$T/mailward.conf" "[lists]
allow = 192.0.2.128/25
deny = 198.51.100.0/24"
start_mailwardd

# run_cli NAME ARGS...: output in $T/NAME.out, stderr in $T/NAME.err, exit
# status in $rc.
run_cli() {
	local name=$1; shift
	"$MW_CLI" "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	cat "$T/$name.err" >>"$T/cli.err"
}
C=(-c "$MW_CONF")

# expect_json NAME ARGS...: exit 0 and stdout is valid JSON.
expect_json() {
	local name=$1; shift
	run_cli "$name" "${C[@]}" --json "$@"
	if [ "$rc" -eq 0 ] && $MW_HELPER json "$T/$name.out" 2>/dev/null; then
		ok "--json $*: exit 0, valid JSON"
	else
		fail "--json $*: exit $rc, JSON: $($MW_HELPER json "$T/$name.out" 2>&1 | head -n1)"
		head -c 400 "$T/$name.out" "$T/$name.err" | sed 's/^/     | /'
	fi
}

# expect_table NAME REGEX... -- ARGS...: exit 0 and every REGEX (extended,
# case-insensitive) found in stdout.
expect_table() {
	local name=$1 pats=() p miss=""; shift
	while [ "$1" != -- ]; do pats+=("$1"); shift; done
	shift
	run_cli "$name" "${C[@]}" "$@"
	for p in "${pats[@]}"; do
		grep -qiE -- "$p" "$T/$name.out" || miss="$miss /$p/"
	done
	if [ "$rc" -eq 0 ] && [ -z "$miss" ]; then
		ok "$*: exit 0, shows ${pats[*]}"
	else
		fail "$*: exit $rc, missing:${miss:- none}"
		head -n 8 "$T/$name.out" "$T/$name.err" | sed 's/^/     | /'
	fi
}

# expect_refused NAME WANT_RC MSG_REGEX ARGS...: exit WANT_RC ("nonzero":
# any failure) and stderr matches MSG_REGEX; nothing half-done on stdout.
expect_refused() {
	local name=$1 want=$2 msg=$3; shift 3
	run_cli "$name" "$@"
	local rc_ok=0
	if [ "$want" = nonzero ]; then [ "$rc" -ne 0 ] && rc_ok=1
	else [ "$rc" -eq "$want" ] && rc_ok=1; fi
	if [ "$rc_ok" = 1 ] && grep -qiE -- "$msg" "$T/$name.err"; then
		ok "refused: $* -> exit $rc: $(head -n1 "$T/$name.err")"
	else
		fail "refused: $* -> want exit $want and /$msg/ on stderr, got exit $rc: $(head -n2 "$T/$name.err" | tr '\n' '|')"
	fi
}

# ---- status
expect_table status 'version|mailwardd' 'uptime' -- status
expect_json status_json status
check "status --json has a version" $MW_HELPER json-get "$T/status_json.out" version

# ---- bans
expect_table ban_add '203\.0\.113\.5' -- ban add 203.0.113.5 --for 1h --reason "cli test"
expect_json ban_add2 ban add 203.0.113.6 --reason "cli json test"
check "ban add --json returns the ban" $MW_HELPER json-find "$T/ban_add2.out" address 203.0.113.6
expect_table ban_add_net '198\.18\.0\.0/15' -- ban add 198.18.0.0/15 --for 2d
expect_table ban_add_v6 '2001:db8::5' -- ban add 2001:DB8:0::5 --permanent
expect_table ban_list 'address' 'source' 'reason' 'expires' '203\.0\.113\.5' 'cli test' \
    '198\.18\.0\.0/15' '2001:db8::5' 'manual' -- ban list
expect_json ban_list_json ban list
check "ban list --json: 203.0.113.5 with source manual" \
    test "$($MW_HELPER json-find "$T/ban_list_json.out" address 203.0.113.5 source)" = manual
check "ban list --json: reason kept" \
    test "$($MW_HELPER json-find "$T/ban_list_json.out" address 203.0.113.5 reason)" = "cli test"
exp=$($MW_HELPER json-find "$T/ban_list_json.out" address 203.0.113.5 expires)
nows=$(date +%s)
check "ban --for 1h expires in about an hour ($exp - $nows)" \
    test -n "$exp" -a "$exp" != null -a $((exp - nows)) -ge 3500 -a $((exp - nows)) -le 3700
check "ban --permanent has expires null" \
    test "$($MW_HELPER json-find "$T/ban_list_json.out" address 2001:db8::5 expires)" = null
run_cli ban_del "${C[@]}" ban del 203.0.113.5
check "ban del 203.0.113.5: exit 0" test "$rc" -eq 0
expect_refused ban_del_again 1 'no (such )?ban|not (found|banned)' "${C[@]}" ban del 203.0.113.5
run_cli ban_list2 "${C[@]}" --json ban list
if $MW_HELPER json-find "$T/ban_list2.out" address 203.0.113.5 >/dev/null; then
	fail "deleted ban is gone from ban list"
else
	ok "deleted ban is gone from ban list"
fi

# ---- allow / deny
for l in allow deny; do
	case $l in allow) net=192.0.2.0/26 cfgnet=192.0.2.128/25 ;; deny) net=203.0.113.128/25 cfgnet=198.51.100.0/24 ;; esac
	expect_table "${l}_add" "${net//./\\.}" -- $l add $net
	expect_table "${l}_list" 'network' "${net//./\\.}" "${cfgnet//./\\.}" 'config' -- $l list
	expect_json "${l}_list_json" $l list
	check "$l list --json: $net from the store" \
	    test "$($MW_HELPER json-find "$T/${l}_list_json.out" network $net origin)" = store
	check "$l list --json: $cfgnet from the config file" \
	    test "$($MW_HELPER json-find "$T/${l}_list_json.out" network $cfgnet origin)" = config
	expect_refused "${l}_del_cfg" 1 'mailward\.conf(:[0-9]+)?' "${C[@]}" $l del $cfgnet
	run_cli "${l}_del" "${C[@]}" $l del $net
	check "$l del $net: exit 0" test "$rc" -eq 0
	expect_refused "${l}_del_again" 1 'not (in|on|found)|no such' "${C[@]}" $l del $net
done
expect_table allow_v6 '2001:db8:1::/48' -- allow add 2001:db8:1::/48
expect_table deny_v6 '2001:db8:2::/48' -- deny add 2001:db8:2::/48

# ---- check (explain)
expect_table check_deny 'REJECT' 'deny' '198\.51\.100\.0/24' -- check 198.51.100.7
expect_json check_deny_json check 198.51.100.7
check "check --json: verdict REJECT" test "$($MW_HELPER json-get "$T/check_deny_json.out" verdict)" = REJECT
check "check --json: decided_by deny" test "$($MW_HELPER json-get "$T/check_deny_json.out" decided_by)" = deny
expect_table check_allow 'DUNNO' 'allow' -- check 192.0.2.200
expect_table check_ban 'REJECT' 'ban' -- check 198.18.3.4
expect_table check_v6 'REJECT' 'deny' -- check 2001:db8:2::9
expect_table check_none 'DUNNO' -- check 203.0.113.200

# ---- events: a policy decision is recorded
expect_policy "policy request to create an event" 198.51.100.8 '^(REJECT|5[0-9][0-9])'
sleep 0.5
expect_table events '198\.51\.100\.8' 'REJECT' -- events
expect_json events_json events
check "events --json lists 198.51.100.8" $MW_HELPER json-find "$T/events_json.out" address 198.51.100.8

# ---- reload
run_cli reload "${C[@]}" reload
check "reload: exit 0" test "$rc" -eq 0

# ---- malformed input: refused before anything is sent
for bad in 10.0.0.0/33 ::ffff:1.2.3.4/200 garbage 1.2.3 300.1.1.1 10.0.0.0/ '' '10.0.0.0/8 x'; do
	expect_refused badaddr nonzero '.' "${C[@]}" ban add "$bad"
	badrc=$rc
	[ -z "${first_badrc:-}" ] && first_badrc=$badrc
	check "  same exit status for every malformed address ($badrc = $first_badrc)" \
	    test "$badrc" = "$first_badrc"
done
note "malformed address exit status: $first_badrc"
check "malformed address exit status is the usage error 64, got $first_badrc" \
    test "$first_badrc" = 64
expect_refused hostbits "$first_badrc" '10\.0\.0\.0/8' "${C[@]}" ban add 10.0.0.1/8
expect_refused hostbits_deny "$first_badrc" '10\.0\.0\.0/8' "${C[@]}" deny add 10.0.0.1/8
expect_refused hostbits_v6 "$first_badrc" '2001:db8::/32' "${C[@]}" allow add 2001:db8::1/32
expect_refused baddur 64 'duration|--for' "${C[@]}" ban add 203.0.113.9 --for 5x
expect_refused badverb 64 'usage|unknown' "${C[@]}" frobnicate
expect_refused noarg 64 'usage|missing|address' "${C[@]}" ban add
run_cli nothing_added "${C[@]}" --json ban list
if $MW_HELPER json-has "$T/nothing_added.out" 10.0.0.0/8 ||
    $MW_HELPER json-find "$T/nothing_added.out" address 203.0.113.9 >/dev/null; then
	fail "refused commands changed nothing"
else
	ok "refused commands changed nothing"
fi

# ---- config check
run_cli cfg_good config check "$MW_CONF"
check "config check of the running config: exit 0" test "$rc" -eq 0
cp "$MW_CONF" "$T/bad.conf"
printf '\n[dnsbl]\ntimeout = 2x\n' >>"$T/bad.conf"
badline=$(grep -n 'timeout = 2x' "$T/bad.conf" | cut -d: -f1)
expect_refused cfg_bad 78 "bad\.conf:$badline: .*timeout" config check "$T/bad.conf"
expect_refused cfg_missing 78 'nonexistent\.conf' config check "$T/nonexistent.conf"

# ---- --socket and a stopped daemon
run_cli sock --socket "$MW_ADMIN_SOCK" status
check "--socket PATH status: exit 0" test "$rc" -eq 0
stop_mailwardd
expect_refused down 69 'admin\.sock|mailwardd|running' "${C[@]}" status
expect_refused down_ban 69 'admin\.sock|mailwardd|running' "${C[@]}" ban list
expect_refused down_sock 69 'nowhere\.sock' --socket "$T/nowhere.sock" status
mw_done
