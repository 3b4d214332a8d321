#!/bin/bash
# geoip - [geoip] database with a MaxMind DB built by
# tests/data/make-test-mmdb.pl (127.0.0.0/24 JP, 127.0.1.0/24 US, ::1 DE):
# GET /api/v1/bans gives "country", `mailward ban list` a COUNTRY column,
# `mailward check` the country, GET /api/v1/stats top.countries summed over
# the top attacking addresses; a file that is not an MMDB is a config error
# (file:line, exit 78) at start and on SIGHUP (the old config stays).
. "$(dirname "$0")/lib.sh"
mw_init geoip

perl "$MW_SOURCE_DIR/tests/data/make-test-mmdb.pl" "$T/country.mmdb"
case $? in
0) ;;
77) skip_all "no Perl MaxMind::DB::Writer (apt-get install libmaxmind-db-writer-perl)" ;;
*) fail "make-test-mmdb.pl builds the test database"; exit 1 ;;
esac
command -v curl >/dev/null || skip_all "curl missing"

# without [geoip]: no country anywhere, no COUNTRY column
mw_write_config "$T/mailward.conf" ""
start_mailwardd
mwcli ban add 127.0.0.5 --reason "geo test" >/dev/null
mwcli_to "$T/nogeo.txt" "ban list without [geoip]" ban list
check "no COUNTRY column without [geoip]" bash -c "! grep -q COUNTRY '$T/nogeo.txt'"
stop_mailwardd

mw_write_config "$T/mailward.conf" "[geoip]
database = $T/country.mmdb"
start_mailwardd
api() { curl -sS --unix-socket "$MW_ADMIN_SOCK" "http://mailward$1"; }

mwcli ban add 127.0.1.7 --reason "geo test" >/dev/null
mwcli ban add 127.0.2.9 --reason "geo test" >/dev/null	# not in the database
api /api/v1/bans >"$T/bans.json"
check "bans: 127.0.0.5 is JP" test "$($MW_HELPER json-find "$T/bans.json" address 127.0.0.5 country)" = JP
check "bans: 127.0.1.7 is US" test "$($MW_HELPER json-find "$T/bans.json" address 127.0.1.7 country)" = US
check "bans: 127.0.2.9 has no country" test "$($MW_HELPER json-find "$T/bans.json" address 127.0.2.9 country)" = null

mwcli_to "$T/bans.txt" "ban list with [geoip]" ban list
check "ban list: COUNTRY column" grep -q '^ADDRESS  *COUNTRY  *SOURCE' "$T/bans.txt"
check "ban list: 127.0.0.5 JP" grep -qE '^127\.0\.0\.5  +JP  +manual' "$T/bans.txt"
check "ban list: 127.0.1.7 US" grep -qE '^127\.0\.1\.7  +US  +manual' "$T/bans.txt"

api "/api/v1/check?address=::1" >"$T/check6.json"
check "check ::1: country DE" test "$($MW_HELPER json-get "$T/check6.json" country)" = DE
api "/api/v1/check?address=127.0.2.1" >"$T/check-none.json"
check "check 127.0.2.1: country null" test "$($MW_HELPER json-get "$T/check-none.json" country)" = null
mwcli_to "$T/check.txt" "mailward check 127.0.0.5" check 127.0.0.5
check "mailward check prints the country" grep -qE '^country +JP$' "$T/check.txt"
mwcli_to "$T/check2.txt" "mailward check 127.0.2.1" check 127.0.2.1
check "mailward check: no country line when unknown" bash -c "! grep -q '^country' '$T/check2.txt'"

# refusals of the banned addresses: 3 from JP (two addresses), 1 from US
expect_policy "refused: 127.0.0.5" 127.0.0.5 REJECT
expect_policy "refused: 127.0.0.5" 127.0.0.5 REJECT
mwcli ban add 127.0.0.6 --reason "geo test" >/dev/null
expect_policy "refused: 127.0.0.6" 127.0.0.6 REJECT
expect_policy "refused: 127.0.1.7" 127.0.1.7 REJECT
expect_policy "refused: 127.0.2.9" 127.0.2.9 REJECT
api "/api/v1/stats?range=1h" >"$T/stats.json"
check "stats: top country 1 is JP" test "$($MW_HELPER json-get "$T/stats.json" top.countries.0.country)" = JP
check "stats: JP counts 3" test "$($MW_HELPER json-get "$T/stats.json" top.countries.0.count)" = 3
check "stats: top country 2 is US, 1" test "$($MW_HELPER json-get "$T/stats.json" top.countries.1.country)$($MW_HELPER json-get "$T/stats.json" top.countries.1.count)" = US1
check "stats: only 2 countries" bash -c "! $MW_HELPER json-get '$T/stats.json' top.countries.2"

# a file that is not a MaxMind DB: file:line error, exit 78
printf 'not a database\n' >"$T/bad.mmdb"
running_conf=$MW_CONF
mw_write_config "$T/bad.conf" "[geoip]
database = $T/bad.mmdb"
line=$(grep -n '^database = ' "$T/bad.conf" | cut -d: -f1)
"$MW_CLI" config check "$T/bad.conf" >/dev/null 2>"$T/cfgbad.err"; rc=$?
check "config check of a non-MMDB: exit 78" test "$rc" -eq 78
check "config check names bad.conf:$line: geoip: database" grep -q "bad\.conf:$line: geoip: database: .*is not a MaxMind DB" "$T/cfgbad.err"
"$MW_DAEMON" -c "$T/bad.conf" -f >"$T/start-bad.out" 2>&1; rc=$?
check "mailwardd with a non-MMDB: exit 78" test "$rc" -eq 78
check "mailwardd says file:line" grep -q "bad\.conf:$line: geoip: database" "$T/start-bad.out"

# SIGHUP with the bad file keeps the running database
MW_CONF=$running_conf
cp "$MW_CONF" "$T/good.conf"
cp "$T/bad.conf" "$MW_CONF"
kill -HUP "$MW_DAEMON_PID"
wait_for 10 grep -q "keeping the running" "$MW_DAEMON_LOG"
check "SIGHUP with a non-MMDB: keeps the running config" grep -q "geoip: database" "$MW_DAEMON_LOG"
api /api/v1/bans >"$T/bans2.json"
check "after the refused reload: still JP" test "$($MW_HELPER json-find "$T/bans2.json" address 127.0.0.5 country)" = JP
# SIGHUP without [geoip]: countries off
cp "$T/good.conf" "$MW_CONF"
sed -i '/^\[geoip\]/,$d' "$MW_CONF"
kill -HUP "$MW_DAEMON_PID"
wait_for 10 grep -q "geoip: off" "$MW_DAEMON_LOG"
api /api/v1/bans >"$T/bans3.json"
check "after a reload without [geoip]: no country" test "$($MW_HELPER json-find "$T/bans3.json" address 127.0.0.5 country)" = null
stop_mailwardd
mw_done
