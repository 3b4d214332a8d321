/*
 * engine - owns the decision state (allow/deny lists, bans, DNSBL
 * results) and turns observations into verdicts. Listeners translate a
 * protocol into a struct observation and a struct verdict back into the
 * protocol's answer; nothing but the engine decides. Admin actions (ban,
 * list changes, explain) go through the engine too, so the in-memory
 * state and the store never disagree.
 *
 * Order of a decision: allow list (wins over everything) > deny list >
 * active ban > [authenticated clients stop here] > DNSBL score >= threshold
 * > DUNNO. A deny entry never fails open; DNSBL trouble (timeout, error)
 * fails open and is counted.
 *
 * Loop thread only.
 */
#ifndef MW_ENGINE_ENGINE_H
#define MW_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/arena.h"
#include "core/cfg.h"
#include "core/mem.h"
#include "dnsbl/dnsbl.h"
#include "store/store.h"

struct event_base;

/* What a listener saw. Strings are borrowed for the duration of
   engine_decide (the engine copies what it keeps); "" when absent. */
struct observation {
	const char	*listener;	/* "policy" */
	struct mw_addr	 addr;
	bool		 has_addr;	/* false: unknown client address */
	uint16_t	 server_port;	/* 0 when unknown */
	const char	*protocol_state;/* "RCPT", "END-OF-MESSAGE", ... */
	const char	*client_name;
	const char	*helo;
	const char	*sender;
	const char	*recipient;
	const char	*sasl_username;	/* non-empty: authenticated client */
	const char	*policy_context;
	const char	*instance;
};

enum verdict_kind {
	VERDICT_DUNNO,		/* no opinion */
	VERDICT_REJECT,		/* permanent refusal (5xx) */
	VERDICT_DEFER,		/* temporary refusal (4xx) */
	VERDICT_WARN,		/* log a warning, let it through */
};

enum verdict_by {
	VERDICT_BY_DEFAULT, VERDICT_BY_ALLOW, VERDICT_BY_DENY, VERDICT_BY_BAN,
	VERDICT_BY_DNSBL, VERDICT_BY_ERROR,
};

struct verdict {
	enum verdict_kind	 kind;
	enum verdict_by		 by;
	const char		*status;	/* RFC 3463 code: "5.7.1", "4.7.1"; NULL for DUNNO */
	const char		*text;		/* for the SMTP client (reject_text applied) */
	const char		*reason;	/* short, for logs and events: "deny list 198.51.100.0/24" */
};

const char *verdict_kind_name(enum verdict_kind k);	/* "DUNNO", "REJECT", ... */
const char *verdict_by_name(enum verdict_by b);		/* "default", "allow", ... */

struct engine;
struct engine_pending;

typedef void engine_verdict_fn(void *ctx, const struct verdict *v);

/* Takes cfg, st and d by reference (they must outlive e; engine_reload
   swaps cfg). d may be NULL (DNSBL disabled). Loads bans and lists from st. */
int	 engine_new(struct event_base *base, const struct cfg *cfg,
	    struct store *st, struct dnsbl *d, struct engine **e_r,
	    char **error_r) MW_MUST_CHECK;
void	 engine_free(struct engine **e);
/* Swaps in a new configuration (static list entries, texts, thresholds).
   The caller frees the old cfg after this returns. */
void	 engine_reload(struct engine *e, const struct cfg *cfg, struct dnsbl *d);

/* Decides obs. Verdict strings are allocated in a (owned by the caller,
   alive until fn has run). Returns NULL when fn already ran; otherwise a
   handle for engine_cancel, and fn runs later on the loop (DNSBL). */
struct engine_pending *engine_decide(struct engine *e,
	    const struct observation *obs, struct mw_arena *a,
	    engine_verdict_fn *fn, void *ctx);
/* fn will not run; NULL-safe; clears *p. */
void	 engine_cancel(struct engine_pending **p);

/* --- admin actions (one implementation for the CLI and dashboard) --- */

/* duration 0 = permanent. Re-banning an address refreshes the expiry,
   keeps first_seen and hits, and increments count. reason is copied. */
int	 engine_ban_add(struct engine *e, const struct mw_cidr *net,
	    uint64_t duration, enum store_ban_source source, const char *reason,
	    struct store_ban *ban_r, const char **error_r) MW_MUST_CHECK;
/* 1 removed, 0 no such ban, -1 store error (*error_r static text). */
int	 engine_ban_del(struct engine *e, const struct mw_cidr *net,
	    const char **error_r) MW_MUST_CHECK;
/* Active bans (expired ones are skipped), in address order. */
void	 engine_ban_walk(struct engine *e, store_ban_fn *fn, void *ctx);
/* The active ban covering a (longest prefix), or false. */
bool	 engine_ban_find(struct engine *e, const struct mw_addr *a,
	    struct store_ban *ban_r);

