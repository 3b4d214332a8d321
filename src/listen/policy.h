/*
 * policy - the Postfix policy delegation server (check_policy_service).
 *
 * Listens on cfg->policy.listen (TCP) and/or cfg->policy.unix_socket,
 * turns each request (policy_parse.h) into a struct observation, asks the
 * engine and answers "action=DUNNO", "action=REJECT 5.7.1 <text>",
 * "action=DEFER_IF_PERMIT 4.7.1 <text>" (so a later reject still wins) or
 * "action=WARN <reason>", each followed by an empty line (protocols.md 1).
 * Connections are persistent; nothing is sent unsolicited and nothing is
 * closed after a reply. Pipelined requests are answered in order: the
 * next one is not parsed before the current answer is queued, and the
 * answers to the requests of one read leave in one write.
 * A malformed request gets one sanitized warning, a counter, the reply
 * "action=DEFER_IF_PERMIT 4.3.0 malformed policy request" and a close
 * after the write. Memory: an input buffer of 4 KiB per connection
 * (growing to 36 KiB for a request that needs it), an arena reset after
 * each answer. Loop thread only.
 */
#ifndef MW_LISTEN_POLICY_H
#define MW_LISTEN_POLICY_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/mem.h"

struct event_base;
struct engine;

#define POLICY_ARENA_CHUNK	4096	/* verdict texts, error texts, and the
					   values a pending decision keeps */

struct policy_server;

struct policy_stats {
	uint64_t	 connections;		/* open now */
	uint64_t	 connections_total;	/* accepted since start */
	uint64_t	 requests;		/* complete, valid requests */
	uint64_t	 malformed;		/* requests refused as malformed */
	uint64_t	 verdicts[4];		/* answers by enum verdict_kind */
	uint64_t	 reads, writes;		/* recv()s and send()s that moved data */
};

/* Binds cfg->policy.listen if non-empty and cfg->policy.unix_socket if
   non-empty (created with unix_socket_mode, chgrp'd to
   unix_socket_group when set; a stale socket file is removed first, any
   other file there is refused). cfg must stay valid until the next
   policy_server_reload; e must outlive the server. 0, or -1 with *error_r
   (malloc'd, the caller frees it); nothing stays bound on failure. */
int	 policy_server_new(struct event_base *base, const struct cfg *cfg,
	    struct engine *e, struct policy_server **ps_r, char **error_r)
	    MW_MUST_CHECK;
/* Takes the new limits (max_connections, idle_timeout); the listeners
   stay as they are (a changed endpoint or socket needs a restart, and
   says so in the log). The caller frees the old cfg after this returns. */
void	 policy_server_reload(struct policy_server *ps, const struct cfg *cfg);
/* Cancels pending decisions, closes every connection and listener,
   removes the unix socket file. NULL-safe; clears *ps. */
void	 policy_server_free(struct policy_server **ps);

void	 policy_server_get_stats(const struct policy_server *ps,
	    struct policy_stats *s_r);
/* The TCP port bound (tests bind port 0); 0 without a TCP listener. */
uint16_t policy_server_port(const struct policy_server *ps);

#endif
