/*
 * dnsbl - DNSBL lookups through libevent's evdns: every enabled zone
 * queried in parallel, one timer per check bounding it at timeout_ms,
 * answers cached (dnsbl_cache.c) and judged (dnsbl_answer.c).
 *
 * Owns: the evdns base (one resolver, "ip[:port]" from the config or the
 * first nameserver of /etc/resolv.conf), the cache, the lookups handed to
 * callers and the DNS queries behind them. Identical (zone, address)
 * queries in flight are shared: a burst of policy requests for one client
 * sends one query per zone. Limits: DNSBL_MAX_INFLIGHT queries; past it a
 * zone answers DNSBL_FAILED at once (mail must not wait on a backlog).
 * Trust: DNS answers are peer data; only A records are read, in host
 * order, through dnsbl_answer_eval; names are never echoed from answers.
 * Health check (RFC 5782 section 5): when a zone is configured, 127.0.0.2
 * must be listed (else a warning: wrong zone name, or not served by this
 * resolver) and 127.0.0.1 must not; a zone listing 127.0.0.1 lists the
 * world (dead or hijacked) and is ignored until the next reload. These
 * two queries per zone stay out of the cache and the statistics.
 * Lifetimes: evdns always calls a query's callback once (with the answer,
 * DNS_ERR_CANCEL after evdns_cancel_request, or DNS_ERR_SHUTDOWN after
 * evdns_base_free), so a query is freed only there; a cancelled lookup
 * just leaves its queries.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "core/log.h"
#include "core/mem.h"
#include "dnsbl/dnsbl.h"
#include "dnsbl/dnsbl_int.h"

#define DNSBL_MAX_INFLIGHT	4096	/* DNS queries in flight, all zones */
#define DNSBL_INFLIGHT_BUCKETS	1024	/* in-flight table (power of two) */
#define DNSBL_ATTEMPTS		2	/* sends per query within timeout_ms */
#define DNSBL_MIN_TIMEOUT_MS	50	/* floor of cfg timeout_ms */
#define DNSBL_MAX_TIMEOUT_MS	60000	/* ceiling of cfg timeout_ms */
#define DNSBL_MAX_RESOLVER	128	/* bytes of a resolver address text */
#define DNSBL_WARN_INTERVAL_MS	60000	/* between repeated overload warnings */
#define DNSBL_RESOLV_CONF	"/etc/resolv.conf"
#define DNSBL_RESOLV_LINE	512	/* bytes of a resolv.conf line read */

/* Spamhaus error answers in 127.255.255.0/24 (protocols.md 5.2). */
enum dnsbl_refusal { DNSBL_REFUSAL_TYPO, DNSBL_REFUSAL_PUBLIC,
	DNSBL_REFUSAL_VOLUME, DNSBL_REFUSAL_OTHER, DNSBL_REFUSAL_COUNT };

struct dnsbl_zone_state {
	uint32_t	 id;		/* cache key; never reused */
	const char	*zone;		/* the cfg's string */
	bool		 warned[DNSBL_REFUSAL_COUNT];	/* logged once */
	bool		 fresh;		/* new in this cfg: health-check it */
	bool		 lists_world;	/* health check: ignore the zone */
};

enum dnsbl_query_kind {
	DNSBL_QUERY_CHECK,		/* for lookups; cached, shared */
	DNSBL_QUERY_TEST_LISTED,	/* health: 127.0.0.2 */
	DNSBL_QUERY_TEST_UNLISTED,	/* health: 127.0.0.1 */
};

struct dnsbl_query;

/* One zone of one lookup waiting for a query. */
struct dnsbl_waiter {
	struct dnsbl_lookup	*l;
	size_t			 zi;		/* index in l->result.zones */
	struct dnsbl_query	*q;		/* NULL: not waiting */
	struct dnsbl_waiter	*prev, *next;	/* q's waiters */
};

struct dnsbl_query {
	struct dnsbl		*d;		/* NULL: orphaned by dnsbl_free */
	enum dnsbl_query_kind	 kind;
	uint32_t		 zone_id;
	struct mw_addr		 addr;
	struct evdns_request	*req;		/* NULL once cancelled */
	struct dnsbl_waiter	*waiters;
	bool			 in_table;	/* joinable by new lookups */
	struct dnsbl_query	*hnext;		/* in-flight bucket */
	struct dnsbl_query	*prev, *next;	/* d->queries */
};

struct dnsbl_lookup {
	struct dnsbl		*d;
	dnsbl_done_fn		*fn;
	void			*ctx;
	bool			 submission;
	size_t			 pending;
	struct event		*timer;
	struct dnsbl_result	 result;
	struct dnsbl_waiter	 waiters[CFG_MAX_ZONES];
	struct dnsbl_lookup	*prev, *next;	/* d->lookups */
};

