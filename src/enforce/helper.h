/*
 * helper - the privileged firewall helper process.
 *
 * mailwardd forks it while still root, before it drops privileges. The
 * helper keeps CAP_NET_ADMIN and nothing else (bounding set emptied but
 * for that, no-new-privs, not dumpable), becomes the service user when
 * one is given, and then only validates messages (helper_msg.h) from its
 * end of a SOCK_SEQPACKET socketpair and applies them to the nftables
 * table (nft.h). It opens no files and no other sockets.
 *
 * Two processes: a supervisor that forks the worker and respawns it with
 * backoff (1 s doubling to 60 s) when it dies of anything but the end of
 * the socketpair or a malformed message, and the worker. Each worker sets
 * the table up and then says HELLO (its pid): the daemon answers with a
 * full resynchronisation. A malformed message ends both (fail closed): the
 * daemon sees the socketpair close, logs "firewall unavailable" and runs
 * on without the firewall. When the daemon exits, the socketpair closes
 * and the helper exits; the table and its elements stay (bans go on being
 * enforced until their timeouts; the next start replaces them).
 */
#ifndef MW_ENFORCE_HELPER_H
#define MW_ENFORCE_HELPER_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/log.h"
#include "core/mem.h"
#include "enforce/nft.h"

/* Worker exit statuses (the supervisor's decision depends on them). */
#define HELPER_EXIT_EOF		0	/* the daemon closed the socketpair */
#define HELPER_EXIT_IO		1	/* socket error */
#define HELPER_EXIT_SETUP	2	/* the table could not be created: retry */
#define HELPER_EXIT_PROTOCOL	3	/* malformed message: fail closed */

#define HELPER_BACKOFF_MAX_S	60	/* longest wait before a respawn */
/* Seconds between checks that the table still exists (an admin's "nft
   flush ruleset" removes it): when it is gone the worker exits, a new
   one recreates it and the daemon reloads the sets. */
#define HELPER_CHECK_S		10

struct helper_spawn_args {
	struct enforce_nft_cfg	 nft;
	uid_t			 uid;	/* 0: stay uid 0 (capabilities dropped) */
	gid_t			 gid;
	enum log_target		 log_target;
	enum log_level		 log_level;
};

/* Forks the helper. Returns 0 with the supervisor's pid and the daemon's
   end of the socketpair (close-on-exec, blocking); -1 with *error_r
   (static text, errno-based detail logged) when the socketpair or fork
   fails. The child never returns. */
int	 helper_spawn(const struct helper_spawn_args *args, pid_t *pid_r,
	    int *fd_r, const char **error_r) MW_MUST_CHECK;

/* The worker's loop on fd (exposed for tests, which run it in a thread
   of their own network namespace). Returns a HELPER_EXIT_* status. */
int	 helper_serve(int fd, const struct enforce_nft_cfg *cfg);

#endif