enum engine_list_origin { ENGINE_LIST_STORE, ENGINE_LIST_CONFIG };

struct engine_list_entry {
	struct store_list_entry	 e;
	enum engine_list_origin	 origin;
};

typedef bool engine_list_fn(void *ctx, const struct engine_list_entry *le);

/* Adding an existing network replaces its comment. */
int	 engine_list_add(struct engine *e, enum store_list list,
	    const struct mw_cidr *net, const char *comment,
	    const char **error_r) MW_MUST_CHECK;
/* 1 removed, 0 not there, -1 error (e.g. entry comes from the config
   file: *error_r says where to edit). */
int	 engine_list_del(struct engine *e, enum store_list list,
	    const struct mw_cidr *net, const char **error_r) MW_MUST_CHECK;
void	 engine_list_walk(struct engine *e, enum store_list list,
	    engine_list_fn *fn, void *ctx);
bool	 engine_list_match(struct engine *e, enum store_list list,
	    const struct mw_addr *a, struct engine_list_entry *le_r);

/* Explains what the engine would answer for a as an unauthenticated
   client on port 25: every step and its outcome. Asynchronous when the
   DNSBL must be asked (the answer is then cached for the real traffic). */
struct engine_explain {
	struct mw_addr		 addr;
	bool			 allowed, denied, banned;
	struct engine_list_entry allow, deny;	/* valid when allowed/denied */
	struct store_ban	 ban;		/* valid when banned */
	bool			 dnsbl_checked;	/* false: skipped (decided earlier, or disabled) */
	struct dnsbl_result	 dnsbl;
	int32_t			 threshold;
	struct verdict		 verdict;
};

typedef void engine_explain_fn(void *ctx, const struct engine_explain *x);

struct engine_pending *engine_explain(struct engine *e,
	    const struct mw_addr *a, struct mw_arena *arena,
	    engine_explain_fn *fn, void *ctx);

struct engine_stats {
	uint64_t	 decisions;
	uint64_t	 verdicts[4];	/* by enum verdict_kind */
	uint64_t	 by[6];		/* by enum verdict_by */
	uint64_t	 dnsbl_fail_open;	/* decided without a full DNSBL answer */
	size_t		 bans_active;
	size_t		 allow_entries, deny_entries;
	int64_t		 started;	/* unix seconds */
};

void	 engine_get_stats(struct engine *e, struct engine_stats *stats_r);
struct store	*engine_store(struct engine *e);
struct dnsbl	*engine_dnsbl(struct engine *e);
const struct cfg *engine_cfg(struct engine *e);

/* --- login guard (issue 3): authentication attempts ------------------

   Every login attempt (Dovecot auth policy, logwatch, the dashboard's own
   login) is an auth_observation. engine_auth_check answers before the
   password is checked; engine_auth_report records the outcome and runs
   the detectors (windows per address, network, account and (account,
   address); spraying; distributed attack on an account; success after
   failures; weak password), which may ban (source STORE_BAN_LOGIN or
   STORE_BAN_LOGWATCH, escalating), raise an alert, and write events. The
   detectors themselves are pure (src/engine/bruteforce.c: time passed in,
   no I/O) so `mailward logscan` runs the very same rules offline. */

enum auth_phase {
	AUTH_PHASE_BEFORE,	/* about to authenticate (Dovecot "allow") */
	AUTH_PHASE_FAILURE,	/* wrong password or unknown user */
	AUTH_PHASE_SUCCESS,
};

#define AUTH_PWHASH_MAX	32	/* bytes of a password hash kept (SHA-256) */

struct auth_observation {
	const char	*source;	/* "authpolicy", "logwatch", "dashboard" */
	const char	*service;	/* "imap", "pop3", "smtp", ...; "" unknown */
	struct mw_addr	 addr;
	bool		 has_addr;
	const char	*account;	/* login name as given; "" unknown */
	enum auth_phase	 phase;
	/* Dovecot's truncated password hash (auth_policy_hash_nonce set),
	   decoded from hex; pwhash_bits 0 = none. Never logged or stored. */
	uint8_t		 pwhash[AUTH_PWHASH_MAX];
	uint32_t	 pwhash_bits;
	int64_t		 time_ms;	/* when it happened; 0 = now */
	/* engine_auth_check: the caller logs a refusal only when it is no
	   repeat (auth_verdict.repeat), so the engine logs the repeats'
	   count at the tick. Without it (the dashboard logs each refused
	   login with its account) the engine logs none. */
	bool		 merge_log;
};

enum auth_verdict_kind { AUTH_VERDICT_ALLOW, AUTH_VERDICT_TARPIT,
	AUTH_VERDICT_REJECT };

