#!/bin/sh
# run.sh - the README's first command: install the build dependencies,
# build mailward, write a demo configuration and run the daemon in the
# foreground (Ctrl-C stops it).
#
#   state (SQLite store, admin socket, config):  ./var  or $MAILWARD_STATE
#   policy listener:  127.0.0.1:10045            or $MAILWARD_POLICY_LISTEN
#
# The config is written once from contrib/mailward.conf (edit it, or delete
# it to have it written again). DNS blocklists are enabled only when a
# local recursive resolver answers on 127.0.0.1:53: Spamhaus refuses public
# resolvers, and a demo must not depend on the network. Without one the
# daemon runs with allow/deny lists and bans only (see docs/admin-guide.md).
set -eu
CALLER_PWD=$(pwd)
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
STATE=${MAILWARD_STATE:-$ROOT/var}
LISTEN=${MAILWARD_POLICY_LISTEN:-127.0.0.1:10045}
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
if [ -f "$CONF" ]; then
	echo "==> using the existing $CONF (delete it to write a fresh one)"
else
	echo "==> writing $CONF from contrib/mailward.conf"
	cp contrib/mailward.conf "$CONF"
	sed -i "1i # Demo configuration written by scripts/run.sh on $(date -u +%Y-%m-%d)." "$CONF"
	set_ini "$CONF" daemon state_dir "$STATE"
	set_ini "$CONF" policy listen "$LISTEN"
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
	if command -v dig >/dev/null 2>&1 &&
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
listen=$(sed -n 's/^listen *= *//p' "$CONF" | head -n1)
admin=$(sed -n 's/^socket *= *//p' "$CONF" | head -n1)
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
  dashboard       : not available yet (see issue #4)

  In another terminal:
    $(rel "$CLI") -c $(rel "$CONF") status
    $(rel "$CLI") -c $(rel "$CONF") ban add 203.0.113.9 --for 1h --reason "test"
    $(rel "$CLI") -c $(rel "$CONF") check 203.0.113.9
    $(rel "$CLI") -c $(rel "$CONF") ban list
    $(rel "$CLI") -c $(rel "$CONF") events

==> starting mailwardd in the foreground (Ctrl-C stops it)
EOF
exec "$DAEMON" -c "$CONF" -f
