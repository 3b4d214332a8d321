/*
 * bruteforce - the login guard's detectors. PURE: no I/O, no event loop,
 * no store, time passed in (unix seconds), so `mailward logscan` runs the
 * very same rules over old log lines with each line's own timestamp.
 *
 * Four tables, each bounded (max_* entries; when full the oldest of a
 * small random sample is evicted, Redis's approximated LRU, and counted):
 *   address            failures, distinct accounts tried
 *   network (/24, /64) failures, distinct accounts tried
 *   account            failures, distinct addresses failing (exact, up
 *                      to BF_ACCOUNT_ADDRS), the networks the account
 *                      logged in from (known-good)
 *   (account, address) failures, the last distinct password hashes
 * Every window slides (core/window.h). An entry is removed once its
 * windows are empty (bf_expire, a bounded step per call).
 *
 * The password hash (Dovecot's truncated hashed_password) never leaves
 * this module and is kept only as a 32-bit fingerprint per (account,
 * address): a failure repeating a fingerprint already seen there (a phone
 * with an old password) is not counted as guessing.
 *
 * The caller (engine, logscan) turns results into bans, alerts and
 * events; this module only says what its rules conclude. Not thread-safe.
 */
#ifndef MW_ENGINE_BRUTEFORCE_H
#define MW_ENGINE_BRUTEFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/cfg.h"
#include "core/mem.h"
#include "core/window.h"

#define BF_ACCOUNT_MAX		256	/* bytes of an account name kept */
#define BF_KNOWN_MAX		8	/* networks remembered per account */
#define BF_PWFP_MAX		4	/* password fingerprints per (account, address) */
#define BF_REASON_MAX		256	/* bytes of a reason text */
#define BF_COMMON_MAX		512	/* common passwords tracked for spraying */
#define BF_ACCOUNT_ADDRS	32	/* failing addresses counted exactly per account */

struct bf_config {
	uint32_t	 window_s;		/* every failure window (600) */
	uint32_t	 tarpit_after;		/* address failures -> tarpit (3) */
	uint32_t	 tarpit_delay_s;	/* (2) */
	uint32_t	 ban_after;		/* address failures -> ban (10) */
	uint32_t	 account_address_ban_after; /* one account, one address (6) */
	uint32_t	 network_ban_after;	/* network failures -> ban network (30) */
	uint8_t		 network_bits_v4;	/* (24) */
	uint8_t		 network_bits_v6;	/* (64) */
	uint32_t	 spray_accounts;	/* accounts failed from one address (8) */
	uint32_t	 spray_network_accounts;	/* ... from one network (15) */
	uint32_t	 spray_password_accounts;	/* one common password (5) */
	uint32_t	 distributed_addresses;	/* addresses failing on one account (5, <= BF_ACCOUNT_ADDRS) */
	bool		 distributed_reject;	/* refuse instead of tarpit */
	bool		 trust_known;		/* never ban from a known network */
	uint32_t	 known_ttl_s;		/* a success is remembered for (30d) */
	uint32_t	 alert_after_failures;	/* success after N failures (3) */
	bool		 alert_new_network;
	size_t		 max_addresses, max_networks, max_accounts, max_pairs;
};

/* The defaults of docs/mailward.conf.5 (tests, logscan without a file). */
void	 bf_config_defaults(struct bf_config *c);
/* The rules as [login] in mailward.conf sets them (the daemon, logscan). */
void	 bf_config_from_cfg(const struct cfg *cfg, struct bf_config *c);

enum bf_phase { BF_FAILURE, BF_SUCCESS };

struct bf_attempt {
	struct mw_addr	 addr;
	const char	*account;	/* "" unknown (counts per address only) */
	const char	*service;	/* "imap", ...; "" unknown */
	enum bf_phase	 phase;
	bool		 has_pwfp;	/* Dovecot sent a password hash */
	uint32_t	 pwfp;		/* its fingerprint (bf_pwfp) */
	int		 common_pw;	/* index in the common-password list, -1 */
	int64_t		 now;		/* unix seconds of the attempt */
};

enum bf_alert_kind { BF_ALERT_NONE, BF_ALERT_AFTER_FAILURES,
	BF_ALERT_NEW_NETWORK };

/* What the rules conclude from one attempt. Texts are complete
   sentences for admins ("12 failed logins in 10m (imap)"). */
