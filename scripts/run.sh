#!/bin/sh
# run.sh - the README's first command: install the build dependencies,
# build mailward, write a demo configuration and run the daemon in the
# foreground (Ctrl-C stops it).
#
#   scripts/run.sh          your own instance (state kept between runs)
#   scripts/run.sh --demo   a generated attack replayed through the engine
#                           for about a minute, in a state dir of its own
#                           (./var/demo, wiped at each start), with an
#                           admin "demo" whose password is printed
#
#   state (SQLite store, admin socket, config):  ./var  or $MAILWARD_STATE
#   policy listener:  127.0.0.1:10045            or $MAILWARD_POLICY_LISTEN
#   dashboard:        http://127.0.0.1:10048/    or $MAILWARD_DASHBOARD_LISTEN
#
# The config is written once from contrib/mailward.conf (edit it, or delete
# it to have it written again). DNS blocklists are enabled only when a
# local recursive resolver answers on 127.0.0.1:53: Spamhaus refuses public
# resolvers, and a demo must not depend on the network. Without one the
# daemon runs with allow/deny lists and bans only (see docs/admin-guide.md).
set -eu
DEMO=
case ${1:-} in
--demo) DEMO=1 ;;
"") ;;
-h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: scripts/run.sh [--demo]" >&2; exit 64 ;;
esac
CALLER_PWD=$(pwd)
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
STATE=${MAILWARD_STATE:-$ROOT/var}
[ -n "$DEMO" ] && STATE=$STATE/demo
LISTEN=${MAILWARD_POLICY_LISTEN:-127.0.0.1:10045}
DASH_LISTEN=${MAILWARD_DASHBOARD_LISTEN:-127.0.0.1:10048}
CONF=$STATE/mailward.conf
JOBS=${MW_JOBS:-2}

echo "==> dependencies (scripts/install-deps.sh build)"
if [ "$(id -u)" = 0 ]; then
	scripts/install-deps.sh build
elif command -v sudo >/dev/null 2>&1; then
	sudo scripts/install-deps.sh build
else
	scripts/install-deps.sh build
fi

echo "==> build (build/, RelWithDebInfo, -j$JOBS)"
[ -f build/CMakeCache.txt ] ||
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS" >build/run-build.log 2>&1 || {
	tail -n 40 build/run-build.log
	echo "run.sh: the build failed (full log: build/run-build.log)"
	exit 1
}
DAEMON=$ROOT/build/src/daemon/mailwardd
CLI=$ROOT/build/src/cli/mailward
[ -x "$DAEMON" ] || { echo "run.sh: $DAEMON was not built"; exit 1; }