struct dnsbl {
	struct event_base	*base;
	struct evdns_base	*evdns;
	const struct cfg	*cfg;
	char			 resolver[DNSBL_MAX_RESOLVER];	/* for logs */
	struct sockaddr_storage	 resolver_sa;
	ev_socklen_t		 resolver_len;
	struct dnsbl_zone_state	 zones[CFG_MAX_ZONES];	/* as cfg->dnsbl.zones */
	size_t			 nzones;
	uint32_t		 last_zone_id;
	struct dnsbl_cache	*cache;
	struct dnsbl_query	*inflight[DNSBL_INFLIGHT_BUCKETS];
	struct dnsbl_query	*queries;	/* callback still to come */
	size_t			 nqueries;
	struct dnsbl_lookup	*lookups;
	struct dnsbl_stats	 stats;
	uint64_t		 overload_warned_ms;
	size_t			 health_pending;	/* test queries out */
};

static dnsbl_clock_fn *dnsbl_clock;

static void	dnsbl_health_start(struct dnsbl *d);

void
dnsbl_set_clock(dnsbl_clock_fn *fn)
{
	dnsbl_clock = fn;
}

static uint64_t
dnsbl_now_ms(void)
{
	struct timespec ts;

	if (dnsbl_clock != NULL)
		return dnsbl_clock();
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		mw_panic("clock_gettime(CLOCK_MONOTONIC) failed");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void MW_PRINTF(2, 3)
dnsbl_error(char **error_r, const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);	/* cut is fine */
	va_end(ap);
	if (error_r != NULL)
		*error_r = mw_strdup(buf);
}

/* --- resolver ---------------------------------------------------------- */

