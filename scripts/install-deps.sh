#!/bin/sh
# install-deps.sh - install the Debian 12 packages mailward needs, idempotently.
#
#   scripts/install-deps.sh build   compiler, libraries (enough to build and run;
#                                   dig lets scripts/run.sh find a local resolver)
#   scripts/install-deps.sh test    build + the real peers the tests talk to
#                                   (Postfix, swaks, rbldnsd, Dovecot, Redis, nft,
#                                   Chromium for the dashboard's browser tests,
#                                   Perl's MaxMind DB writer for the GeoIP
#                                   tests' database)
#                                   Node.js and npm (Debian's, unless the machine
#                                   has its own) and the browser tests' npm
#                                   packages (tests/browser, web: from their lock files)
# Needs root only when something is missing; packages already installed are
# not touched, so running it twice costs one dpkg-query.
set -eu

BUILD_PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
	libevent-dev libsqlite3-dev libjansson-dev libinih-dev libcmocka-dev
	libsodium-dev libpcre2-dev libcurl4-openssl-dev libhiredis-dev
	libnftables-dev libgmime-3.0-dev libssl-dev sqlite3 dnsutils
	libsystemd-dev libmaxminddb-dev libhttp-parser-dev libyajl-dev"
TEST_PKGS="postfix swaks rbldnsd dnsutils iproute2 nftables procps psmisc
	dovecot-core dovecot-imapd dovecot-pop3d redis-server python3 curl
	openssl chromium fonts-noto-cjk systemd-journal-remote
	libmaxmind-db-writer-perl"

want=$BUILD_PKGS
case "${1:-build}" in
build) ;;
test) want="$BUILD_PKGS $TEST_PKGS" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
# The browser tests need Node.js and npm: the machine's own when it has
# them (any packaging), else Debian's (Node.js 18: enough for the label and
# web/dist checks; the Chromium tests need 20 and say so when they skip).
if [ "${1:-build}" = test ]; then
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
# npm packages, from the lock files, when npm is present: tests/browser
# (playwright-core, driving Debian's chromium; it never downloads a browser)
# and web (esbuild + uPlot: the check that web/dist is what the sources
# build). npm ci runs again only when a lock file changed since the last
# install; install scripts are not run (none is needed).
browser_npm() {
	[ "${1:-build}" = test ] || return 0
	if ! command -v npm >/dev/null 2>&1; then
		echo "install-deps: npm not found: the browser tests will be skipped" >&2
		return 0
	fi
	top=$(cd "$(dirname "$0")/.." && pwd)
	for dir in "$top/tests/browser" "$top/web"; do
		[ -f "$dir/package-lock.json" ] || continue
		stamp=$dir/node_modules/.mailward-lock.sha256
		want_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
		[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_sum" ] && continue
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit \
		    --no-fund --ignore-scripts >&2 || return 1
		echo "$want_sum" >"$stamp"
	done
}

if [ -z "$missing" ]; then
	browser_npm "${1:-build}"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; the tests write their own config.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
    $missing
browser_npm "${1:-build}"
