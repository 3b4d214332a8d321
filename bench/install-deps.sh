#!/bin/sh
# install-deps.sh - install the benchmark peers and tools (Debian 12), then
# build bench/bin/. Idempotent: packages already there are left alone.
#
#   sudo bench/install-deps.sh
#
# Debian starts postfwd, policyd-weight (and postgrey, if present) as
# system services on install; the benchmark starts its own copies inside
# a private network namespace, so the system services are stopped and
# disabled here. Only the processes of those services are signalled.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
pkgs="postfwd policyd-weight rbldnsd hyperfine wrk build-essential fail2ban bc
    iproute2 util-linux procps libsqlite3-dev libjansson-dev libjson-c-dev
    libyajl-dev"
services="postfwd policyd-weight postgrey fail2ban"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (sudo $0)" >&2
	exit 1
fi

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "install-deps.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing
fi

# Stop and disable the services the packages started.
for s in $services; do
	[ -e "/etc/init.d/$s" ] || continue
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now "$s" >/dev/null 2>&1 || true
	else
		service "$s" stop >/dev/null 2>&1 || "/etc/init.d/$s" stop \
		    >/dev/null 2>&1 || true
		if command -v update-rc.d >/dev/null 2>&1; then
			update-rc.d "$s" disable >/dev/null 2>&1 || true
		fi
	fi
done
# Leftovers of a service whose init script did not stop it: only the
# PIDs from its own pid files, and only if the command matches.
for pf in /run/postfwd.pid /var/run/postfwd.pid /run/postfwd2.pid \
    /var/run/postfwd2.pid /run/policyd-weight.pid \
    /var/run/policyd-weight.pid /run/postgrey.pid /var/run/postgrey.pid; do
	[ -f "$pf" ] || continue
	pid=$(tr -dc 0-9 < "$pf")
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || continue
	if tr '\0' ' ' < "/proc/$pid/cmdline" |
	    grep -qE 'postfwd|policyd-weight|postgrey'; then
		kill "$pid" 2>/dev/null || true
	fi
done

make -C "$here" -j2
echo "install-deps.sh: done"
