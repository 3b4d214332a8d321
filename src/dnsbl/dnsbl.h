/*
 * dnsbl - DNS blocklist checks: all configured zones queried in parallel
 * through libevent's evdns (resolver address and port configurable), with
 * a per-lookup timeout, a positive/negative TTL cache, and answers turned
 * into weights by each zone's return-code table (struct cfg_zone).
 *
 * Answers: NXDOMAIN = not listed; A records in 127.0.0.0/8 = listed (every
 * record counts: a zone contributes the largest positive weight among its
 * answers, or the most negative for DNSWL classes); 127.255.255.0/24 =
 * the zone refused to answer (error, never a listing; .254 means a public
 * resolver: logged loudly once with the fix); A outside 127/8 = bogus,
 * ignored; SERVFAIL/REFUSED/timeout = unknown, never a listing. PBL
 * answers weigh 0 for submission (authenticated-port) clients.
 * IPv4-mapped IPv6 clients are queried as IPv4; IPv6 in nibble format.
 * Cache: answers for clamp(TTL, cache_min_ttl, cache_max_ttl), NXDOMAIN
 * for negative_ttl, timeouts and failures for 10 s (so a dead server is
 * not asked again for every policy request of one client), at most
 * cache_max_entries entries (oldest evicted). Identical queries in flight
 * are shared. A zone is health-checked when configured (RFC 5782: 127.0.0.2
 * listed, 127.0.0.1 not); one that lists 127.0.0.1 is skipped until reload.
 *
 * Loop thread only. Callbacks run on the loop thread.
 */
#ifndef MW_DNSBL_DNSBL_H
#define MW_DNSBL_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/cfg.h"
#include "core/mem.h"

struct event_base;

#define DNSBL_MAX_ANSWERS	8	/* A records kept per zone answer */
#define DNSBL_MAX_NAME		256	/* bytes of a query name, with NUL */

enum dnsbl_status {
	DNSBL_NOT_LISTED,	/* NXDOMAIN (or only bogus answers) */
	DNSBL_LISTED,		/* at least one 127/8 answer */
	DNSBL_REFUSED,		/* 127.255.255.x: the zone refused to answer */
	DNSBL_TIMEOUT,
	DNSBL_FAILED,		/* SERVFAIL, REFUSED, network error */
	DNSBL_SKIPPED,		/* zone disabled, or IPv6 client and ipv6 = no */
};

struct dnsbl_zone_result {
	const struct cfg_zone	*zone;
	enum dnsbl_status	 status;
	/* Host order; answers[0] is the record that decided: the one that
	   set weight and klass, or the 127.255.255.x error code. */
	uint32_t		 answers[DNSBL_MAX_ANSWERS];
	size_t			 nanswers;
	int32_t			 weight;	/* this zone's contribution */
	enum dnsbl_class	 klass;		/* of the answer that set weight */
	bool			 cached;
	uint32_t		 ttl;		/* seconds left in the cache */
};

struct dnsbl_result {
	struct dnsbl_zone_result zones[CFG_MAX_ZONES];
	size_t			 nzones;
	int32_t			 score;		/* sum of weights */
	bool			 degraded;	/* a zone timed out, failed or refused */
};

/* queries: DNS queries sent (health checks excluded). listed ..
   refusals: zone results handed to callers by status, cached or not, so
   their sum is cache_hits + cache_misses (per zone, skipped excluded). */
struct dnsbl_stats {
	uint64_t	queries, listed, not_listed, timeouts, failures,
			refusals, cache_hits, cache_misses;
	size_t		cache_entries;
};

struct dnsbl;
struct dnsbl_lookup;

typedef void dnsbl_done_fn(void *ctx, const struct dnsbl_result *r);

/* Sets up the resolver from cfg->dnsbl (resolver "ip[:port]", or the
   first nameserver of /etc/resolv.conf when empty). cfg must outlive d
   (replace it with dnsbl_reconfigure). */
int	 dnsbl_new(struct event_base *base, const struct cfg *cfg,
	    struct dnsbl **d_r, char **error_r) MW_MUST_CHECK;
/* NULL-safe; clears *d. Lookups still in flight are dropped without their
   callback (cancel them first). DNS queries still out free themselves
   when the event loop next runs (evdns reports the shutdown then). */
void	 dnsbl_free(struct dnsbl **d);
/* New zones/weights/resolver (SIGHUP); the cache is kept for zones whose
   name did not change. In-flight lookups complete against the old cfg. */
int	 dnsbl_reconfigure(struct dnsbl *d, const struct cfg *cfg,
	    char **error_r) MW_MUST_CHECK;

/* Checks a against every enabled zone. If every zone's answer is cached,
   fn runs before dnsbl_check returns and NULL is returned. Otherwise the
   queries go out in parallel and a handle is returned; fn runs exactly
   once, at the latest cfg->dnsbl.timeout_ms after the call, unless the
   handle is cancelled first. submission: the client uses a submission
   port (PBL answers weigh 0). fn may call dnsbl_check and dnsbl_cancel
   (for other handles), not dnsbl_free or dnsbl_reconfigure; the handle
   is invalid once fn has run. */
struct dnsbl_lookup *dnsbl_check(struct dnsbl *d, const struct mw_addr *a,
	    bool submission, dnsbl_done_fn *fn, void *ctx);
/* fn will not run; NULL-safe; clears *l. */
void	 dnsbl_cancel(struct dnsbl_lookup **l);
/* The hot path: when every zone's answer for a is cached, fills *r_r
   (exactly what dnsbl_check would report) without allocating and returns
   true. Otherwise returns false and changes nothing (not even stats). */
bool	 dnsbl_check_cached(struct dnsbl *d, const struct mw_addr *a,
	    bool submission, struct dnsbl_result *r_r);

void	 dnsbl_get_stats(const struct dnsbl *d, struct dnsbl_stats *stats_r);

/* Pure helpers (dnsbl_query.c, dnsbl_answer.c), unit-tested alone. */

/* "4.3.2.1.zone" or 32 nibbles + zone, lowercase, no trailing dot.
   -1 if the result would not fit in size. */
int	 dnsbl_query_name(const struct mw_addr *a, const char *zone,
	    char *buf, size_t size) MW_MUST_CHECK;
/* Fills r (status, weight, klass) from the A records of one answer. */
void	 dnsbl_answer_eval(const struct cfg_zone *zone, const uint32_t *answers,
	    size_t nanswers, bool submission, struct dnsbl_zone_result *r);
const char *dnsbl_status_name(enum dnsbl_status s);
const char *dnsbl_class_name(enum dnsbl_class c);

#endif
