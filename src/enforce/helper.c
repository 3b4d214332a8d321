/*
 * helper - the privileged firewall helper; see helper.h.
 *
 * SECURITY: this is the only part of mailward that keeps a privilege
 * after start-up. It trusts nothing it reads: every message is decoded by
 * helper_msg_decode (lengths, families, prefix lengths, host bits,
 * timeouts) and elements reach nft only as text printed by inet_ntop.
 */
#include "enforce/helper.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "enforce/helper_msg.h"

#define HELPER_TRIM_AFTER	10000	/* elements in a transaction: trim the heap */

/* Keeps CAP_NET_ADMIN only: empties the bounding set but for it, becomes
   uid/gid (when not 0) keeping it across setuid, and sets no-new-privs.
   Plain syscalls: two structs do not justify a libcap dependency. */
static int
helper_drop_privileges(uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct	hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	data[2];

	/* Without CAP_SETPCAP (systemd's CapabilityBoundingSet) the bounding
	   set is the service manager's business; no-new-privs below makes
	   it moot for this process anyway. */
	for (int cap = 0; cap <= 63; cap++) {
		if (cap == CAP_NET_ADMIN)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL &&
		    errno != EPERM) {
			log_error_errno("helper: dropping capability %d", cap);
			return -1;
		}
	}
	if (uid != 0) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
		    setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0) {
			log_error_errno("helper: becoming uid %ld", (long)uid);
			return -1;
		}
	}
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = 1U << CAP_NET_ADMIN;
	if (syscall(SYS_capset, &hdr, data) < 0) {
		log_error_errno("helper: capset(CAP_NET_ADMIN)");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		log_error_errno("helper: prctl");
		return -1;
	}
	return 0;
}

