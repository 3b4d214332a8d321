/*
 * test_enforce_nft - the nftables table and the helper's loop against the
 * real kernel, in a network namespace of the test's own (unshare: as root
 * a new netns; otherwise a user namespace too). Nothing touches the
 * host's ruleset. Skipped when namespaces are unavailable.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/log.h"
#include "enforce/helper.h"
#include "enforce/helper_msg.h"
#include "enforce/nft.h"

static bool have_netns;

static int
write_file(const char *path, const char *text)
{
	int	fd = open(path, O_WRONLY);
	ssize_t	n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void
enter_netns(void)
{
	uid_t	uid = getuid();
	gid_t	gid = getgid();
	char	map[64];

	if (unshare(CLONE_NEWNET) == 0) {
		have_netns = true;
		return;
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return;
	(void)snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return;
	(void)write_file("/proc/self/setgroups", "deny");
	(void)snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	have_netns = write_file("/proc/self/gid_map", map) == 0;
}

static struct enforce_nft_cfg
test_cfg(int32_t priority)
{
	struct enforce_nft_cfg c = { .priority = priority, .nports = 2,
	    .ports = { 25, 993 } };

	(void)snprintf(c.table, sizeof(c.table), "mwtest");
	return c;
}

static struct helper_elem
elem(const char *cidr, enum helper_set set, uint32_t timeout)
{
	struct helper_elem	 e = { .set = set, .timeout = timeout };
	const char		*error;

	assert_int_equal(mw_cidr_parse(cidr, &e.net, NULL, &error), 0);
	return e;
}

/* The text listing of one set (nft's own words). */
static char *
list_set(struct enforce_nft *n, const char *set)
{
	const char	*out, *error;
	char		 cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "list set inet mwtest %s", set);
	if (enforce_nft_run(n, cmd, false, &out, &error) < 0)
		fail_msg("%s: %s", cmd, error);
	return strdup(out);
}

static bool
set_has(struct enforce_nft *n, const char *set, const char *text)
{
	char	*s = list_set(n, set);
	bool	 found = strstr(s, text) != NULL;

	free(s);
	return found;
}

static void
test_nft_table_and_elements(void **state)
{
	struct enforce_nft_cfg	 cfg = test_cfg(-10);
	struct enforce_nft	*n;
	struct helper_elem	 e;
	const char		*out, *error = NULL;
	size_t			 applied, failed;

	(void)state;
	if (!have_netns)
		skip();
	n = enforce_nft_new(&cfg);
	assert_int_equal(enforce_nft_table_exists(n), 0);
	assert_int_equal(enforce_nft_setup(n, &error), 0);
	assert_int_equal(enforce_nft_table_exists(n), 1);
	assert_int_equal(enforce_nft_run(n, "list table inet mwtest", false,
	    &out, &error), 0);
	assert_non_null(strstr(out, "hook input priority filter - 10"));
	assert_non_null(strstr(out, "ip saddr @allow4 accept"));
	assert_non_null(strstr(out, "tcp dport { 25, 993 } ip saddr @ban4 counter"));
	assert_non_null(strstr(out, "ip6 saddr @bannet6"));

	/* a load as at start: flush, then elements of every kind */
	enforce_nft_begin(n);
	assert_int_equal(enforce_nft_flush(n, HELPER_FLUSH_BANS |
	    HELPER_FLUSH_ALLOW), 0);
	e = elem("203.0.113.9", HELPER_SET_BAN, 3600);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("203.0.113.10", HELPER_SET_BAN, 0);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("2001:db8::bad", HELPER_SET_BAN, 90061);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("198.51.100.0/24", HELPER_SET_BAN, 600);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("192.0.2.0/24", HELPER_SET_ALLOW, 0);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("192.0.2.128/25", HELPER_SET_ALLOW, 0);	/* merged */
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("203.0.113.11", HELPER_SET_BAN, HELPER_MSG_MAX_TIMEOUT);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	assert_int_equal(enforce_nft_commit(n, &applied, &failed, &error), 0);
	assert_int_equal(applied, 7);
	assert_true(set_has(n, "ban4", "203.0.113.9 timeout 1h"));
	assert_true(set_has(n, "ban4", "203.0.113.10,") ||
	    set_has(n, "ban4", "203.0.113.10 }"));
	assert_true(set_has(n, "ban4", "203.0.113.11 timeout 24855d"));
	assert_true(set_has(n, "ban6", "2001:db8::bad timeout 1d1h1m1s"));
	assert_true(set_has(n, "bannet4", "198.51.100.0/24 timeout 10m"));
	assert_true(set_has(n, "allow4", "192.0.2.0/24"));

	/* refresh an expiry (shorter: the add/delete/add sequence) and
	   delete one present and one absent element in one transaction */
	enforce_nft_begin(n);
	e = elem("203.0.113.9", HELPER_SET_BAN, 100);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_SET, &e), 0);
	e = elem("198.51.100.0/24", HELPER_SET_BAN, 7200);	/* a network too */
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_SET, &e), 0);
	e = elem("2001:db8::bad", HELPER_SET_BAN, 0);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_DEL, &e), 0);
	e = elem("203.0.113.200", HELPER_SET_BAN, 0);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_DEL, &e), 0);
	assert_int_equal(enforce_nft_commit(n, &applied, &failed, &error), 0);
	assert_int_equal(applied, 4);
	assert_true(set_has(n, "ban4", "203.0.113.9 timeout 1m40s"));
	assert_true(set_has(n, "bannet4", "198.51.100.0/24 timeout 2h"));
	assert_false(set_has(n, "ban6", "2001:db8::bad"));
	assert_false(set_has(n, "ban4", "203.0.113.200"));

	/* overlapping prefixes: the kernel refuses the transaction; the
	   fallback applies what it can and names what it could not */
	enforce_nft_begin(n);
	e = elem("10.0.0.0/8", HELPER_SET_BAN, 600);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("10.1.0.0/16", HELPER_SET_BAN, 600);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	e = elem("203.0.113.77", HELPER_SET_BAN, 600);
	assert_int_equal(enforce_nft_elem(n, ENFORCE_NFT_LOAD, &e), 0);
	assert_int_equal(enforce_nft_commit(n, &applied, &failed, &error), -1);
	assert_int_equal(failed, 1);
	assert_int_equal(applied, 2);
	assert_non_null(error);
	assert_true(set_has(n, "bannet4", "10.0.0.0/8"));
	assert_true(set_has(n, "ban4", "203.0.113.77"));

	/* a restart with the same definitions keeps the elements */
	enforce_nft_free(&n);
	n = enforce_nft_new(&cfg);
	assert_int_equal(enforce_nft_setup(n, &error), 0);
	assert_true(set_has(n, "ban4", "203.0.113.77"));
	enforce_nft_free(&n);
	/* another priority: the table is replaced */
	cfg = test_cfg(5);
	cfg.nports = 0;
	n = enforce_nft_new(&cfg);
	assert_int_equal(enforce_nft_setup(n, &error), 0);
	assert_int_equal(enforce_nft_run(n, "list table inet mwtest", false,
	    &out, &error), 0);
	assert_non_null(strstr(out, "priority filter + 5"));
	assert_non_null(strstr(out, "meta l4proto tcp ip saddr @ban4"));
	assert_false(set_has(n, "ban4", "203.0.113.77"));
	assert_int_equal(enforce_nft_teardown(n, &error), 0);
	assert_int_equal(enforce_nft_table_exists(n), 0);
	enforce_nft_free(&n);
}