struct auth_verdict {
	enum auth_verdict_kind	 kind;
	uint32_t		 delay_s;	/* AUTH_VERDICT_TARPIT */
	const char		*reason;	/* static or in the caller's arena */
	/* A refusal merged into an earlier one of this tick (same client,
	   source, verdict and reason): with o->merge_log the caller logs no
	   line of its own; the engine logs one for all of the tick's repeats
	   ("login: client X (source): REJECT: reason (N more in the last
	   second)"). False for the first of them and for one that could not
	   be merged (no event loop, the slots near its hash taken). */
	bool			 repeat;
};

/* Decides an attempt (allow list > deny list > ban > detectors' current
   state). Synchronous, never blocks. Strings in o are borrowed. */
void	 engine_auth_check(struct engine *e, const struct auth_observation *o,
	    struct mw_arena *a, struct auth_verdict *v_r);
/* Records the outcome of an attempt (phase FAILURE or SUCCESS). */
void	 engine_auth_report(struct engine *e, const struct auth_observation *o);

/* Verdict reasons read like "3 failed logins in 10m", "banned
   203.0.113.9 (login): password spraying: 9 accounts in 10m". Events:
   listener = o->source; verdict AUTH_FAIL or AUTH_OK for every report,
   TARPIT or REJECT for such a check, BAN when the rules ban, ALERT for a
   possible takeover; the account in the account field. */

struct engine_login_stats {
	uint64_t	 checks, tarpits, rejects;	/* engine_auth_check */
	uint64_t	 failures, successes;		/* engine_auth_report */
	uint64_t	 repeats;	/* failures repeating a wrong password */
	uint64_t	 stale;		/* reports older than the window: not counted */
	uint64_t	 bans, alerts;
	uint64_t	 alerts_repeated;	/* within [login] alert_interval */
	size_t		 addresses, networks, accounts, pairs;	/* tracked now */
	uint64_t	 evicted;	/* dropped because a table was full */
	size_t		 bytes;		/* memory of the tracking tables */
};

void	 engine_login_get_stats(struct engine *e,
	    struct engine_login_stats *stats_r);
/* Saves now what waits for the next tick (merged events, the networks
   of recent successes), so that a query of the store that follows sees
   every decision and login so far (the admin API calls it). */
void	 engine_flush_pending(struct engine *e);

#define ENGINE_ACCOUNT_MAX	256	/* bytes of an account name kept */

/* The account name as the login guard keys it (in memory, in the store,
   in events): ASCII letters folded to lower case (as Dovecot's default
   auth_username_format %Lu does, so "Alice" cannot dodge the counts of
   "alice"), cut at ENGINE_ACCOUNT_MAX bytes. Returns buf. */
const char *engine_account_fold(const char *account, char *buf, size_t size);

/* What the login guard holds about one account now (in memory; its
   history is in the store: store_login_net_query, store_alert_query,
   events by account). */
struct engine_account {
	const char	*account;
	uint32_t	 window_s;
	uint32_t	 failures, addresses;	/* in the window */
	bool		 under_attack;
	int64_t		 attacked_since;	/* 0: not under attack */
	int64_t		 last_failure, last_success;	/* 0: none seen */
};

typedef bool engine_account_fn(void *ctx, const struct engine_account *a);

/* false when the account is not tracked (*a_r zeroed but for account
   and window_s). */
bool	 engine_account_get(struct engine *e, const char *account,
	    struct engine_account *a_r);
/* Accounts with failures in the window, in no order; fn false stops. */
void	 engine_account_walk(struct engine *e, engine_account_fn *fn,
	    void *ctx);

/* The login guard's view of address a (mailward check). */
struct engine_login_explain {
	uint32_t		 window_s;
	uint32_t		 failures, accounts;	/* of the address, in the window */
	struct mw_cidr		 network;		/* its /24 or /64 */
	uint32_t		 net_failures, net_accounts;
	int64_t			 last_seen;		/* 0: not tracked */
	bool			 has_escalation;
	struct store_escalation	 escalation;
};

void	 engine_login_explain(struct engine *e, const struct mw_addr *a,
	    struct engine_login_explain *x_r);

/* Acknowledges alert id for peer by ("uid 1000"). 1 done, 0 no such
   alert, -1 store error, -2 already acknowledged (*error_r says by whom
   and when, in a). */
int	 engine_alert_ack(struct engine *e, int64_t id, const char *by,
	    struct mw_arena *a, const char **error_r) MW_MUST_CHECK;

/* --- ban changes, for the firewall helper (enforce/) ----------------- */

enum engine_ban_change { ENGINE_BAN_ADDED, ENGINE_BAN_REMOVED };
/* Called after a ban was added or refreshed (ADDED), or lifted, expired
   or purged (REMOVED). b is valid only during the call. */
typedef void engine_ban_hook_fn(void *ctx, enum engine_ban_change what,
	    const struct store_ban *b);
/* One hook; fn NULL removes it. */
void	 engine_set_ban_hook(struct engine *e, engine_ban_hook_fn *fn,
	    void *ctx);

#endif
