# lib.sh - shared helpers for mailward's integration tests (bash).
#
# A test sources this file, calls mw_init NAME, starts the peers it needs
# (start_mailwardd, start_rbldnsd, start_postfix, start_blackhole_dns),
# checks with ok/fail/expect_*, and ends with mw_done. Everything lives in
# one temp dir and only on 127.0.0.0/8; an EXIT trap stops every process
# the test started (by pid) and removes the dir (kept on failure, or
# always with MW_KEEP_TMP=1).
#
# Inputs (environment, set by tests/integration/CMakeLists.txt):
#   MW_BUILD_DIR    the build tree whose binaries are tested (default: build)
#   MW_SOURCE_DIR   the source tree (default: two levels up from this file)
#   MW_DAEMON, MW_CLI  override the binaries
# Exit status of a test: 0 all ok, 1 a check failed, 77 skipped.

set -u

MW_SOURCE_DIR=${MW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MW_BUILD_DIR=${MW_BUILD_DIR:-$MW_SOURCE_DIR/build}
MW_DAEMON=${MW_DAEMON:-$MW_BUILD_DIR/src/daemon/mailwardd}
MW_CLI=${MW_CLI:-$MW_BUILD_DIR/src/cli/mailward}
MW_HELPER="python3 $MW_SOURCE_DIR/tests/integration/mwhelper.py"
MW_SNIPPET_MAIN=$MW_SOURCE_DIR/contrib/postfix/main.cf.snippet

# Sanitizer builds: stop at the first error, report leaks, print stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

MW_PASS=0
MW_FAILED=0
MW_PIDS=()		# processes to kill at exit (pids we started)
MW_POSTFIX_DIRS=()	# postfix config dirs to stop at exit
MW_DAEMON_PID=
MW_CONF=
T=

ok() { MW_PASS=$((MW_PASS + 1)); printf 'ok   - %s\n' "$*"; }
fail() { MW_FAILED=$((MW_FAILED + 1)); printf 'FAIL - %s\n' "$*"; }
note() { printf '     # %s\n' "$*"; }
skip_all() { printf 'SKIP - %s: %s\n' "${MW_TEST:-$(basename "$0" .sh)}" "$*"; MW_SKIPPED=1; exit 77; }

# The browser tests' playwright-core runs on Node.js 20 or later; Debian
# 12's own nodejs is 18, so a machine with only that skips them, saying so.
need_browser_node() {
	local major
	command -v node >/dev/null || skip_all "node not installed"
	major=$(node -p 'process.versions.node.split(".")[0]')
	[ "$major" -ge 20 ] 2>/dev/null ||
	    skip_all "node $(node --version) is older than 20, which playwright-core needs"
}

# check DESC CMD...: ok when CMD succeeds (its output is shown only when
# it fails).
check() {
	local desc=$1 rc; shift
	"$@" >"${T:-/tmp}/check.out" 2>&1; rc=$?
	if [ "$rc" -eq 0 ]; then ok "$desc"; return 0; fi
	fail "$desc (exit $rc)"
	head -n 5 "${T:-/tmp}/check.out" | sed 's/^/     | /'
	[ "${1:-}" = mwcli ] && head -n 3 "$T/cli.last.err" | sed 's/^/     | /'
	return 1
}

# mw_init NAME: temp dir, traps, binaries present.
mw_init() {
	MW_TEST=$1
	MW_SKIPPED=0
	printf '# %s (build: %s)\n' "$MW_TEST" "$MW_BUILD_DIR"
	local b
	for b in "$MW_DAEMON" "$MW_CLI"; do
		if [ ! -x "$b" ]; then
			fail "binary $b is missing (build it first: cmake --build $MW_BUILD_DIR)"
			exit 1
		fi
	done
	T=$(mktemp -d "/tmp/mw-it-$MW_TEST.XXXXXX") || exit 1
	chmod 755 "$T"	# rbldnsd and postfix drop privileges and read here
	export MW_PORTS_FILE=$T/ports.taken	# see freeport in mwhelper.py
	trap mw_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

mw_done() {
	mw_check_sanitizers
	printf '# %s: %d ok, %d failed\n' "$MW_TEST" "$MW_PASS" "$MW_FAILED"
	[ "$MW_FAILED" -eq 0 ] && [ "$MW_PASS" -gt 0 ]
	exit $?
}

mw_cleanup() {
	local rc=$? d p
	for d in "${MW_POSTFIX_DIRS[@]}"; do
		postfix -c "$d" abort >/dev/null 2>&1
	done
	if [ -n "$MW_DAEMON_PID" ]; then
		kill -TERM "$MW_DAEMON_PID" 2>/dev/null
	fi
	for p in "${MW_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${MW_PIDS[@]}" $MW_DAEMON_PID; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$T" ]; then
		mw_dump_logs
		printf '# %s: failed; files kept in %s\n' "$MW_TEST" "$T"
	elif [ -n "$T" ] && [ "${MW_KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$T"
	fi
	exit "$rc"
}

mw_dump_logs() {
	local f
	for f in "$T"/mailwardd*.log "$T"/postfix/maillog "$T"/rbldnsd.log \
	    "$T"/dovecot/dovecot.log; do
		[ -s "$f" ] || continue
		printf '# ---- last lines of %s ----\n' "$f"
		tail -n 40 "$f" | sed 's/^/# | /'
	done
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s; 1 on timeout.
wait_for() {
	local secs=$1 i=0; shift
	local n=$((secs * 10))
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge "$n" ] && return 1
		sleep 0.1
	done
	return 0
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_for_tcp() { wait_for "${3:-20}" tcp_open "$1" "$2"; }
wait_for_socket() { wait_for "${2:-20}" test -S "$1"; }

free_tcp_port() { $MW_HELPER freeport tcp; }
free_udp_port() { $MW_HELPER freeport udp; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# ---------------------------------------------------------------- mailwardd

# mw_write_config FILE [EXTRA_INI]: a complete config for a test daemon
# (state in $T/state, policy on $MW_POLICY_PORT, admin socket in the state
# dir, dashboard on $MW_DASH_PORT); EXTRA_INI is appended ([dnsbl], [lists], ...). Without an EXTRA
# [dnsbl] section the DNSBL is disabled. The daemon stays root unless
# MW_DAEMON_USER names a user to drop to.
mw_write_config() {
	local file=$1 extra=${2:-}
	[ -n "${MW_POLICY_PORT:-}" ] || MW_POLICY_PORT=$(free_tcp_port)
	MW_STATE=$T/state
	MW_ADMIN_SOCK=$MW_STATE/admin.sock
	{
		printf '# written by tests/integration/%s.sh\n' "$MW_TEST"
		printf '[daemon]\nstate_dir = %s\nuser = %s\nlog_level = debug\n\n' \
		    "$MW_STATE" "${MW_DAEMON_USER:-}"
		printf '[policy]\nlisten = 127.0.0.1:%s\n' "$MW_POLICY_PORT"
		printf 'reject_text = mailward-test: %%s\n\n'
		printf '[admin]\nsocket = admin.sock\n\n'
		printf '[store]\npath = mailward.db\n\n'
		case $extra in
		*'[dnsbl]'*) ;;
		*) printf '[dnsbl]\nenabled = no\n\n' ;;
		esac
		# the dashboard listens on a free port too (its default, 10048,
		# would collide with other tests running at the same time)
		case $extra in
		*'[dashboard]'*) ;;
		*) [ -n "${MW_DASH_PORT:-}" ] || MW_DASH_PORT=$(free_tcp_port)
		   printf '[dashboard]\nlisten = 127.0.0.1:%s\n\n' "$MW_DASH_PORT" ;;
		esac
		printf '%s\n' "$extra"
	} >"$file"
	MW_CONF=$file
}

# start_mailwardd [CONF]: foreground daemon, log in $T/mailwardd.N.log;
# waits until the policy port and the admin socket answer.
MW_DAEMON_RUNS=0
start_mailwardd() {
	local conf=${1:-$MW_CONF}
	MW_DAEMON_RUNS=$((MW_DAEMON_RUNS + 1))
	MW_DAEMON_LOG=$T/mailwardd.$MW_DAEMON_RUNS.log
	"$MW_DAEMON" -c "$conf" -f >"$MW_DAEMON_LOG" 2>&1 &
	MW_DAEMON_PID=$!
	if ! wait_for 30 tcp_open 127.0.0.1 "$MW_POLICY_PORT" ||
	    ! wait_for 10 test -S "$MW_ADMIN_SOCK"; then
		fail "mailwardd started and listening on 127.0.0.1:$MW_POLICY_PORT and $MW_ADMIN_SOCK"
		kill -0 "$MW_DAEMON_PID" 2>/dev/null || note "mailwardd exited"
		tail -n 30 "$MW_DAEMON_LOG" | sed 's/^/     | /'
		exit 1
	fi
	note "mailwardd pid $MW_DAEMON_PID, policy 127.0.0.1:$MW_POLICY_PORT"
}

# stop_mailwardd: SIGTERM; it must exit 0 within 15 s (sanitizers included).
stop_mailwardd() {
	local pid=$MW_DAEMON_PID rc
	[ -n "$pid" ] || return 0
	kill -TERM "$pid"
	if ! wait_for 15 mw_gone "$pid"; then
		fail "mailwardd stops within 15 s of SIGTERM"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"; rc=$?
	MW_DAEMON_PID=
	if [ "$rc" -eq 0 ]; then ok "mailwardd exits 0 on SIGTERM"
	else fail "mailwardd exits 0 on SIGTERM (exit status $rc)"; fi
}

# kill9_mailwardd: no chance to flush anything.
kill9_mailwardd() {
	local pid=$MW_DAEMON_PID
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	MW_DAEMON_PID=
}

mw_gone() { ! kill -0 "$1" 2>/dev/null; }

# Any sanitizer report in a daemon log is a failure.
mw_check_sanitizers() {
	local f
	for f in "$T"/mailwardd*.log "$T"/cli.err; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			fail "no sanitizer report in $(basename "$f")"
			grep -m5 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" |
			    sed 's/^/     | /'
		fi
	done
}

# mwcli ARGS...: the CLI against the test daemon; stdout to stdout,
# stderr appended to $T/cli.err and also to $T/cli.last.err.
mwcli() {
	"$MW_CLI" -c "$MW_CONF" "$@" 2>"$T/cli.last.err"
	local rc=$?
	cat "$T/cli.last.err" >>"$T/cli.err"
	return $rc
}

# mwcli_to FILE DESC ARGS...: mwcli ARGS with stdout in FILE; ok/fail DESC.
mwcli_to() {
	local file=$1 desc=$2; shift 2
	if mwcli "$@" >"$file"; then ok "$desc"
	else fail "$desc (exit $?): $(head -n2 "$T/cli.last.err" | tr '\n' ' ')"; return 1; fi
}

# --------------------------------------------------------- policy requests

# policy_query ADDR [name=value ...]: one Postfix-style policy request
# (RCPT stage, port 25, unauthenticated unless sasl_username= is given)
# over a fresh connection to $MW_POLICY_PORT; prints the action text
# ("DUNNO", "REJECT ...") or "NO-ANSWER".
policy_query() {
	local fd rc
	if ! exec {fd}<>"/dev/tcp/127.0.0.1/$MW_POLICY_PORT"; then
		echo NO-ANSWER; return 1
	fi
	policy_request "$fd" "$@"; rc=$?
	exec {fd}>&-
	return $rc
}

# policy_conn_open: a connection kept open in $MW_PC_FD (as Postfix keeps
# one per smtpd process); policy_conn_query ADDR [name=value...] uses it.
policy_conn_open() { exec {MW_PC_FD}<>"/dev/tcp/127.0.0.1/$MW_POLICY_PORT"; }
policy_conn_query() { policy_request "$MW_PC_FD" "$@"; }
policy_conn_close() { exec {MW_PC_FD}>&-; }

policy_request() {
	local fd=$1 addr=$2 line kv; shift 2
	local -A attr=(
		[request]=smtpd_access_policy [protocol_state]=RCPT
		[protocol_name]=ESMTP [client_address]=$addr
		[client_name]=unknown [reverse_client_name]=unknown
		[client_port]=40000 [server_address]=127.0.0.1 [server_port]=25
		[helo_name]=client.example [sender]=a@b.example
		[recipient]=user@test.example [recipient_count]=0
		[sasl_method]="" [sasl_username]="" [policy_context]=mx
		[instance]=$RANDOM.$RANDOM
	)
	for kv; do attr[${kv%%=*}]=${kv#*=}; done
	{
		for kv in "${!attr[@]}"; do printf '%s=%s\n' "$kv" "${attr[$kv]}"; done
		printf '\n'
	} 1>&"$fd" 2>/dev/null || { echo NO-ANSWER; return 1; }
	line=
	read -r -t 15 line <&"$fd"
	case $line in
	action=*)
		# the empty line ending the reply
		read -r -t 5 kv <&"$fd"
		printf '%s\n' "${line#action=}" ;;
	*) echo NO-ANSWER; return 1 ;;
	esac
}

