/*
 * dnsbl_int - privates shared by the files of the dnsbl module: the answer
 * cache (dnsbl_cache.c) and the hooks unit tests use. Not for other modules.
 */
#ifndef MW_DNSBL_DNSBL_INT_H
#define MW_DNSBL_DNSBL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsbl/dnsbl.h"

/* Failures and timeouts are cached this briefly: long enough that a burst
   of policy requests for one client (Postfix asks at CONNECT, HELO, MAIL,
   RCPT...) does not wait timeout_ms each time on a dead server, short
   enough that a recovered server is used again at once. */
#define DNSBL_FAIL_TTL		10	/* s */
#define DNSBL_MAX_TTL		604800	/* s: cap on any configured TTL (7 days) */

enum dnsbl_cache_kind {
	DNSBL_CACHE_ANSWER,	/* A records (listed, refused or bogus) */
	DNSBL_CACHE_NXDOMAIN,	/* also NOERROR without A records */
	DNSBL_CACHE_TIMEOUT,
	DNSBL_CACHE_FAILED,
};

/* One cached DNS outcome: the raw answer, judged again at each use so that
   new weights (SIGHUP) apply to cached answers at once. */
struct dnsbl_cache_val {
	enum dnsbl_cache_kind	 kind;
	uint32_t		 answers[DNSBL_MAX_ANSWERS];	/* host order */
	size_t			 nanswers;
	uint64_t		 expires_ms;	/* monotonic clock */
};

struct dnsbl_cache_stats {
	uint64_t	inserts, replaced, evicted_full, expired;
};

/* A table of at most max_entries entries keyed by (zone id, address).
   Lookups and inserts are O(1): a chained hash table (load factor <= 1,
   grown by doubling up to max_entries buckets) plus a list in insertion
   order. When full, the oldest entry is evicted; each insert also drops up
   to two expired entries from the old end, and a lookup drops the expired
   entry it finds. max_entries 0 disables caching. Zone ids are opaque
   numbers chosen by the caller (dnsbl.c never reuses one). */
struct dnsbl_cache;

struct dnsbl_cache *dnsbl_cache_new(uint32_t max_entries);
void	 dnsbl_cache_free(struct dnsbl_cache **c);
/* Evicts the oldest entries down to the new maximum. */
void	 dnsbl_cache_set_max(struct dnsbl_cache *c, uint32_t max_entries);
/* true and *val_r if (zone, a) is cached and not expired at now_ms. */
bool	 dnsbl_cache_get(struct dnsbl_cache *c, uint32_t zone,
	    const struct mw_addr *a, uint64_t now_ms,
	    struct dnsbl_cache_val *val_r);
/* Inserts or replaces (a replaced entry counts as new for eviction). */
void	 dnsbl_cache_put(struct dnsbl_cache *c, uint32_t zone,
	    const struct mw_addr *a, const struct dnsbl_cache_val *val,
	    uint64_t now_ms);
/* Drops every entry of zone (O(entries); for SIGHUP only). */
void	 dnsbl_cache_drop_zone(struct dnsbl_cache *c, uint32_t zone);
void	 dnsbl_cache_clear(struct dnsbl_cache *c);
size_t	 dnsbl_cache_count(const struct dnsbl_cache *c);
void	 dnsbl_cache_get_stats(const struct dnsbl_cache *c,
	    struct dnsbl_cache_stats *stats_r);

/* Seconds an outcome is cached: answers clamp(ttl, cache_min_ttl,
   cache_max_ttl), NXDOMAIN negative_ttl, failures DNSBL_FAIL_TTL; every
   value capped at DNSBL_MAX_TTL. */
uint32_t dnsbl_cache_ttl(const struct cfg *cfg, enum dnsbl_cache_kind kind,
	    uint32_t answer_ttl);

/* Test hook: the monotonic clock (ms) dnsbl.c uses; NULL restores the
   real one. */
typedef uint64_t dnsbl_clock_fn(void);
void	 dnsbl_set_clock(dnsbl_clock_fn *fn);

/* Health-check queries (RFC 5782 test points) still unanswered. */
size_t	 dnsbl_health_pending(const struct dnsbl *d);

/* The first "nameserver" of a resolv.conf-format file into buf (as
   written, e.g. "192.0.2.53" or "2001:db8::53"). -1 if there is none or
   the file cannot be read. */
int	 dnsbl_resolv_conf_first(const char *path, char *buf, size_t size)
	    MW_MUST_CHECK;

#endif
