#!/bin/bash
# browser_demo.sh - `mailwardd --demo` as a new user meets it: the daemon
# replays its generated attack through the real engine, prints the demo
# admin's password, and the dashboard (web_root = the source tree's
# web/dist) shows the attack within a minute, marked as demo data
# (tests/browser/demo.test.mjs in headless Chromium). Screenshots go to
# $MW_BUILD_DIR/test-output/browser/demo-*.png; MW_DOC_SCREENSHOT=1 also
# writes docs/img/dashboard.png (the README's picture). Skips (77) without
# node, chromium or tests/browser/node_modules.
. "$(dirname "$0")/lib.sh"

BROWSER_DIR=$MW_SOURCE_DIR/tests/browser
need_browser_node
[ -x "${MW_CHROMIUM:-/usr/bin/chromium}" ] || skip_all "chromium not installed (scripts/install-deps.sh test)"
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
    skip_all "tests/browser/node_modules missing (scripts/install-deps.sh test runs npm ci there)"

mw_init browser_demo
MW_DASH_PORT=$(free_tcp_port)
mw_write_config "$T/mailward.conf" "[dashboard]
listen = 127.0.0.1:$MW_DASH_PORT
web_root = $MW_SOURCE_DIR/web/dist
"
# start_mailwardd runs "$MW_DAEMON" -c CONF -f: add --demo through a wrapper
REAL_DAEMON=$MW_DAEMON
printf '#!/bin/sh\nexec "%s" --demo "$@"\n' "$REAL_DAEMON" >"$T/mailwardd-demo"
chmod +x "$T/mailwardd-demo"
MW_DAEMON=$T/mailwardd-demo
start_mailwardd
MW_DAEMON=$REAL_DAEMON

demo_password() {
	sed -n 's/.*demo: DEMO DATA: log in at .* as demo, password \([^ ]*\).*/\1/p' "$MW_DAEMON_LOG" | tail -n 1
}
if wait_for 20 test -n "$(demo_password)" && PW=$(demo_password) && [ -n "$PW" ]; then
	ok "mailwardd --demo prints the demo admin's password"
else
	fail "mailwardd --demo prints the demo admin's password"
	exit 1
fi
# the attack takes about a minute; the pages need some of it
if wait_for 60 bash -c '"$0" -c "$1" --json status | grep -q "\"bans_active\": *[1-9]"' "$MW_CLI" "$MW_CONF"; then
	ok "the demo's attack has banned addresses (mailward status)"
else
	fail "the demo's attack has banned addresses (mailward status)"
fi
if wait_for 90 bash -c '"$0" -c "$1" --json alerts | grep -q "\"account\""' "$MW_CLI" "$MW_CONF"; then
	ok "the demo's attack has raised a takeover alert (mailward alerts)"
else
	fail "the demo's attack has raised a takeover alert (mailward alerts)"
fi

OUT=$MW_BUILD_DIR/test-output/browser
mkdir -p "$OUT"
if MW_DASH_URL="http://127.0.0.1:$MW_DASH_PORT" MW_ADMIN_NAME=demo MW_ADMIN_PASSWORD=$PW \
    MW_OUT_DIR=$OUT MW_SOURCE_DIR=$MW_SOURCE_DIR TMPDIR=$T \
    timeout 300 node "$BROWSER_DIR/demo.test.mjs" >"$T/browser.out" 2>&1; then
	rc=0
else
	rc=$?
fi
cat "$T/browser.out"
MW_PASS=$((MW_PASS + $(grep -c '^ok ' "$T/browser.out")))
MW_FAILED=$((MW_FAILED + $(grep -c '^FAIL ' "$T/browser.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$T/browser.out"; then
	fail "demo.test.mjs exited $rc"
fi
stop_mailwardd
mw_done