static ssize_t
recv_msg(int fd, struct helper_msg *m)
{
	static uint8_t	 buf[HELPER_MSG_MAX + 1];
	const char	*error;
	ssize_t		 n = recv(fd, buf, sizeof(buf), 0);

	if (n > 0 && helper_msg_decode(buf, (size_t)n, m, &error) < 0)
		fail_msg("helper sent a malformed message: %s", error);
	return n;
}

static void
send_bytes(int fd, const uint8_t *p, size_t len)
{
	assert_int_equal(send(fd, p, len, 0), (ssize_t)len);
}

static int
wait_exit(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static pid_t
fork_worker(int sv[2])
{
	struct enforce_nft_cfg	cfg = test_cfg(-10);
	pid_t			pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(helper_serve(sv[1], &cfg));
	}
	close(sv[1]);
	return pid;
}

static void
test_helper_serve(void **state)
{
	static struct helper_msg	 m;
	static struct helper_elem	 e[3];
	static uint8_t			 buf[HELPER_MSG_MAX];
	struct enforce_nft_cfg		 cfg = test_cfg(-10);
	struct enforce_nft		*n;
	int				 sv[2];
	pid_t				 pid;
	const uint8_t			 bad[] = { 1, HELPER_MSG_SET, 0, 1, 0, 0,
	    0, 32, 4, 24, 0, 0, 0, 0, 0, 60, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0 };

	(void)state;
	if (!have_netns)
		skip();
	pid = fork_worker(sv);
	assert_true(recv_msg(sv[0], &m) > 0);
	assert_int_equal(m.type, HELPER_MSG_HELLO);
	assert_int_equal(m.arg, pid);

	e[0] = elem("203.0.113.9", HELPER_SET_BAN, 3600);
	e[1] = elem("2001:db8::/32", HELPER_SET_BAN, 0);
	e[2] = elem("127.0.0.0/8", HELPER_SET_ALLOW, 0);
	/* left over from a worker that died: ignored until BEGIN(pid) */
	send_bytes(sv[0], buf, helper_msg_encode_elems(buf, sizeof(buf),
	    HELPER_MSG_LOAD, &e[0], 1));
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_END, 0));
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_BEGIN, (uint32_t)pid + 1));
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_BEGIN, (uint32_t)pid));
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_FLUSH, HELPER_FLUSH_BANS | HELPER_FLUSH_ALLOW));
	send_bytes(sv[0], buf, helper_msg_encode_elems(buf, sizeof(buf),
	    HELPER_MSG_LOAD, e, 3));
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_END, 0));
	assert_true(recv_msg(sv[0], &m) > 0);
	assert_int_equal(m.type, HELPER_MSG_STATUS);
	assert_true(m.ok);
	assert_int_equal(m.applied, 3);
	/* outside BEGIN/END a message is its own transaction */
	send_bytes(sv[0], buf, helper_msg_encode_elems(buf, sizeof(buf),
	    HELPER_MSG_DEL, e, 1));
	assert_true(recv_msg(sv[0], &m) > 0);
	assert_true(m.ok);
	assert_int_equal(m.applied, 1);

	n = enforce_nft_new(&cfg);
	assert_false(set_has(n, "ban4", "203.0.113.9"));
	assert_true(set_has(n, "bannet6", "2001:db8::/32"));
	assert_true(set_has(n, "allow4", "127.0.0.0/8"));

	/* a malformed message: the worker exits, fail closed */
	send_bytes(sv[0], bad, sizeof(bad));
	assert_int_equal(recv_msg(sv[0], &m), 0);
	assert_int_equal(wait_exit(pid), HELPER_EXIT_PROTOCOL);
	close(sv[0]);
	/* once in step, END without BEGIN is a protocol error too */
	pid = fork_worker(sv);
	assert_true(recv_msg(sv[0], &m) > 0);
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_BEGIN, (uint32_t)pid));
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_END, 0));
	assert_true(recv_msg(sv[0], &m) > 0);
	assert_true(m.ok);
	assert_int_equal(m.applied, 0);
	send_bytes(sv[0], buf, helper_msg_encode(buf, sizeof(buf),
	    HELPER_MSG_END, 0));
	assert_int_equal(wait_exit(pid), HELPER_EXIT_PROTOCOL);
	close(sv[0]);
	/* the daemon closing its end ends the worker normally; the
	   table keeps its elements */
	pid = fork_worker(sv);
	assert_true(recv_msg(sv[0], &m) > 0);
	close(sv[0]);
	assert_int_equal(wait_exit(pid), HELPER_EXIT_EOF);
	assert_true(set_has(n, "bannet6", "2001:db8::/32"));
	enforce_nft_free(&n);
}