int
dnsbl_resolv_conf_first(const char *path, char *buf, size_t size)
{
	char	 line[DNSBL_RESOLV_LINE];
	FILE	*f;
	int	 ret = -1;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (ret < 0 && fgets(line, sizeof(line), f) != NULL) {
		char	*p = line, *end;
		size_t	 len;

		if (strchr(line, '\n') == NULL && !feof(f)) {
			int c;	/* a line longer than the buffer: skip it */

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		p += strspn(p, " \t");
		if (strncmp(p, "nameserver", 10) != 0 ||
		    (p[10] != ' ' && p[10] != '\t'))
			continue;
		p += 10;
		p += strspn(p, " \t");
		len = strcspn(p, " \t\r\n#;");
		end = p + len;
		if (len == 0 || len >= size)
			continue;
		memcpy(buf, p, len);
		buf[end - p] = '\0';
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* The resolver's address from cfg (or resolv.conf) into *sa_r, its text
   into text (size DNSBL_MAX_RESOLVER). */
static int
dnsbl_resolver_get(const struct cfg *cfg, struct sockaddr_storage *sa_r,
    ev_socklen_t *len_r, char *text, char **error_r)
{
	const char	*from = "[dnsbl] resolver";
	int		 len = (int)sizeof(*sa_r);

	if (cfg->dnsbl.resolver != NULL && cfg->dnsbl.resolver[0] != '\0') {
		if (strlen(cfg->dnsbl.resolver) >= DNSBL_MAX_RESOLVER) {
			dnsbl_error(error_r, "resolver: address too long");
			return -1;
		}
		memcpy(text, cfg->dnsbl.resolver,
		    strlen(cfg->dnsbl.resolver) + 1);
	} else if (dnsbl_resolv_conf_first(DNSBL_RESOLV_CONF, text,
	    DNSBL_MAX_RESOLVER) == 0) {
		from = DNSBL_RESOLV_CONF;
	} else {
		/* What the C library does without a nameserver line. */
		memcpy(text, "127.0.0.1", sizeof("127.0.0.1"));
		log_warn("dnsbl: no nameserver in %s; using 127.0.0.1 "
		    "(set [dnsbl] resolver to choose)", DNSBL_RESOLV_CONF);
	}
	memset(sa_r, 0, sizeof(*sa_r));
	if (evutil_parse_sockaddr_port(text, (struct sockaddr *)sa_r,
	    &len) < 0) {
		dnsbl_error(error_r, "resolver: \"%s\" (from %s) is not an "
		    "address; write ip, ip:port or [ipv6]:port, e.g. "
		    "127.0.0.1:53", text, from);
		return -1;
	}
	if (sa_r->ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa_r;

		if (sin->sin_port == 0)
			sin->sin_port = htons(53);
		len = (int)sizeof(*sin);
	} else if (sa_r->ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa_r;

		if (sin6->sin6_port == 0)
			sin6->sin6_port = htons(53);
		len = (int)sizeof(*sin6);
	} else {
		dnsbl_error(error_r, "resolver: \"%s\": not an IPv4 or IPv6 "
		    "address", text);
		return -1;
	}
	*len_r = (ev_socklen_t)len;
	return 0;
}

/* Spamhaus answers queries relayed by big public resolvers with
   127.255.255.254, and Barracuda only serves registered resolvers. */
static void
dnsbl_resolver_warn_public(const struct sockaddr_storage *sa, const char *text)
{
	static const char *const public_v4[] = {
		"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9",
		"149.112.112.112", "208.67.222.222", "208.67.220.220",
	};
	char buf[INET_ADDRSTRLEN];

	if (sa->ss_family != AF_INET || inet_ntop(AF_INET,
	    &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof(buf)) ==
	    NULL)
		return;
	for (size_t i = 0; i < MW_N_ELEMENTS(public_v4); i++) {
		if (strcmp(buf, public_v4[i]) == 0) {
			log_warn("dnsbl: resolver %s is a public resolver; "
			    "DNSBLs such as Spamhaus refuse it "
			    "(127.255.255.254): configure [dnsbl] resolver to "
			    "a local recursive resolver such as unbound on "
			    "127.0.0.1", text);
			return;
		}
	}
}

static int
dnsbl_evdns_options(struct evdns_base *evdns, const struct cfg *cfg,
    char **error_r)
{
	uint64_t	 ms = cfg->dnsbl.timeout_ms;
	char		 timeout[32], inflight[16], attempts[16];

	if (ms < DNSBL_MIN_TIMEOUT_MS)
		ms = DNSBL_MIN_TIMEOUT_MS;
	if (ms > DNSBL_MAX_TIMEOUT_MS)
		ms = DNSBL_MAX_TIMEOUT_MS;
	/* evdns retries a lost UDP packet once within the whole timeout;
	   our own timer still ends the check at timeout_ms. */
	ms /= DNSBL_ATTEMPTS;
	(void)snprintf(timeout, sizeof(timeout), "%u.%03u",
	    (unsigned)(ms / 1000), (unsigned)(ms % 1000));
	(void)snprintf(attempts, sizeof(attempts), "%d", DNSBL_ATTEMPTS);
	(void)snprintf(inflight, sizeof(inflight), "%d", DNSBL_MAX_INFLIGHT);
	if (evdns_base_set_option(evdns, "timeout:", timeout) != 0 ||
	    evdns_base_set_option(evdns, "attempts:", attempts) != 0 ||
	    evdns_base_set_option(evdns, "max-inflight:", inflight) != 0) {
		dnsbl_error(error_r, "resolver: cannot set evdns options");
		return -1;
	}
	return 0;
}

/* --- zones ------------------------------------------------------------- */

/* New zone states for cfg: a zone keeps its id (and cache entries, and
   "already warned" flags) when a zone of the same DNS name existed. Ids of
   vanished zones are dropped from the cache. keep false: forget all (a new
   resolver gives different answers). */
static void
dnsbl_zones_assign(struct dnsbl *d, const struct cfg *cfg, bool keep)
{
	struct dnsbl_zone_state	 old[CFG_MAX_ZONES];
	size_t			 nold = d->nzones, n;

	memcpy(old, d->zones, sizeof(old));
	n = cfg->dnsbl.nzones < CFG_MAX_ZONES ? cfg->dnsbl.nzones :
	    CFG_MAX_ZONES;
	for (size_t i = 0; i < n; i++) {
		const char		*zone = cfg->dnsbl.zones[i].zone;
		struct dnsbl_zone_state	*s = &d->zones[i];
		bool			 found = false;

		if (zone == NULL)
			zone = "";
		for (size_t j = 0; j < i && !found; j++) {
			if (strcasecmp(d->zones[j].zone, zone) == 0) {
				*s = d->zones[j];
				found = true;
			}
		}
		for (size_t j = 0; j < nold && keep && !found; j++) {
			if (strcasecmp(old[j].zone, zone) == 0) {
				*s = old[j];
				found = true;
			}
		}
		if (!found) {
			memset(s, 0, sizeof(*s));
			s->id = ++d->last_zone_id;
			s->fresh = true;
		} else {
			/* A zone found listing the world is tried again. */
			s->fresh = s->lists_world;
			s->lists_world = false;
		}
		s->zone = zone;
	}
	d->nzones = n;
	for (size_t j = 0; j < nold; j++) {
		bool alive = false;

		for (size_t i = 0; i < n && !alive; i++)
			alive = d->zones[i].id == old[j].id;
		if (!alive)
			dnsbl_cache_drop_zone(d->cache, old[j].id);
	}
}

static struct dnsbl_zone_state *
dnsbl_zone_by_id(struct dnsbl *d, uint32_t id)
{
	for (size_t i = 0; i < d->nzones; i++) {
		if (d->zones[i].id == id)
			return &d->zones[i];
	}
	return NULL;
}

/* --- creation ---------------------------------------------------------- */

int
dnsbl_new(struct event_base *base, const struct cfg *cfg, struct dnsbl **d_r,
    char **error_r)
{
	struct dnsbl *d = mw_calloc(1, sizeof(*d));

	d->base = base;
	d->cfg = cfg;
	if (dnsbl_resolver_get(cfg, &d->resolver_sa, &d->resolver_len,
	    d->resolver, error_r) < 0)
		goto fail;
	/* No resolv.conf: no search domains, no surprise nameservers. */
	d->evdns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (d->evdns == NULL) {
		dnsbl_error(error_r, "cannot create the evdns resolver");
		goto fail;
	}
	if (evdns_base_nameserver_sockaddr_add(d->evdns,
	    (const struct sockaddr *)&d->resolver_sa, d->resolver_len, 0) != 0) {
		dnsbl_error(error_r, "resolver %s: cannot be used (socket)",
		    d->resolver);
		goto fail;
	}
	if (dnsbl_evdns_options(d->evdns, cfg, error_r) < 0)
		goto fail;
	d->cache = dnsbl_cache_new(cfg->dnsbl.cache_max_entries);
	dnsbl_zones_assign(d, cfg, false);
	dnsbl_resolver_warn_public(&d->resolver_sa, d->resolver);
	log_info("dnsbl: resolver %s, %zu zones, timeout %llu ms",
	    d->resolver, d->nzones, (unsigned long long)cfg->dnsbl.timeout_ms);
	dnsbl_health_start(d);
	*d_r = d;
	return 0;
fail:
	if (d->evdns != NULL)
		evdns_base_free(d->evdns, 0);
	mw_free(&d);
	return -1;
}

int
dnsbl_reconfigure(struct dnsbl *d, const struct cfg *cfg, char **error_r)
{
	struct sockaddr_storage	 sa;
	ev_socklen_t		 len;
	char			 text[DNSBL_MAX_RESOLVER];
	bool			 same;

	if (dnsbl_resolver_get(cfg, &sa, &len, text, error_r) < 0)
		return -1;
	same = evutil_sockaddr_cmp((const struct sockaddr *)&sa,
	    (const struct sockaddr *)&d->resolver_sa, 1) == 0;
	if (!same) {
		/* Queries in flight are sent again to the new server. */
		if (evdns_base_clear_nameservers_and_suspend(d->evdns) != 0 ||
		    evdns_base_nameserver_sockaddr_add(d->evdns,
		    (const struct sockaddr *)&sa, len, 0) != 0) {
			(void)evdns_base_nameserver_sockaddr_add(d->evdns,
			    (const struct sockaddr *)&d->resolver_sa,
			    d->resolver_len, 0);
			(void)evdns_base_resume(d->evdns);
			dnsbl_error(error_r, "resolver %s: cannot be used", text);
			return -1;
		}
		(void)evdns_base_resume(d->evdns);
		log_info("dnsbl: resolver %s replaces %s; cache cleared",
		    text, d->resolver);
		d->resolver_sa = sa;
		d->resolver_len = len;
		memcpy(d->resolver, text, sizeof(d->resolver));
		dnsbl_cache_clear(d->cache);
		dnsbl_resolver_warn_public(&sa, text);
	}
	if (dnsbl_evdns_options(d->evdns, cfg, error_r) < 0)
		return -1;
	dnsbl_cache_set_max(d->cache, cfg->dnsbl.cache_max_entries);
	dnsbl_zones_assign(d, cfg, same);
	d->cfg = cfg;
	dnsbl_health_start(d);
	return 0;
}

/* --- queries ----------------------------------------------------------- */

static size_t
dnsbl_inflight_bucket(uint32_t zone_id, const struct mw_addr *a)
{
	uint64_t h = mw_addr_hash(a) ^ ((uint64_t)zone_id * 0x9e3779b97f4a7c15ULL);

	h ^= h >> 29;
	return (size_t)(h & (DNSBL_INFLIGHT_BUCKETS - 1));
}

static struct dnsbl_query *
dnsbl_inflight_find(struct dnsbl *d, uint32_t zone_id, const struct mw_addr *a)
{
	struct dnsbl_query *q = d->inflight[dnsbl_inflight_bucket(zone_id, a)];

	for (; q != NULL; q = q->hnext) {
		if (q->zone_id == zone_id && memcmp(&q->addr, a, sizeof(*a)) == 0)
			return q;
	}
	return NULL;
}

static void
dnsbl_inflight_remove(struct dnsbl *d, struct dnsbl_query *q)
{
	struct dnsbl_query **pp;

	if (!q->in_table)
		return;
	pp = &d->inflight[dnsbl_inflight_bucket(q->zone_id, &q->addr)];
	while (*pp != q) {
		MW_ASSERT(*pp != NULL);
		pp = &(*pp)->hnext;
	}
	*pp = q->hnext;
	q->hnext = NULL;
	q->in_table = false;
}

static void
dnsbl_count(struct dnsbl *d, enum dnsbl_status s)
{
	switch (s) {
	case DNSBL_LISTED:	d->stats.listed++; break;
	case DNSBL_NOT_LISTED:	d->stats.not_listed++; break;
	case DNSBL_REFUSED:	d->stats.refusals++; break;
	case DNSBL_TIMEOUT:	d->stats.timeouts++; break;
	case DNSBL_FAILED:	d->stats.failures++; break;
	case DNSBL_SKIPPED:	break;
	}
}

/* Zone zi of l from an outcome (cached or fresh). */
static void
dnsbl_zone_fill(struct dnsbl *d, bool submission, struct dnsbl_zone_result *zr,
    const struct dnsbl_cache_val *v, bool cached, uint64_t now_ms)
{

	switch (v->kind) {
	case DNSBL_CACHE_ANSWER:
		dnsbl_answer_eval(zr->zone, v->answers, v->nanswers,
		    submission, zr);
		break;
	case DNSBL_CACHE_NXDOMAIN:
		dnsbl_answer_eval(zr->zone, NULL, 0, submission, zr);
		break;
	case DNSBL_CACHE_TIMEOUT:
	case DNSBL_CACHE_FAILED:
		zr->status = v->kind == DNSBL_CACHE_TIMEOUT ? DNSBL_TIMEOUT :
		    DNSBL_FAILED;
		zr->weight = 0;
		zr->klass = DNSBL_CLASS_LISTED;
		zr->nanswers = 0;
		break;
	}
	zr->cached = cached;
	zr->ttl = v->expires_ms > now_ms ?
	    (uint32_t)((v->expires_ms - now_ms + 999) / 1000) : 0;
	dnsbl_count(d, zr->status);
}

static void
dnsbl_lookup_finish(struct dnsbl_lookup *l)
{
	struct dnsbl *d = l->d;

	l->result.score = 0;
	l->result.degraded = false;
	for (size_t i = 0; i < l->result.nzones; i++) {
		const struct dnsbl_zone_result *zr = &l->result.zones[i];

		l->result.score += zr->weight;
		if (zr->status == DNSBL_TIMEOUT || zr->status == DNSBL_FAILED ||
		    zr->status == DNSBL_REFUSED)
			l->result.degraded = true;
	}
	if (l->prev != NULL)
		l->prev->next = l->next;
	else if (d->lookups == l)
		d->lookups = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	if (l->timer != NULL)
		event_free(l->timer);
	l->fn(l->ctx, &l->result);
	mw_free(&l);
}

/* Stops waiting; the query is cancelled when nobody waits any more.
   timed_out: remember the timeout briefly (DNSBL_FAIL_TTL). */
static void
dnsbl_waiter_detach(struct dnsbl *d, struct dnsbl_waiter *w, bool timed_out)
{
	struct dnsbl_query *q = w->q;

	if (q == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		q->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->q = NULL;
	w->prev = w->next = NULL;
	if (q->waiters != NULL || q->req == NULL)
		return;
	if (timed_out && dnsbl_zone_by_id(d, q->zone_id) != NULL) {
		uint64_t		now = dnsbl_now_ms();
		struct dnsbl_cache_val	v = {
			.kind = DNSBL_CACHE_TIMEOUT,
			.expires_ms = now + 1000ULL * dnsbl_cache_ttl(d->cfg,
			    DNSBL_CACHE_TIMEOUT, 0),
		};

		dnsbl_cache_put(d->cache, q->zone_id, &q->addr, &v, now);
	}
	/* The callback still comes (DNS_ERR_CANCEL, or the answer if it
	   was already queued) and frees q; until then q stays listed. */
	dnsbl_inflight_remove(d, q);
	evdns_cancel_request(d->evdns, q->req);
	q->req = NULL;
}

static void
dnsbl_refusal_log(struct dnsbl *d, uint32_t zone_id, uint32_t a)
{
	static const char *const why[DNSBL_REFUSAL_COUNT] = {
		[DNSBL_REFUSAL_TYPO] = "typo in zone name: the zone does not "
		    "exist at this DNSBL; check zone = in its [dnsbl:NAME] "
		    "section",
		[DNSBL_REFUSAL_PUBLIC] = "the zone refuses queries from "
		    "public resolvers; configure [dnsbl] resolver to a local "
		    "recursive resolver such as unbound on 127.0.0.1, or use "
		    "a Spamhaus DQS key",
		[DNSBL_REFUSAL_VOLUME] = "query volume limit exceeded; use a "
		    "Spamhaus DQS key or a local mirror",
		[DNSBL_REFUSAL_OTHER] = "the zone refused to answer (error "
		    "code)",
	};
	struct dnsbl_zone_state	*s = dnsbl_zone_by_id(d, zone_id);
	enum dnsbl_refusal	 r;

	switch (a & 0xff) {
	case 252: r = DNSBL_REFUSAL_TYPO; break;
	case 254: r = DNSBL_REFUSAL_PUBLIC; break;
	case 255: r = DNSBL_REFUSAL_VOLUME; break;
	default: r = DNSBL_REFUSAL_OTHER; break;
	}
	if (s == NULL || s->warned[r])
		return;
	s->warned[r] = true;
	log_error("dnsbl: %s: answer 127.255.255.%u: %s; its answers are "
	    "ignored (logged once)", s->zone, a & 0xff, why[r]);
}

static void dnsbl_query_done(int result, char type, int count, int ttl,
    void *addresses, void *arg);

/* The answer to one health-check query (RFC 5782 test points). */
static void
dnsbl_health_done(struct dnsbl *d, const struct dnsbl_query *q, int result,
    const uint32_t *addrs, int count)
{
	struct dnsbl_zone_state	*s = dnsbl_zone_by_id(d, q->zone_id);
	bool			 listed = false, refused = false;
	const char		*point = q->kind == DNSBL_QUERY_TEST_LISTED ?
				    "127.0.0.2" : "127.0.0.1";

	if (s == NULL)		/* the zone went away in a reload */
		return;
	for (int i = 0; result == DNS_ERR_NONE && i < count; i++) {
		uint32_t a = ntohl(addrs[i]);

		if ((a & 0xffffff00u) == 0x7fffff00u) {
			refused = true;
			dnsbl_refusal_log(d, q->zone_id, a);
		} else if ((a & 0xff000000u) == 0x7f000000u)
			listed = true;
	}
	if (refused)
		return;		/* logged once, with the fix */
	if (result != DNS_ERR_NONE && result != DNS_ERR_NOTEXIST &&
	    result != DNS_ERR_NODATA) {
		log_warn("dnsbl: %s: health check: no answer for test point "
		    "%s from resolver %s: %s", s->zone, point, d->resolver,
		    evdns_err_to_string(result));
	} else if (q->kind == DNSBL_QUERY_TEST_LISTED && !listed) {
		log_warn("dnsbl: %s: health check: test point 127.0.0.2 is "
		    "not listed (RFC 5782); check the zone name and that "
		    "resolver %s can reach the zone", s->zone, d->resolver);
	} else if (q->kind == DNSBL_QUERY_TEST_UNLISTED && listed) {
		s->lists_world = true;
		log_error("dnsbl: %s: health check: lists 127.0.0.1, which "
		    "no DNSBL may list (RFC 5782): the zone answers for every "
		    "address (dead or hijacked); ignoring it until the next "
		    "reload", s->zone);
	}
}

static void
dnsbl_health_start(struct dnsbl *d)
{
	for (size_t i = 0; i < d->nzones; i++) {
		const struct cfg_zone	*z = &d->cfg->dnsbl.zones[i];
		struct dnsbl_zone_state	*s = &d->zones[i];

		if (!s->fresh || !z->enabled || !d->cfg->dnsbl.enabled)
			continue;
		s->fresh = false;
		for (uint32_t host = 1; host <= 2; host++) {
			struct dnsbl_query	*q;
			struct mw_addr		 a;
			char			 name[DNSBL_MAX_NAME];

			mw_addr_from_v4(0x7f000000u | host, &a);
			if (dnsbl_query_name(&a, z->zone, name,
			    sizeof(name)) < 0)
				continue;	/* dnsbl_check will say */
			q = mw_calloc(1, sizeof(*q));
			q->d = d;
			q->kind = host == 2 ? DNSBL_QUERY_TEST_LISTED :
			    DNSBL_QUERY_TEST_UNLISTED;
			q->zone_id = s->id;
			q->addr = a;
			q->req = evdns_base_resolve_ipv4(d->evdns, name,
			    DNS_QUERY_NO_SEARCH, dnsbl_query_done, q);
			if (q->req == NULL) {
				mw_free(&q);
				continue;
			}
			q->next = d->queries;
			if (d->queries != NULL)
				d->queries->prev = q;
			d->queries = q;
			d->nqueries++;
			d->health_pending++;
		}
	}
}

size_t
dnsbl_health_pending(const struct dnsbl *d)
{
	return d->health_pending;
}

static void
dnsbl_query_done(int result, char type, int count, int ttl, void *addresses,
    void *arg)
{
	struct dnsbl_query	*q = arg;
	struct dnsbl		*d = q->d;
	struct dnsbl_cache_val	 v = { .kind = DNSBL_CACHE_FAILED };
	struct dnsbl_waiter	*w;
	uint64_t		 now;

	if (d == NULL) {		/* dnsbl_free came first */
		mw_free(&q);
		return;
	}
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		d->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	d->nqueries--;
	dnsbl_inflight_remove(d, q);
	q->req = NULL;
	if (q->kind != DNSBL_QUERY_CHECK) {
		d->health_pending--;
		if (result != DNS_ERR_CANCEL && result != DNS_ERR_SHUTDOWN)
			dnsbl_health_done(d, q, result, addresses,
			    type == DNS_IPv4_A ? count : 0);
		mw_free(&q);
		return;
	}
	if (result == DNS_ERR_CANCEL || result == DNS_ERR_SHUTDOWN) {
		MW_ASSERT(q->waiters == NULL);
		mw_free(&q);
		return;
	}
	now = dnsbl_now_ms();
	if (result == DNS_ERR_NONE && type == DNS_IPv4_A && count > 0 &&
	    addresses != NULL) {
		const uint32_t *addrs = addresses;

		v.kind = DNSBL_CACHE_ANSWER;
		/* Error codes first, so that none is lost to the cap. */
		for (int pass = 0; pass < 2; pass++) {
			for (int i = 0; i < count; i++) {
				uint32_t a = ntohl(addrs[i]);
				bool	 err = (a & 0xffffff00u) == 0x7fffff00u;

				if (err != (pass == 0))
					continue;
				if (err)
					dnsbl_refusal_log(d, q->zone_id, a);
				if (v.nanswers < DNSBL_MAX_ANSWERS)
					v.answers[v.nanswers++] = a;
			}
		}
	} else if (result == DNS_ERR_NONE || result == DNS_ERR_NOTEXIST ||
	    result == DNS_ERR_NODATA) {
		v.kind = DNSBL_CACHE_NXDOMAIN;
	} else if (result == DNS_ERR_TIMEOUT) {
		v.kind = DNSBL_CACHE_TIMEOUT;
	} else {
		char addr[MW_ADDR_STRLEN];

		log_debug("dnsbl: query for %s: %s",
		    mw_addr_format(&q->addr, addr, sizeof(addr)),
		    evdns_err_to_string(result));
	}
	v.expires_ms = now + 1000ULL * dnsbl_cache_ttl(d->cfg, v.kind,
	    ttl > 0 ? (uint32_t)ttl : 0);
	/* Not for a zone removed by a reload while the query flew. */
	if (dnsbl_zone_by_id(d, q->zone_id) != NULL)
		dnsbl_cache_put(d->cache, q->zone_id, &q->addr, &v, now);
	/* A callback may cancel other lookups waiting here: take one
	   waiter at a time from the head. */
	while ((w = q->waiters) != NULL) {
		struct dnsbl_lookup *l = w->l;

		q->waiters = w->next;
		if (w->next != NULL)
			w->next->prev = NULL;
		w->q = NULL;
		w->next = NULL;
		dnsbl_zone_fill(d, l->submission, &l->result.zones[w->zi], &v,
		    false, now);
		if (--l->pending == 0)
			dnsbl_lookup_finish(l);
	}
	mw_free(&q);
}

static struct dnsbl_query *
dnsbl_query_start(struct dnsbl *d, uint32_t zone_id, const struct mw_addr *a,
    const struct cfg_zone *z)
{
	char			 name[DNSBL_MAX_NAME];
	struct dnsbl_query	*q;
	size_t			 b;

	if (dnsbl_query_name(a, z->zone, name, sizeof(name)) < 0) {
		log_warn("dnsbl: %s: query name longer than a DNS name; "
		    "zone not checked", z->zone);
		return NULL;
	}
	if (d->nqueries >= DNSBL_MAX_INFLIGHT) {
		uint64_t now = dnsbl_now_ms();

		if (d->overload_warned_ms == 0 ||
		    now - d->overload_warned_ms >= DNSBL_WARN_INTERVAL_MS) {
			d->overload_warned_ms = now;
			log_warn("dnsbl: %d queries in flight; further checks "
			    "fail open until answers come back (resolver %s "
			    "slow?)", DNSBL_MAX_INFLIGHT, d->resolver);
		}
		return NULL;
	}
	q = mw_calloc(1, sizeof(*q));
	q->d = d;
	q->zone_id = zone_id;
	q->addr = *a;
	q->req = evdns_base_resolve_ipv4(d->evdns, name, DNS_QUERY_NO_SEARCH,
	    dnsbl_query_done, q);
	if (q->req == NULL) {
		log_warn("dnsbl: %s: cannot send a query", z->zone);
		mw_free(&q);
		return NULL;
	}
	d->stats.queries++;
	q->next = d->queries;
	if (d->queries != NULL)
		d->queries->prev = q;
	d->queries = q;
	d->nqueries++;
	b = dnsbl_inflight_bucket(zone_id, a);
	q->hnext = d->inflight[b];
	d->inflight[b] = q;
	q->in_table = true;
	return q;
}

/* --- lookups ----------------------------------------------------------- */

static void
dnsbl_lookup_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct dnsbl_lookup	*l = arg;
	struct dnsbl		*d = l->d;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < l->result.nzones; i++) {
		struct dnsbl_zone_result *zr = &l->result.zones[i];

		if (l->waiters[i].q == NULL)
			continue;
		dnsbl_waiter_detach(d, &l->waiters[i], true);
		zr->status = DNSBL_TIMEOUT;
		zr->weight = 0;
		zr->nanswers = 0;
		zr->cached = false;
		zr->ttl = 0;
		dnsbl_count(d, DNSBL_TIMEOUT);
	}
	l->pending = 0;
	dnsbl_lookup_finish(l);
}

struct dnsbl_lookup *
dnsbl_check(struct dnsbl *d, const struct mw_addr *a, bool submission,
    dnsbl_done_fn *fn, void *ctx)
{
	const struct cfg	*cfg = d->cfg;
	struct dnsbl_lookup	*l = mw_calloc(1, sizeof(*l));
	bool			 v4 = mw_addr_is_v4(a);
	uint64_t		 now = dnsbl_now_ms(), ms;
	struct timeval		 tv;

	l->d = d;
	l->fn = fn;
	l->ctx = ctx;
	l->submission = submission;
	l->result.nzones = d->nzones;
	for (size_t i = 0; i < d->nzones; i++) {
		const struct cfg_zone	 *z = &cfg->dnsbl.zones[i];
		struct dnsbl_zone_result *zr = &l->result.zones[i];
		struct dnsbl_waiter	 *w = &l->waiters[i];
		struct dnsbl_cache_val	  v;
		uint32_t		  id = d->zones[i].id;

		zr->zone = z;
		zr->status = DNSBL_SKIPPED;
		zr->klass = DNSBL_CLASS_LISTED;
		if (!cfg->dnsbl.enabled || !z->enabled || (!v4 && !z->ipv6) ||
		    d->zones[i].lists_world)
			continue;
		if (dnsbl_cache_get(d->cache, id, a, now, &v)) {
			d->stats.cache_hits++;
			dnsbl_zone_fill(d, l->submission, &l->result.zones[i], &v,
			    true, now);
			continue;
		}
		d->stats.cache_misses++;
		if ((w->q = dnsbl_inflight_find(d, id, a)) == NULL &&
		    (w->q = dnsbl_query_start(d, id, a, z)) == NULL) {
			v = (struct dnsbl_cache_val){ .kind = DNSBL_CACHE_FAILED,
			    .expires_ms = now };
			dnsbl_zone_fill(d, l->submission, &l->result.zones[i], &v,
			    false, now);
			continue;
		}
		w->l = l;
		w->zi = i;
		w->next = w->q->waiters;
		if (w->next != NULL)
			w->next->prev = w;
		w->q->waiters = w;
		l->pending++;
	}
	if (l->pending == 0) {
		dnsbl_lookup_finish(l);
		return NULL;
	}
	ms = cfg->dnsbl.timeout_ms;
	if (ms < DNSBL_MIN_TIMEOUT_MS)
		ms = DNSBL_MIN_TIMEOUT_MS;
	if (ms > DNSBL_MAX_TIMEOUT_MS)
		ms = DNSBL_MAX_TIMEOUT_MS;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	if ((l->timer = evtimer_new(d->base, dnsbl_lookup_timeout, l)) == NULL ||
	    evtimer_add(l->timer, &tv) != 0)
		mw_panic("dnsbl: cannot arm a timer");
	l->next = d->lookups;
	if (d->lookups != NULL)
		d->lookups->prev = l;
	d->lookups = l;
	return l;
}

bool
dnsbl_check_cached(struct dnsbl *d, const struct mw_addr *a, bool submission,
    struct dnsbl_result *r_r)
{
	const struct cfg	*cfg = d->cfg;
	struct dnsbl_cache_val	 vals[CFG_MAX_ZONES];
	bool			 use[CFG_MAX_ZONES];
	bool			 v4 = mw_addr_is_v4(a);
	uint64_t		 now = dnsbl_now_ms();

	/* First pass without side effects: any miss means the full path.
	   This is the per-request path: nothing is zero-filled or copied
	   beyond the zones configured (a whole dnsbl_lookup is ~4 KB). */
	for (size_t i = 0; i < d->nzones; i++) {
		const struct cfg_zone *z = &cfg->dnsbl.zones[i];

		use[i] = cfg->dnsbl.enabled && z->enabled && (v4 || z->ipv6) &&
		    !d->zones[i].lists_world;
		if (use[i] && !dnsbl_cache_get(d->cache, d->zones[i].id, a, now,
		    &vals[i]))
			return false;
	}
	r_r->nzones = d->nzones;
	r_r->score = 0;
	r_r->degraded = false;
	for (size_t i = 0; i < d->nzones; i++) {
		struct dnsbl_zone_result *zr = &r_r->zones[i];

		zr->zone = &cfg->dnsbl.zones[i];
		zr->status = DNSBL_SKIPPED;
		zr->klass = DNSBL_CLASS_LISTED;
		zr->nanswers = 0;
		zr->weight = 0;
		zr->cached = false;
		zr->ttl = 0;
		if (use[i]) {
			d->stats.cache_hits++;
			dnsbl_zone_fill(d, submission, zr, &vals[i], true, now);
		}
		r_r->score += zr->weight;
		if (zr->status == DNSBL_TIMEOUT || zr->status == DNSBL_FAILED ||
		    zr->status == DNSBL_REFUSED)
			r_r->degraded = true;
	}
	return true;
}

static void
dnsbl_lookup_drop(struct dnsbl_lookup *l)
{
	struct dnsbl *d = l->d;

	for (size_t i = 0; i < l->result.nzones; i++)
		dnsbl_waiter_detach(d, &l->waiters[i], false);
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		d->lookups = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	if (l->timer != NULL)
		event_free(l->timer);
	mw_free(&l);
}

void
dnsbl_cancel(struct dnsbl_lookup **lp)
{
	if (*lp == NULL)
		return;
	dnsbl_lookup_drop(*lp);
	*lp = NULL;
}

void
dnsbl_free(struct dnsbl **dp)
{
	struct dnsbl *d = *dp;

	if (d == NULL)
		return;
	if (d->lookups != NULL)
		log_warn("dnsbl: freed with checks in flight; their callbacks "
		    "will not run");
	while (d->lookups != NULL)
		dnsbl_lookup_drop(d->lookups);
	/* evdns_base_free(, 1) queues a DNS_ERR_SHUTDOWN callback for every
	   query still out; queries answered but not yet delivered get their
	   answer. Either way the orphan frees itself when the loop runs. */
	for (struct dnsbl_query *q = d->queries; q != NULL; q = q->next)
		q->d = NULL;
	evdns_base_free(d->evdns, 1);
	dnsbl_cache_free(&d->cache);
	mw_free(dp);
}

void
dnsbl_get_stats(const struct dnsbl *d, struct dnsbl_stats *stats_r)
{
	*stats_r = d->stats;
	stats_r->cache_entries = dnsbl_cache_count(d->cache);
}