# set_ini FILE SECTION KEY VALUE: set KEY in [SECTION], replacing the first
# (possibly commented-out) "KEY =" line there, or adding it after the
# section header.
set_ini() {
	awk -v sec="[$2]" -v key="$3" -v val="$4" '
	/^\[/ {
		if (insec && !done) { print key " = " val; print ""; done = 1 }
		insec = ($0 == sec)
	}
	insec && !done && $0 ~ "^#?[ \t]*" key "[ \t]*=" { print key " = " val; done = 1; next }
	{ print }
	END {
		if (!done) {
			if (!insec) print "\n" sec
			print key " = " val
		}
	}' "$1" >"$1.new" && mv "$1.new" "$1"
}

mkdir -p "$STATE"
chmod 0750 "$STATE"
STATE=$(cd "$STATE" && pwd)
CONF=$STATE/mailward.conf
# the demo's configuration is written afresh each time
[ -n "$DEMO" ] && rm -f "$CONF"
if [ -f "$CONF" ]; then
	echo "==> using the existing $CONF (delete it to write a fresh one)"
else
	echo "==> writing $CONF from contrib/mailward.conf"
	cp contrib/mailward.conf "$CONF"
	sed -i "1i # Demo configuration written by scripts/run.sh on $(date -u +%Y-%m-%d)." "$CONF"
	set_ini "$CONF" daemon state_dir "$STATE"
	set_ini "$CONF" policy listen "$LISTEN"
	set_ini "$CONF" dashboard listen "$DASH_LISTEN"
	set_ini "$CONF" dashboard web_root "$ROOT/web/dist"
	user=mailward
	if [ "$(id -u)" = 0 ]; then
		if ! getent passwd mailward >/dev/null; then
			echo "    creating the system user 'mailward' (the daemon drops root to it)"
			useradd --system --home-dir /nonexistent --no-create-home \
			    --shell /usr/sbin/nologin mailward
		fi
		if ! runuser -u mailward -- test -x "$(dirname "$STATE")" 2>/dev/null; then
			echo "    user 'mailward' cannot reach $STATE: the demo daemon stays root"
			echo "    (set MAILWARD_STATE to a directory like /var/lib/mailward to avoid it)"
			user=
		fi
	fi
	set_ini "$CONF" daemon user "$user"
	if [ -n "$DEMO" ]; then
		echo "    demo: DNS blocklists off (the demo's listed senders are generated)"
		set_ini "$CONF" dnsbl enabled no
	elif command -v dig >/dev/null 2>&1 &&
	    dig +time=1 +tries=1 @127.0.0.1 -p 53 localhost A 2>/dev/null |
	    grep -q 'status: NOERROR'; then
		echo "    a resolver answers on 127.0.0.1:53: DNS blocklists enabled"
		set_ini "$CONF" dnsbl resolver 127.0.0.1:53
	else
		echo "    no local resolver on 127.0.0.1:53: DNS blocklists disabled"
		echo "    (install unbound and set [dnsbl] enabled = yes; see docs/admin-guide.md)"
		set_ini "$CONF" dnsbl enabled no
	fi
fi

"$DAEMON" -t -c "$CONF" >/dev/null || {
	echo "run.sh: $CONF has errors (above); fix them or delete the file"
	exit 78
}
# get_ini SECTION KEY: the value in [SECTION] (first one), or nothing
get_ini() {
	awk -v sec="[$1]" -v key="$2" '
	/^\[/ { insec = ($0 == sec); next }
	insec && $0 ~ "^" key "[ \t]*=" { sub("^[^=]*=[ \t]*", ""); print; exit }' "$CONF"
}
listen=$(get_ini policy listen)
admin=$(get_ini admin socket)
dash=$(get_ini dashboard listen)
dash=${dash:-127.0.0.1:10048}
dash_on=$(get_ini dashboard enabled)
case $(get_ini dashboard tls_certificate) in "") scheme=http ;; *) scheme=https ;; esac
case $dash_on in
no|false|off|0) dash_line="off ([dashboard] enabled = no)" ;;
*) dash_line="$scheme://$dash/" ;;
esac
case ${admin:-admin.sock} in /*) ;; *) admin=$STATE/${admin:-admin.sock} ;; esac
# paths as the caller can type them (relative when run from the top dir)
rel() {
	case $CALLER_PWD:$1 in
	"$ROOT:$ROOT"/*) echo "${1#"$ROOT"/}" ;;
	*) echo "$1" ;;
	esac
}

cat <<EOF

==> mailward $(sed -n 's/^project(mailward VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
  policy listener : ${listen:-(off)}   (Postfix: check_policy_service inet:${listen:-127.0.0.1:10045}; see docs/postfix.md)
  admin socket    : $admin
  store           : $STATE/mailward.db (SQLite)
  config          : $CONF
  dashboard       : $dash_line
EOF
if [ -n "$DEMO" ]; then
	cat <<EOF

  DEMO DATA: a generated attack is replayed through the engine for about
  a minute. Log in to the dashboard as "demo" with the password printed
  below. The demo's state is $STATE (wiped at the next --demo).
EOF
else
	cat <<EOF

  Create the first dashboard admin (the password is asked twice):
    $(rel "$CLI") -c $(rel "$CONF") admin add admin
  then open $dash_line  (docs/dashboard.md: TLS, reverse proxy)
EOF
fi
cat <<EOF

  In another terminal:
    $(rel "$CLI") -c $(rel "$CONF") status
    $(rel "$CLI") -c $(rel "$CONF") ban add 203.0.113.9 --for 1h --reason "test"
    $(rel "$CLI") -c $(rel "$CONF") check 203.0.113.9
    $(rel "$CLI") -c $(rel "$CONF") ban list
    $(rel "$CLI") -c $(rel "$CONF") events

==> starting mailwardd in the foreground (Ctrl-C stops it)
EOF
if [ -n "$DEMO" ]; then
	exec "$DAEMON" --demo -c "$CONF" -f
fi
exec "$DAEMON" -c "$CONF" -f
