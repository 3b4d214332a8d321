/*
 * firewall - mailwardd's side of the kernel firewall: starts the
 * privileged helper (helper.h) while the daemon is still root, mirrors
 * every ban change the engine reports (engine_set_ban_hook) into the
 * nftables sets, and keeps the allow sets equal to the allow list.
 *
 * Every start of a helper worker (HELLO) is answered with one transaction
 * that flushes the sets and loads all active bans with their remaining
 * time and all allow entries: the kernel never sees the sets half-loaded.
 * Ban changes made during one loop turn go out as one transaction. The
 * allow list is compared with what was sent once a second (it changes by
 * admin action and by reload; a change is sent within a second).
 * Writes never block the loop: messages queue until the socket takes them.
 * When the helper is gone for good (malformed message, killed supervisor)
 * the daemon logs "firewall unavailable", counts it and runs on: the
 * policy and auth-policy answers still refuse banned clients.
 * Loop thread only.
 */
#ifndef MW_ENFORCE_FIREWALL_H
#define MW_ENFORCE_FIREWALL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cfg.h"
#include "core/log.h"

struct event_base;
struct engine;
struct firewall;

enum firewall_state {
	FIREWALL_DISABLED,	/* by configuration or for lack of privilege */
	FIREWALL_STARTING,	/* helper forked, no HELLO yet */
	FIREWALL_RUNNING,
	FIREWALL_UNAVAILABLE,	/* the helper is gone; no enforcement */
};

struct firewall_status {
	enum firewall_state	 state;
	const char		*reason;	/* DISABLED/UNAVAILABLE: why and the fix */
	const char		*table;		/* "inet mailward" */
	long			 helper_pid, worker_pid;	/* 0: none */
	uint64_t		 elements;	/* ban elements as mirrored */
	uint64_t		 allow_elements;
	uint64_t		 transactions, transaction_errors;
	uint64_t		 elements_failed;	/* not applied by the kernel */
	uint64_t		 worker_starts;		/* HELLOs (1 = no restart) */
	uint64_t		 resyncs;
	uint64_t		 last_resync_elements;
	double			 last_resync_s;		/* send to STATUS */
	uint64_t		 queued_bytes;		/* not yet taken by the socket */
	const char		*last_error;		/* "" when none */
	int64_t			 last_error_time;	/* unix seconds, 0: none */
};

const char *firewall_state_name(enum firewall_state s);

/* Called as root, before privileges are dropped and before any thread
   starts: forks the helper when [firewall] enabled = yes and the process
   is root; otherwise logs once why the firewall is disabled and how to
   enable it. uid/gid: the service user the helper becomes (0: stays uid
   0 with CAP_NET_ADMIN only). Never fails: the result may be disabled. */
struct firewall *firewall_start(const struct cfg *cfg, uid_t uid, gid_t gid,
	    enum log_target log_target, enum log_level log_level);
/* Joins the loop and the engine (sets the engine's ban hook). */
void	 firewall_attach(struct firewall *fw, struct event_base *base,
	    struct engine *e);
/* [firewall] is read at start only: a reload with a different section
   says so (warning) and changes nothing. NULL-safe. */
void	 firewall_reload(struct firewall *fw, const struct cfg *fresh);
void	 firewall_get_status(struct firewall *fw, struct firewall_status *s_r);
/* Removes the hook, closes the socketpair (the helper exits; the table
   and its elements stay) and reaps the helper. NULL-safe. */
void	 firewall_free(struct firewall **fw);

#endif
