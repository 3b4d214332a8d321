#!/bin/bash
# browser_dashboard.sh - the dashboard in headless Chromium against the real
# daemon: mailwardd with its dashboard listener on a free loopback port and
# web_root = the source tree's web/dist (what a fresh clone serves), an
# admin made with `mailward admin add --password-stdin`, then
# tests/browser/dashboard.test.mjs (Playwright's playwright-core driving
# Debian's /usr/bin/chromium; no browser download). Screenshots of every
# page (English and Japanese, 1280 px and 375 px) are kept in
# $MW_BUILD_DIR/test-output/browser/. Skips (77) without node, chromium or
# tests/browser/node_modules (scripts/install-deps.sh test installs them).
. "$(dirname "$0")/lib.sh"

BROWSER_DIR=$MW_SOURCE_DIR/tests/browser
need_browser_node
[ -x "${MW_CHROMIUM:-/usr/bin/chromium}" ] || skip_all "chromium not installed (scripts/install-deps.sh test)"
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
    skip_all "tests/browser/node_modules missing (scripts/install-deps.sh test runs npm ci there)"
[ -f "$MW_SOURCE_DIR/web/dist/index.html" ] || { echo "FAIL - web/dist/index.html is missing"; exit 1; }

mw_init browser_dashboard
MW_DASH_PORT=$(free_tcp_port)
# [login]: two wrong passwords before the right one raise a "possible
# takeover" alert (the accounts page acknowledges it); four failures from
# an address throttle its logins (429).
mw_write_config "$T/mailward.conf" "[dashboard]
listen = 127.0.0.1:$MW_DASH_PORT
web_root = $MW_SOURCE_DIR/web/dist

[login]
alert_after_failures = 2
tarpit_after = 4
ban_after = 30

[lists]
allow = 100.64.0.0/10

[logwatch]
enabled = yes
files = $T/mail.log
poll_interval = 200ms
"
: >"$T/mail.log"
start_mailwardd
if ! wait_for 20 tcp_open 127.0.0.1 "$MW_DASH_PORT"; then
	fail "the dashboard listens on 127.0.0.1:$MW_DASH_PORT"
	tail -n 20 "$MW_DAEMON_LOG" | sed 's/^/     | /'
	exit 1
fi
ok "the dashboard listens on 127.0.0.1:$MW_DASH_PORT"

# Real login failures for the accounts page and the plots: Dovecot lines
# in the mail log the daemon follows (as tests/integration/logwatch.sh).
dovecot_fail() { # ADDR USER
	local s=$RANDOM$RANDOM stamp
	stamp=$(LC_ALL=C date '+%b %e %H:%M:%S')
	printf '%s mx dovecot: auth: passwd-file(%s,%s,<%s>): Password mismatch\n' \
	    "$stamp" "$2" "$1" "$s" >>"$T/mail.log"
	printf '%s mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=127.0.0.1, TLS, session=<%s>\n' \
	    "$stamp" "$2" "$1" "$s" >>"$T/mail.log"
}
for i in 10 11 12 13 14 15 16 17; do dovecot_fail "203.0.113.$i" info@example.jp; done
for i in 1 2 3; do dovecot_fail 198.18.5.5 sales@example.jp; done
accounts_seen() {
	mwcli accounts --json 2>/dev/null | grep -q 'info@example.jp' &&
	    mwcli accounts --json 2>/dev/null | grep -q 'sales@example.jp'
}
if wait_for 15 accounts_seen; then
	ok "the login guard saw the logged failures (mailward accounts)"
else
	fail "the login guard saw the logged failures (mailward accounts)"
fi

ADMIN=webadmin
PASSWORD="browser-test-$RANDOM-$RANDOM"
if printf '%s\n' "$PASSWORD" | mwcli admin add "$ADMIN" --password-stdin >/dev/null; then
	ok "mailward admin add $ADMIN --password-stdin"
else
	fail "mailward admin add $ADMIN --password-stdin: $(head -n2 "$T/cli.last.err" | tr '\n' ' ')"
	exit 1
fi

OUT=$MW_BUILD_DIR/test-output/browser
mkdir -p "$OUT"
# TMPDIR: chromium's profiles live in the test dir (removed with it)
if MW_DASH_URL="http://127.0.0.1:$MW_DASH_PORT" MW_ADMIN_NAME=$ADMIN \
    MW_ADMIN_PASSWORD=$PASSWORD MW_CLI=$MW_CLI MW_CONF=$MW_CONF \
    MW_POLICY_PORT=$MW_POLICY_PORT MW_LIB=$MW_SOURCE_DIR/tests/integration/lib.sh \
    MW_OUT_DIR=$OUT MW_SOURCE_DIR=$MW_SOURCE_DIR TMPDIR=$T \
    timeout 600 node "$BROWSER_DIR/dashboard.test.mjs" >"$T/browser.out" 2>&1; then
	rc=0
else
	rc=$?
fi
cat "$T/browser.out"
MW_PASS=$((MW_PASS + $(grep -c '^ok ' "$T/browser.out")))
MW_FAILED=$((MW_FAILED + $(grep -c '^FAIL ' "$T/browser.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$T/browser.out"; then
	fail "dashboard.test.mjs exited $rc"
fi
note "screenshots: $OUT"
stop_mailwardd
mw_done