# expect_policy DESC ADDR PATTERN [name=value...]: the action matches the
# extended regex PATTERN.
expect_policy() {
	local desc=$1 addr=$2 pat=$3 got; shift 3
	got=$(policy_query "$addr" "$@")
	if printf '%s' "$got" | grep -qE "$pat"; then ok "$desc: $got"
	else fail "$desc: want /$pat/, got: $got"; fi
}

# ------------------------------------------------------------------ rbldnsd

# start_rbldnsd ZONESPEC...: rbldnsd on 127.0.0.1:$MW_DNS_PORT serving
# zone files from $T/dnsbl (write them before), e.g.
#   start_rbldnsd zen.dnsbl.test:ip4set:zen.ip4set zen.dnsbl.test:ip6trie:zen.ip6trie
start_rbldnsd() {
	command -v rbldnsd >/dev/null || skip_all "rbldnsd not installed (scripts/install-deps.sh test)"
	[ -n "${MW_DNS_PORT:-}" ] || MW_DNS_PORT=$(free_udp_port)
	chmod -R a+rX "$T/dnsbl"
	local user=()
	[ "$(id -u)" = 0 ] && user=(-u rbldns)
	rbldnsd -n "${user[@]}" -b "127.0.0.1/$MW_DNS_PORT" -w "$T/dnsbl" -t 60 \
	    "$@" >"$T/rbldnsd.log" 2>&1 &
	MW_PIDS+=($!)
	local zone=${1%%:*}
	if ! wait_for 10 dns_answers "$zone"; then
		fail "rbldnsd answers on 127.0.0.1:$MW_DNS_PORT"
		exit 1
	fi
	note "rbldnsd on 127.0.0.1:$MW_DNS_PORT"
}