static int
helper_send(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

static int
helper_send_status(int fd, bool ok, size_t applied, const char *error)
{
	uint8_t	buf[HELPER_MSG_HDR + 10 + HELPER_MSG_MAX_ERROR];
	size_t	len = helper_msg_encode_status(buf, sizeof(buf), ok,
		    applied > UINT32_MAX ? UINT32_MAX : (uint32_t)applied, error);

	return helper_send(fd, buf, len);
}

/* One message applied (or added to the open transaction). */
struct helper_state {
	struct enforce_nft	*nft;
	uint32_t		 pid;
	/* Until the first BEGIN carrying this worker's pid, messages are
	   left over from a worker that died (the socket outlives it):
	   checked, then ignored. The daemon resynchronises after HELLO. */
	bool			 synced;
	bool			 in_batch;
	bool			 overflow;	/* the batch outgrew its limit */
	bool			 table_gone;	/* exit for a respawn */
};

static double
helper_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
helper_commit(int fd, struct helper_state *s)
{
	const char	*error = NULL;
	size_t		 applied = 0, failed = 0;
	double		 started, took;
	int		 rc;

	if (s->overflow) {
		enforce_nft_begin(s->nft);
		s->overflow = false;
		log_error("helper: transaction larger than %lu bytes of nft "
		    "text; dropped", (unsigned long)ENFORCE_NFT_MAX_BATCH);
		return helper_send_status(fd, false, 0, "transaction larger "
		    "than the helper's limit");
	}
	started = helper_now();
	rc = enforce_nft_commit(s->nft, &applied, &failed, &error);
	took = helper_now() - started;
	if (took >= 1.0)
		log_info("helper: transaction of %zu elements applied by the "
		    "kernel in %.2f s", applied, took);
	/* libnftables needs about 480 MB for 1,000,000 elements (measured);
	   the worker lives on with a handful: return the heap to the
	   system. */
	if (applied >= HELPER_TRIM_AFTER)
		(void)malloc_trim(0);
	if (rc < 0)
		log_warn("helper: %zu elements not applied: %s", failed, error);
	if (helper_send_status(fd, rc == 0, applied, rc == 0 ? NULL : error) < 0)
		return -1;
	if (rc < 0 && enforce_nft_table_exists(s->nft) == 0)
		s->table_gone = true;
	return 0;
}

/* 0, -1 for a message out of place (*error_r), -2 when the answer could
   not be sent (errno). */
static int
helper_apply(int fd, struct helper_state *s, const struct helper_msg *m,
    const char **error_r)
{
	enum enforce_nft_op op = ENFORCE_NFT_LOAD;

	if (!s->synced && m->type != HELPER_MSG_HELLO &&
	    m->type != HELPER_MSG_STATUS) {
		if (m->type != HELPER_MSG_BEGIN || m->arg != s->pid)
			return 0;
		s->synced = true;
	}
	switch (m->type) {
	case HELPER_MSG_BEGIN:
		if (s->in_batch)
			return *error_r = "BEGIN inside a transaction", -1;
		if (m->arg != s->pid)
			return *error_r = "BEGIN for another worker", -1;
		s->in_batch = true;
		enforce_nft_begin(s->nft);
		return 0;
	case HELPER_MSG_END:
		if (!s->in_batch)
			return *error_r = "END outside a transaction", -1;
		s->in_batch = false;
		return helper_commit(fd, s) < 0 ? -2 : 0;
	case HELPER_MSG_FLUSH:
		if (!s->in_batch)
			enforce_nft_begin(s->nft);
		if (!s->overflow && enforce_nft_flush(s->nft, m->arg) < 0)
			s->overflow = true;
		break;
	case HELPER_MSG_SET:
	case HELPER_MSG_DEL:
	case HELPER_MSG_LOAD:
		op = m->type == HELPER_MSG_SET ? ENFORCE_NFT_SET :
		    m->type == HELPER_MSG_DEL ? ENFORCE_NFT_DEL : ENFORCE_NFT_LOAD;
		if (!s->in_batch)
			enforce_nft_begin(s->nft);
		for (size_t i = 0; i < m->nelems && !s->overflow; i++)
			if (enforce_nft_elem(s->nft, op, &m->elems[i]) < 0)
				s->overflow = true;
		break;
	default:
		return *error_r = "message type the daemon never sends", -1;
	}
	if (!s->in_batch && helper_commit(fd, s) < 0)
		return -2;
	return 0;
}

/* A send that failed: the daemon gone (EOF: exit for good, or the
   supervisor would respawn workers for nobody) or another error. */
static int
helper_send_failed(void)
{
	if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
		return HELPER_EXIT_EOF;
	log_error_errno("helper: writing to mailwardd");
	return HELPER_EXIT_IO;
}

int
helper_serve(int fd, const struct enforce_nft_cfg *cfg)
{
	struct helper_state	 s = { 0 };
	struct helper_msg	*m = mw_malloc(sizeof(*m));
	uint8_t			*buf = mw_malloc(HELPER_MSG_MAX + 1);
	uint8_t			 hello[HELPER_MSG_HDR + 4];
	const char		*error;
	int			 rc, ret = 0;

	s.pid = (uint32_t)getpid();
	s.nft = enforce_nft_new(cfg);
	if (enforce_nft_setup(s.nft, &error) < 0) {
		log_error("helper: creating table inet %s: %s", cfg->table, error);
		(void)helper_send_status(fd, false, 0, error);
		rc = HELPER_EXIT_SETUP;
		goto out;
	}
	if (helper_send(fd, hello, helper_msg_encode(hello, sizeof(hello),
	    HELPER_MSG_HELLO, (uint32_t)getpid())) < 0) {
		rc = helper_send_failed();
		goto out;
	}
	for (;;) {
		struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
		ssize_t		 n;

		if (s.table_gone || (poll(&pfd, 1, HELPER_CHECK_S * 1000) == 0 &&
		    !s.in_batch && enforce_nft_table_exists(s.nft) == 0)) {
			log_warn("helper: table inet %s is gone (nft flush "
			    "ruleset?); restarting to recreate it", cfg->table);
			rc = HELPER_EXIT_SETUP;
			break;
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		n = recv(fd, buf, HELPER_MSG_MAX + 1, 0);

		if (n == 0) {
			rc = HELPER_EXIT_EOF;
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno("helper: reading from mailwardd");
			rc = HELPER_EXIT_IO;
			break;
		}
		if (helper_msg_decode(buf, (size_t)n, m, &error) < 0 ||
		    (ret = helper_apply(fd, &s, m, &error)) == -1) {
			log_error("helper: malformed message from mailwardd "
			    "(%zd bytes): %s; exiting (fail closed)", n, error);
			rc = HELPER_EXIT_PROTOCOL;
			break;
		}
		if (ret == -2) {
			rc = helper_send_failed();
			break;
		}
	}
out:
	enforce_nft_free(&s.nft);
	free(m);
	free(buf);
	return rc;
}

static volatile sig_atomic_t helper_stop;

static void
helper_on_term(int sig)
{
	(void)sig;
	helper_stop = 1;
}

/* The supervisor: forks workers until one ends for good. */
static MW_NORETURN void
helper_supervise(int fd, const struct helper_spawn_args *args)
{
	unsigned	backoff = 1;
	struct sigaction sa = { .sa_handler = helper_on_term };

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	while (!helper_stop) {
		struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
		time_t		 started = time(NULL);
		pid_t		 pid, w;
		int		 status = 0;

		/* The daemon gone while we waited: nobody to serve. */
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLHUP) != 0)
			_exit(HELPER_EXIT_EOF);
		pid = fork();
		if (pid < 0) {
			log_error_errno("helper: fork");
		} else if (pid == 0) {
			(void)signal(SIGTERM, SIG_DFL);
			(void)signal(SIGINT, SIG_DFL);
			_exit(helper_serve(fd, &args->nft));
		} else {
			while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
				if (helper_stop)
					(void)kill(pid, SIGTERM);
			if (WIFEXITED(status) &&
			    (WEXITSTATUS(status) == HELPER_EXIT_EOF ||
			    WEXITSTATUS(status) == HELPER_EXIT_PROTOCOL))
				_exit(WEXITSTATUS(status));
			if (WIFSIGNALED(status))
				log_error("helper: worker %ld killed by signal %d; "
				    "respawning in %u s", (long)pid,
				    WTERMSIG(status), backoff);
			else
				log_error("helper: worker %ld exited with status "
				    "%d; respawning in %u s", (long)pid,
				    WEXITSTATUS(status), backoff);
		}
		if (time(NULL) - started > HELPER_BACKOFF_MAX_S)
			backoff = 1;
		for (unsigned i = 0; i < backoff * 10 && !helper_stop; i++) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };

			(void)nanosleep(&ts, NULL);
		}
		backoff = backoff * 2 > HELPER_BACKOFF_MAX_S ?
		    HELPER_BACKOFF_MAX_S : backoff * 2;
	}
	_exit(HELPER_EXIT_EOF);
}

int
helper_spawn(const struct helper_spawn_args *args, pid_t *pid_r, int *fd_r,
    const char **error_r)
{
	int	 sv[2];
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error_errno("helper: socketpair");
		*error_r = "cannot create the helper's socketpair";
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_error_errno("helper: fork");
		close(sv[0]);
		close(sv[1]);
		*error_r = "cannot fork the helper";
		return -1;
	}
	if (pid > 0) {
		close(sv[1]);
		*pid_r = pid;
		*fd_r = sv[0];
		return 0;
	}
	/* The child: nothing of the daemon's but fd 3 and stderr. */
	closelog();
	if (dup2(sv[1], 3) < 0)
		_exit(HELPER_EXIT_IO);
	if (close_range(4, ~0U, 0) < 0)
		for (int fd = 4; fd < 1024; fd++)
			(void)close(fd);
	log_open("mailwardd", args->log_target, args->log_level);
	if (prctl(PR_SET_NAME, "mailwardd-fw", 0, 0, 0) < 0 ||
	    helper_drop_privileges(args->uid, args->gid) < 0) {
		log_error("helper: cannot drop privileges; exiting");
		_exit(HELPER_EXIT_PROTOCOL);
	}
	helper_supervise(3, args);
}