struct bf_result {
	bool		 counted;	/* false: repeat of a known wrong password */
	bool		 known;		/* the address's network is known-good for the account */
	bool		 ban_address;
	char		 address_reason[BF_REASON_MAX];
	bool		 ban_network;
	struct mw_cidr	 network;	/* valid when ban_network */
	char		 network_reason[BF_REASON_MAX];
	bool		 account_attacked;	/* the account crossed the distributed threshold now */
	enum bf_alert_kind alert;
	char		 alert_reason[BF_REASON_MAX];
	bool		 learned;	/* success from a network new to the account */
	/* counts in the window after this attempt */
	uint32_t	 addr_failures, net_failures, account_failures,
			 pair_failures, addr_accounts, net_accounts,
			 account_addresses;
};

enum bf_verdict_kind { BF_ALLOW, BF_TARPIT, BF_REJECT };

struct bf_verdict {
	enum bf_verdict_kind	 kind;
	uint32_t		 delay_s;
	char			 reason[BF_REASON_MAX];
};

/* The login-guard view of one address (mailward check). */
struct bf_addr_info {
	uint32_t	 failures, accounts;		/* address windows */
	uint32_t	 net_failures, net_accounts;	/* its network's */
	struct mw_cidr	 network;
	int64_t		 last_seen;			/* 0: not tracked */
};

struct bf_known {
	struct mw_cidr	 net;
	int64_t		 first, last;	/* successes, unix seconds */
};

/* The login-guard view of one account (mailward account). */
struct bf_account_info {
	uint32_t	 failures, addresses;
	bool		 under_attack;
	int64_t		 attacked_since;	/* 0: not under attack */
	int64_t		 last_failure, last_success;
	struct bf_known	 known[BF_KNOWN_MAX];
	size_t		 nknown;
};

struct bf_stats {
	size_t		 addresses, networks, accounts, pairs;
	uint64_t	 evicted;	/* entries dropped because a table was full */
	uint64_t	 repeats;	/* failures not counted (same wrong password) */
	size_t		 bytes;		/* memory held by the tables */
};

struct bf;

struct bf	*bf_new(const struct bf_config *c);
void		 bf_free(struct bf **bf);
/* A new configuration; the windows keep their counts (a changed window
   length makes old buckets approximate until they slide out). */
void		 bf_set_config(struct bf *bf, const struct bf_config *c);

/* Records an attempt and runs every rule on it. */
void	 bf_report(struct bf *bf, const struct bf_attempt *at,
	    struct bf_result *r_r);
/* What the rules say about an attempt about to be made (no change). */
void	 bf_check(struct bf *bf, const struct mw_addr *addr,
	    const char *account, int64_t now, struct bf_verdict *v_r);

/* Remembers that account logged in from net's network at first..last
   (restored from the store at start). */
void	 bf_known_add(struct bf *bf, const char *account,
	    const struct mw_addr *addr, int64_t first, int64_t last);
/* Forgets the failures of a host (its address windows) or of one of
   the rules' networks, e.g. when an admin lifts its ban: the address
   logs in again at once instead of waiting for its windows to slide. */
void	 bf_forget(struct bf *bf, const struct mw_cidr *net);

bool	 bf_addr_info(struct bf *bf, const struct mw_addr *addr, int64_t now,
	    struct bf_addr_info *i_r);
bool	 bf_account_info(struct bf *bf, const char *account, int64_t now,
	    struct bf_account_info *i_r);

typedef bool bf_account_fn(void *ctx, const char *account,
	    const struct bf_account_info *i);
/* Accounts with failures in the window (in table order); fn false stops. */
void	 bf_account_walk(struct bf *bf, int64_t now, bf_account_fn *fn,
	    void *ctx);

/* Removes entries whose windows are empty; examines at most max_scan
   entries per table per call. Returns the entries removed. */
size_t	 bf_expire(struct bf *bf, int64_t now, size_t max_scan);
void	 bf_get_stats(struct bf *bf, struct bf_stats *s_r);

/* The network of addr as the rules see it (/24 or /64 by default). */
void	 bf_network_of(const struct bf *bf, const struct mw_addr *addr,
	    struct mw_cidr *net_r);
/* The 32-bit fingerprint of a password hash of bits bits (bytes as
   Dovecot sends them, decoded from hex). */
uint32_t bf_pwfp(const uint8_t *hash, uint32_t bits);
/* "10m", "1h": the window as reasons print it. */
const char *bf_window_text(uint32_t secs, char *buf, size_t size);

#endif