dns_answers() {
	dig +time=1 +tries=1 -p "$MW_DNS_PORT" @127.0.0.1 "$1" SOA |
	    grep -q 'status: NOERROR'
}

# start_blackhole_dns: a UDP server on 127.0.0.1:$MW_DNS_PORT that reads
# queries and never answers.
start_blackhole_dns() {
	[ -n "${MW_DNS_PORT:-}" ] || MW_DNS_PORT=$(free_udp_port)
	$MW_HELPER blackhole "$MW_DNS_PORT" "$T/blackhole.ready" &
	MW_PIDS+=($!)
	wait_for 10 test -e "$T/blackhole.ready" ||
	    { fail "blackhole DNS server started"; exit 1; }
	note "silent DNS server on 127.0.0.1:$MW_DNS_PORT"
}

# ------------------------------------------------------------------ Postfix

# need_postfix: skip the whole test (exit 77, before anything started)
# unless Postfix and swaks are installed and we are root.
need_postfix() {
	command -v postfix >/dev/null || skip_all "postfix not installed (scripts/install-deps.sh test)"
	command -v swaks >/dev/null || skip_all "swaks not installed (scripts/install-deps.sh test)"
	[ "$(id -u)" = 0 ] || skip_all "Postfix needs root to start (run: sudo scripts/test.sh)"
}