/* The supervisor (helper_spawn): a killed worker is replaced (a new
   HELLO with another pid); the daemon gone while it waits to respawn:
   it exits instead of serving nobody. */
static void
test_helper_supervisor(void **state)
{
	static struct helper_msg	 m;
	struct helper_spawn_args	 args = { .nft = test_cfg(-10),
	    .log_target = LOG_TARGET_STDERR, .log_level = LOG_LEVEL_WARN };
	const char			*error;
	pid_t				 sup, worker;
	int				 fd, status = -1;

	(void)state;
	if (!have_netns)
		skip();
	assert_int_equal(helper_spawn(&args, &sup, &fd, &error), 0);
	assert_true(recv_msg(fd, &m) > 0);
	assert_int_equal(m.type, HELPER_MSG_HELLO);
	worker = (pid_t)m.arg;
	assert_int_equal(kill(worker, SIGKILL), 0);
	assert_true(recv_msg(fd, &m) > 0);	/* after the 1 s backoff */
	assert_int_equal(m.type, HELPER_MSG_HELLO);
	assert_true((pid_t)m.arg != worker);
	worker = (pid_t)m.arg;
	assert_int_equal(kill(worker, SIGKILL), 0);
	close(fd);		/* the daemon dies during the backoff */
	for (int i = 0; i < 100 && waitpid(sup, &status, WNOHANG) == 0; i++)
		usleep(50000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), HELPER_EXIT_EOF);
}

static void
test_nft_names(void **state)
{
	(void)state;
	assert_true(enforce_nft_name_is_valid("mailward"));
	assert_true(enforce_nft_name_is_valid("M_2"));
	assert_false(enforce_nft_name_is_valid(""));
	assert_false(enforce_nft_name_is_valid("2x"));
	assert_false(enforce_nft_name_is_valid("a b"));
	assert_false(enforce_nft_name_is_valid("a;flush ruleset"));
	assert_false(enforce_nft_name_is_valid(
	    "a23456789012345678901234567890123"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nft_names),
		cmocka_unit_test(test_nft_table_and_elements),
		cmocka_unit_test(test_helper_serve),
		cmocka_unit_test(test_helper_supervisor),
	};

	log_open("test_enforce_nft", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	enter_netns();
	if (!have_netns)
		fprintf(stderr, "test_enforce_nft: no network namespace "
		    "(unshare failed: %s); nftables tests skipped\n",
		    strerror(errno));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