# start_postfix: a private Postfix (config, queue and data dirs under
# $T/postfix) with smtpd on 127.0.0.1:$MW_SMTP_PORT, local domain
# test.example delivered to discard:, and the policy hook taken verbatim
# from contrib/postfix/main.cf.snippet with only the port replaced.
# With MW_SUBMISSION_PORT set (and start_dovecot_auth run before), the
# submission service of contrib/postfix/master.cf.snippet is added too,
# its service name replaced by 127.0.0.1:$MW_SUBMISSION_PORT, with a
# throw-away TLS certificate and Dovecot SASL.
start_postfix() {
	need_postfix
	[ -n "${MW_SMTP_PORT:-}" ] || MW_SMTP_PORT=$(free_tcp_port)
	local d=$T/postfix
	PF_CONF=$d/etc
	mkdir -p "$PF_CONF" "$d/queue" "$d/data"
	chown postfix "$d/data"
	cat >"$PF_CONF/main.cf" <<EOF
# written by tests/integration/lib.sh (start_postfix)
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = mx.test.example
mydomain = test.example
myorigin = test.example
mydestination = test.example
# only 127.0.0.1 itself is trusted; the test clients are 127.0.0.2+
mynetworks = 127.0.0.1/32
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:
default_transport = discard:
relay_transport = discard:
# no DNS: nothing leaves the loopback
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
biff = no
smtputf8_enable = no
smtpd_banner = \$myhostname ESMTP test
EOF
	printf '\n# ---- contrib/postfix/main.cf.snippet (port replaced) ----\n' \
	    >>"$PF_CONF/main.cf"
	sed "s/127\.0\.0\.1:10045/127.0.0.1:$MW_POLICY_PORT/g" "$MW_SNIPPET_MAIN" \
	    >>"$PF_CONF/main.cf"
	if [ -n "${MW_SUBMISSION_PORT:-}" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		    -subj /CN=mx.test.example -keyout "$PF_CONF/key.pem" \
		    -out "$PF_CONF/cert.pem" >"$T/openssl.log" 2>&1 ||
		    { fail "test TLS certificate created"; exit 1; }
		cat >>"$PF_CONF/main.cf" <<EOF

# ---- for the submission service (TLS + Dovecot SASL) ----
smtpd_tls_cert_file = $PF_CONF/cert.pem
smtpd_tls_key_file = $PF_CONF/key.pem
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
EOF
	fi
	cat >"$PF_CONF/master.cf" <<EOF
127.0.0.1:$MW_SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000    0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000    1       tlsmgr
EOF
	if [ -n "${MW_SUBMISSION_PORT:-}" ]; then
		printf '# ---- contrib/postfix/master.cf.snippet (address and port replaced) ----\n' \
		    >>"$PF_CONF/master.cf"
		sed -e "s/^submission /127.0.0.1:$MW_SUBMISSION_PORT /" \
		    -e "s/127\.0\.0\.1:10045/127.0.0.1:$MW_POLICY_PORT/g" \
		    "$MW_SOURCE_DIR/contrib/postfix/master.cf.snippet" >>"$PF_CONF/master.cf"
	fi
	if ! postfix -c "$PF_CONF" check >"$T/postfix.check" 2>&1; then
		fail "postfix -c $PF_CONF check"
		sed 's/^/     | /' "$T/postfix.check" "$d/maillog" 2>/dev/null
		exit 1
	fi
	MW_POSTFIX_DIRS+=("$PF_CONF")
	if ! postfix -c "$PF_CONF" start >"$T/postfix.start" 2>&1 ||
	    ! wait_for_tcp 127.0.0.1 "$MW_SMTP_PORT" 20; then
		fail "postfix started on 127.0.0.1:$MW_SMTP_PORT"
		sed 's/^/     | /' "$T/postfix.start" "$d/maillog" 2>/dev/null
		exit 1
	fi
	if [ -n "${MW_SUBMISSION_PORT:-}" ] &&
	    ! wait_for_tcp 127.0.0.1 "$MW_SUBMISSION_PORT" 20; then
		fail "postfix submission service on 127.0.0.1:$MW_SUBMISSION_PORT"
		exit 1
	fi
	note "postfix $(postconf -d -h mail_version) smtpd on 127.0.0.1:$MW_SMTP_PORT${MW_SUBMISSION_PORT:+, submission on 127.0.0.1:$MW_SUBMISSION_PORT}"
}

# start_dovecot: a private Dovecot (base_dir, state and log under
# $T/dovecot, only on 127.0.0.1) with a passwd-file of test users.
#   MW_DOVECOT_USERS   "user:password" words (default: none)
#   MW_IMAP_PORT, MW_POP3_PORT   serve IMAP / POP3 there when set
#   MW_DOVECOT_IPV6=1  also on [::1] (same ports)
#   MW_DOVECOT_SASL=1  the SASL socket private/auth in the test Postfix's
#                      queue directory (call before start_postfix)
#   MW_DOVECOT_POLICY  a file !include'd at the end (the auth policy
#                      settings, e.g. contrib/dovecot/95-mailward.conf)
# Dovecot's own anvil auth penalty and failure delay are off, so the only
# delays a test sees are mailward's tarpits.
start_dovecot() {
	command -v dovecot >/dev/null || skip_all "dovecot not installed (scripts/install-deps.sh test)"
	[ "$(id -u)" = 0 ] || skip_all "Dovecot needs root to start (run: sudo scripts/test.sh)"
	local d=$T/dovecot q=$T/postfix/queue/private u protocols=none addr=127.0.0.1
	[ "${MW_DOVECOT_IPV6:-0}" = 1 ] && addr="127.0.0.1, ::1"
	mkdir -p "$d/run" "$d/state" "$d/mail"
	chown nobody:nogroup "$d/mail"
	: >"$d/users"
	for u in ${MW_DOVECOT_USERS:-}; do
		printf '%s:{PLAIN}%s::::::\n' "${u%%:*}" "${u#*:}" >>"$d/users"
	done
	chmod 644 "$d/users"
	[ -n "${MW_IMAP_PORT:-}" ] && protocols=imap
	[ -n "${MW_POP3_PORT:-}" ] && protocols="${protocols/none/} pop3"
	{
		cat <<EOF
# written by tests/integration/lib.sh (start_dovecot)
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = $protocols
listen = $addr
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
auth_verbose = yes
mail_location = maildir:$d/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%u
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = $addr
    port = ${MW_IMAP_PORT:-0}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = $addr
    port = ${MW_POP3_PORT:-0}
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
		if [ "${MW_DOVECOT_SASL:-0}" = 1 ]; then
			mkdir -p "$q"
			chown postfix "$q" && chmod 700 "$q"	# as postfix itself would make it
			cat <<EOF
service auth {
  unix_listener $q/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
		fi
		[ -n "${MW_DOVECOT_POLICY:-}" ] && printf '!include %s\n' "$MW_DOVECOT_POLICY"
	} >"$d/dovecot.conf"
	if ! doveconf -c "$d/dovecot.conf" >"$d/doveconf.out" 2>&1; then
		fail "doveconf accepts $d/dovecot.conf"
		sed 's/^/     | /' "$d/doveconf.out" | tail -n 5
		exit 1
	fi
	dovecot -F -c "$d/dovecot.conf" >"$d/stdout.log" 2>&1 &
	MW_PIDS+=($!)
	if [ "${MW_DOVECOT_SASL:-0}" = 1 ] && ! wait_for 15 test -S "$q/auth"; then
		fail "dovecot auth socket $q/auth"
		sed 's/^/     | /' "$d/stdout.log" "$d/dovecot.log" 2>/dev/null
		exit 1
	fi
	for u in ${MW_IMAP_PORT:-} ${MW_POP3_PORT:-}; do
		if ! wait_for_tcp 127.0.0.1 "$u" 15; then
			fail "dovecot listening on 127.0.0.1:$u"
			sed 's/^/     | /' "$d/stdout.log" "$d/dovecot.log" 2>/dev/null
			exit 1
		fi
	done
	note "dovecot $(dovecot --version | cut -d' ' -f1) (protocols: $protocols${MW_DOVECOT_POLICY:+, auth policy: $MW_DOVECOT_POLICY})"
}

# start_dovecot_auth USER PASSWORD: Dovecot with only its auth service,
# whose SASL socket is private/auth in the test Postfix's queue directory.
# Call before start_postfix.
start_dovecot_auth() {
	MW_DOVECOT_USERS="$1:$2" MW_DOVECOT_SASL=1 start_dovecot
}

# smtp_send SRC [swaks args...]: one message from 127.0.0.SRC-style source
# address SRC to user@test.example; swaks transcript in $T/swaks.out.
smtp_send() {
	local src=$1; shift
	timeout 60 swaks --server "127.0.0.1:$MW_SMTP_PORT" --local-interface "$src" \
	    --helo client.example --from a@b.example --to user@test.example \
	    --timeout 30 "$@" >"$T/swaks.out" 2>&1
}

# expect_smtp DESC SRC accept|reject [TEXT_REGEX [SWAKS_ARGS...]]: send
# one message; for accept, it must be queued (250 ... queued); for reject,
# the RCPT reply must be 5xx and contain TEXT_REGEX.
expect_smtp() {
	local desc=$1 src=$2 want=$3 text=${4:-} rcpt
	shift 3; [ $# -gt 0 ] && shift
	smtp_send "$src" "$@"
	# swaks: " -> " sent, "<- " received, "<** " error reply; "~" in
	# place of "-" once TLS is on.
	rcpt=$(grep -A1 -E '^ (->|~>) RCPT TO' "$T/swaks.out" | grep -E '^<(-|~|\*\*|~\*) ' |
	    head -n1 | sed -E 's/^<(-|~|\*\*|~\*) +//')
	case $want in
	accept)
		if grep -qE '^<(-|~) +250 .*queued' "$T/swaks.out"; then
			ok "$desc: accepted ($rcpt)"
		else
			fail "$desc: want accepted, RCPT got: ${rcpt:-?}"
			tail -n 6 "$T/swaks.out" | sed 's/^/     | /'
		fi ;;
	reject)
		if printf '%s' "$rcpt" | grep -qE '^5[0-9][0-9] ' &&
		    printf '%s' "$rcpt" | grep -qE -- "$text"; then
			ok "$desc: rejected ($rcpt)"
		else
			fail "$desc: want 5xx matching /$text/, RCPT got: ${rcpt:-?}"
			tail -n 6 "$T/swaks.out" | sed 's/^/     | /'
		fi ;;
	esac
}

# ------------------------------------------------------ Dovecot auth policy

# mw_dovecot_policy FILE PORT NONCE: contrib/dovecot/95-mailward.conf
# with only the URL's port and the nonce replaced, written to FILE; prints
# the API key the file carries (mailward's [authpolicy] api_key must be
# it). Fails the test when anything else would differ.
mw_dovecot_policy() {
	local file=$1 port=$2 nonce=$3 src=$MW_SOURCE_DIR/contrib/dovecot/95-mailward.conf
	sed -e "s|^auth_policy_server_url = http://127\.0\.0\.1:10047/|auth_policy_server_url = http://127.0.0.1:$port/|" \
	    -e "s|^auth_policy_hash_nonce = REPLACE-WITH-A-RANDOM-NONCE$|auth_policy_hash_nonce = $nonce|" \
	    "$src" >"$file"
	if [ "$(diff "$src" "$file" | grep -c '^[<>]')" != 4 ]; then
		fail "contrib/dovecot/95-mailward.conf used with only the URL and the nonce replaced"
		diff "$src" "$file" | sed 's/^/     | /'
		exit 1
	fi
	sed -n 's/^auth_policy_server_api_header = X-API-Key: //p' "$src"
}

# authpolicy_stat NAME: a counter of listeners.authpolicy in GET /status.
authpolicy_stat() {
	mwcli status --json >"$T/status.json" &&
	    $MW_HELPER json-get "$T/status.json" "listeners.authpolicy.$1"
}
authpolicy_stat_ge() { local v; v=$(authpolicy_stat "$1") && [ "$v" -ge "$2" ]; }

# Dovecot sends its report after answering the client, so before the next
# attempt wait until mailward has seen the report of every attempt so far
# (MW_LOGINS counts them; each attempt, refused or not, makes one report).
MW_LOGINS=0
wait_reports() {
	wait_for 20 authpolicy_stat_ge reports "$MW_LOGINS" ||
	    fail "mailward received the reports of $MW_LOGINS logins (has $(authpolicy_stat reports))"
}

# expect_login DESC imap|pop3 SRC USER PASSWORD WANT [MIN_MS [MAX_MS]]:
# (each answer is also appended to $T/logins.txt)
# one login from source address SRC through the test Dovecot
# ($MW_IMAP_PORT / $MW_POP3_PORT). WANT: ok (logged in), failed (wrong
# password: Dovecot's own "Authentication failed."), refused (any other
# NO: mailward's reject_text). The time from connect to answer must be within [MIN_MS, MAX_MS]
# when given; it is left in LOGIN_MS.
expect_login() {
	local desc=$1 proto=$2 src=$3 user=$4 pw=$5 want=$6 min=${7:-0} max=${8:-} port out got
	[ "$proto" = imap ] && port=$MW_IMAP_PORT || port=$MW_POP3_PORT
	out=$($MW_HELPER "$proto-login" "$src" "$port" "$user" "$pw")
	printf '%s\n' "$out" >>"$T/logins.txt"
	MW_LOGINS=$((MW_LOGINS + 1))
	LOGIN_MS=${out%% *}
	got=${out#* }
	case $want in
	ok) [[ $got == OK ]] ;;
	failed) [[ $got == NO* && $got == *"Authentication failed."* ]] ;;
	refused) [[ $got == NO* && $got != *"Authentication failed."* ]] ;;
	esac
	local rc=$?
	if [ "$rc" -eq 0 ] && [ "$LOGIN_MS" -ge "$min" ] &&
	    { [ -z "$max" ] || [ "$LOGIN_MS" -le "$max" ]; }; then
		ok "$desc: $want in $LOGIN_MS ms ($got)"
	else
		fail "$desc: want $want in [$min, ${max:-inf}] ms, got in $LOGIN_MS ms: $got"
	fi
	wait_reports
}
