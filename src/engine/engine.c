/*
 * engine - decisions and the state behind them; see engine.h.
 *
 * The engine keeps the whole decision state in memory (lists in tries,
 * bans in a hash table) and writes every change through to the store
 * before acknowledging it, so a restart rebuilds exactly what was
 * acknowledged. Ban hit counters are the exception: they are batched and
 * written by the periodic tick (losing a few seconds of counts on kill -9
 * is acceptable; losing a ban is not).
 * Loop thread only.
 */
#include "engine/engine.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/slice.h"
#include "engine/acl.h"
#include "engine/ban.h"
#include "engine/engine_int.h"

#define ENGINE_TICK_MS		1000	/* housekeeping interval */
#define ENGINE_TOUCH_BATCH	10000	/* ban hit updates written per tick */
#define ENGINE_EXPIRE_SCAN	50000	/* ban entries examined per tick */
#define ENGINE_PURGE_EVERY	60	/* ticks between store purges */
#define ENGINE_PURGE_BATCH	10000	/* expired rows deleted per purge */
#define ENGINE_MAX_REASON	STORE_MAX_TEXT
#define ENGINE_COALESCE_SLOTS	4096	/* clients whose decisions merge per tick */
#define ENGINE_COALESCE_TEXT	48	/* listener and reason kept in a slot */

/*
 * Repeats of a decision (same client, listener, verdict and reason)
 * within one tick become one event that says how many decisions it
 * stands for (store_event.count, and "no listing (37 decisions in 1 s)"
 * in the reason), so the history still accounts for every decision while
 * the store writes one row per client per second instead of one per
 * request: DUNNO is most of the traffic, and a refused sender that
 * retries in a loop must not cost a row and a log line per attempt. The
 * first refusal of a client in a tick is logged at once; the repeats in
 * one line when the tick ends.
 */
struct coalesced {
	bool			 used;
	bool			 heap;	/* listener, reason allocated */
	struct mw_addr		 addr;
	enum verdict_kind	 kind;
	enum verdict_by		 by;
	char			*listener;	/* into text unless heap */
	char			*reason;
	char			*account, *sender, *recipient;
	int64_t			 first_ms;
	uint32_t		 count;
	/* Listener and reason, each NUL-terminated, when both fit ("policy",
	   "no listing"): every request of a merged client compares them,
	   and strings of their own on the heap cost a cache miss or two
	   each time (perf: strcmp, 1-1.5 % of the policy path). */
	char			 text[ENGINE_COALESCE_TEXT];
};

struct engine {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct store		*st;
	struct dnsbl		*dnsbl;
	struct acl		 allow, deny;
	struct ban_table	 bans;
	struct event		*tick;
	size_t			 expire_cursor;
	unsigned		 ticks;
	struct mw_cidr		*dirty;		/* bans with unsaved hits */
	size_t			 ndirty, dirty_cap;
	struct engine_stats	 stats;
	struct coalesced	*coalesce;	/* ENGINE_COALESCE_SLOTS */
	size_t			 ncoalesced;
	struct engine_login	*login;		/* engine_login.c */
	engine_ban_hook_fn	*ban_hook;	/* the firewall (enforce/) */
	void			*ban_hook_ctx;
};

struct engine_pending {
	struct engine		*e;
	struct dnsbl_lookup	*lookup;
	struct mw_arena		*arena;
	/* decide */
	engine_verdict_fn	*fn;
	void			*ctx;
	struct observation	 obs;	/* strings copied into arena */
	/* explain */
	engine_explain_fn	*xfn;
	struct engine_explain	 x;
	/* true while inside dnsbl_check: a callback then only stores the
	   (cached) result for the caller to use synchronously */
	bool			 in_check;
	bool			 done;
};

static const char *const verdict_names[] = { "DUNNO", "REJECT", "DEFER", "WARN" };
static const char *const by_names[] = { "default", "allow", "deny", "ban",
	"dnsbl", "error" };

const char *
verdict_kind_name(enum verdict_kind k)
{
	return (size_t)k < MW_N_ELEMENTS(verdict_names) ? verdict_names[k] : "?";
}

const char *
verdict_by_name(enum verdict_by b)
{
	return (size_t)b < MW_N_ELEMENTS(by_names) ? by_names[b] : "?";
}

static int64_t
engine_now(void)
{
	return (int64_t)time(NULL);
}

static int64_t
engine_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- verdict texts -------------------------------------------------- */

/* reject_text with its one "%s" replaced by phrase and "%%" by "%". The
   template was validated by cfg; anything else after '%' is copied. */
static const char *
engine_reject_text(const struct engine *e, struct mw_arena *a,
    const char *phrase)
{
	const char	*t = e->cfg->policy.reject_text;
	struct mw_buf	 b;
	bool		 used = false;

	mw_buf_init(&b, a, 0);
	for (; *t != '\0'; t++) {
		if (t[0] == '%' && t[1] == 's' && !used) {
			MW_ASSERT(mw_buf_puts(&b, phrase) == 0);
			used = true;
			t++;
		} else if (t[0] == '%' && t[1] == '%') {
			MW_ASSERT(mw_buf_append(&b, "%", 1) == 0);
			t++;
		} else {
			MW_ASSERT(mw_buf_append(&b, t, 1) == 0);
		}
	}
	return mw_buf_cstr(&b);
}

static void
verdict_set(struct verdict *v, enum verdict_kind kind, enum verdict_by by,
    const char *reason)
{
	*v = (struct verdict){ .kind = kind, .by = by, .reason = reason };
	if (kind == VERDICT_REJECT)
		v->status = "5.7.1";
	else if (kind == VERDICT_DEFER)
		v->status = "4.7.1";
}

static bool
engine_is_submission(const struct engine *e, const struct observation *obs)
{
	/* The first byte first: policy_context is mostly absent (""). */
	if (obs->policy_context != NULL && obs->policy_context[0] == 's' &&
	    strcmp(obs->policy_context, "submission") == 0)
		return true;
	for (size_t i = 0; i < e->cfg->policy.nsubmission_ports; i++)
		if (obs->server_port != 0 &&
		    obs->server_port == e->cfg->policy.submission_ports[i])
			return true;
	return false;
}

static bool
engine_dnsbl_active(const struct engine *e)
{
	return e->dnsbl != NULL && e->cfg->dnsbl.enabled && e->cfg->dnsbl.nzones > 0;
}

/* Counts a refusal by ban be; the count is saved by the next tick. */
static void
engine_ban_hit(struct engine *e, struct ban_entry *be, int64_t now)
{
	be->hits++;
	be->last_seen = (uint32_t)now;
	if (be->dirty)
		return;
	be->dirty = 1;
	if (e->ndirty == e->dirty_cap) {
		e->dirty_cap = e->dirty_cap == 0 ? 256 :
		    mw_mul_size(e->dirty_cap, 2);
		e->dirty = mw_realloc(e->dirty, mw_mul_size(e->dirty_cap,
		    sizeof(*e->dirty)));
	}
	e->dirty[e->ndirty++] = be->net;
}

/* Static decisions: lists and bans. True when decided. */
static bool
engine_decide_static(struct engine *e, const struct observation *obs,
    struct mw_arena *a, struct verdict *v)
{
	struct engine_list_entry	 le;
	struct ban_entry		*be;
	char				 net[MW_CIDR_STRLEN], addr[MW_ADDR_STRLEN];
	int64_t				 now;

	if (!obs->has_addr) {
		verdict_set(v, VERDICT_DUNNO, VERDICT_BY_DEFAULT,
		    "client address unknown");
		return true;
	}
	if (acl_match(&e->allow, &obs->addr, &le)) {
		verdict_set(v, VERDICT_DUNNO, VERDICT_BY_ALLOW, mw_arena_printf(a,
		    "allow list %s", mw_cidr_format(&le.e.net, net, sizeof(net))));
		return true;
	}
	if (acl_match(&e->deny, &obs->addr, &le)) {
		mw_addr_format(&obs->addr, addr, sizeof(addr));
		mw_cidr_format(&le.e.net, net, sizeof(net));
		verdict_set(v, VERDICT_REJECT, VERDICT_BY_DENY,
		    mw_arena_printf(a, "deny list %s", net));
		v->text = engine_reject_text(e, a, mw_arena_printf(a,
		    "client %s is on this server's deny list", addr));
		return true;
	}
	now = engine_now();
	if ((be = ban_table_match(&e->bans, &obs->addr, now)) != NULL) {
		mw_addr_format(&obs->addr, addr, sizeof(addr));
		mw_cidr_format(&be->net, net, sizeof(net));
		engine_ban_hit(e, be, now);
		verdict_set(v, VERDICT_REJECT, VERDICT_BY_BAN, mw_arena_printf(a,
		    "banned %s (%s): %s", net,
		    store_ban_source_name((enum store_ban_source)be->source),
		    be->reason));
		v->text = engine_reject_text(e, a, mw_arena_printf(a,
		    "client %s is temporarily blocked after abuse", addr));
		if (be->expires == 0)
			v->text = engine_reject_text(e, a, mw_arena_printf(a,
			    "client %s is blocked after abuse", addr));
		return true;
	}
	return false;
}

/* The DNSBL part of a verdict from its result. */
static void
engine_decide_dnsbl(struct engine *e, const struct observation *obs,
    const struct dnsbl_result *r, struct mw_arena *a, struct verdict *v)
{
	const struct dnsbl_zone_result	*top = NULL;
	struct mw_buf			 why;
	char				 addr[MW_ADDR_STRLEN];
	int32_t				 threshold = e->cfg->dnsbl.threshold;

	mw_buf_init(&why, a, 0);
	for (size_t i = 0; i < r->nzones; i++) {
		const struct dnsbl_zone_result *z = &r->zones[i];

		if (z->status != DNSBL_LISTED || z->weight == 0)
			continue;
		if (top == NULL || z->weight > top->weight)
			top = z;
		MW_ASSERT(mw_buf_printf(&why, "%s%s (%s %u.%u.%u.%u, weight %d)",
		    why.len > 0 ? ", " : "", z->zone->zone,
		    dnsbl_class_name(z->klass), z->answers[0] >> 24,
		    (z->answers[0] >> 16) & 0xff, (z->answers[0] >> 8) & 0xff,
		    z->answers[0] & 0xff, z->weight) == 0);
	}
	if (r->score < threshold || top == NULL) {
		verdict_set(v, VERDICT_DUNNO, VERDICT_BY_DEFAULT,
		    r->degraded ? "dnsbl incomplete (fail open)" :
		    r->score != 0 ? mw_arena_printf(a, "dnsbl score %d < %d: %s",
		    r->score, threshold, mw_buf_cstr(&why)) : "no listing");
		if (r->degraded)
			e->stats.dnsbl_fail_open++;
		return;
	}
	mw_addr_format(&obs->addr, addr, sizeof(addr));
	switch (e->cfg->dnsbl.action) {
	case CFG_DNSBL_REJECT:
		verdict_set(v, VERDICT_REJECT, VERDICT_BY_DNSBL, NULL);
		break;
	case CFG_DNSBL_DEFER:
		verdict_set(v, VERDICT_DEFER, VERDICT_BY_DNSBL, NULL);
		break;
	case CFG_DNSBL_WARN:
		verdict_set(v, VERDICT_WARN, VERDICT_BY_DNSBL, NULL);
		break;
	}
	v->reason = mw_arena_printf(a, "dnsbl score %d >= %d: %s", r->score,
	    threshold, mw_buf_cstr(&why));
	v->text = engine_reject_text(e, a, mw_arena_printf(a,
	    "client %s is listed on %s", addr, top->zone->zone));
}

static void
engine_coalesce_flush(struct engine *e)
{
	for (size_t i = 0; e->ncoalesced > 0 && i < ENGINE_COALESCE_SLOTS; i++) {
		struct coalesced	*c = &e->coalesce[i];
		char			 reason[ENGINE_MAX_REASON + 64];
		struct store_event	 ev;

		if (!c->used)
			continue;
		if (c->count > 1)
			(void)snprintf(reason, sizeof(reason), "%s (%u decisions "
			    "in 1 s)", c->reason, c->count);
		else
			(void)snprintf(reason, sizeof(reason), "%s", c->reason);
		if (c->kind != VERDICT_DUNNO && c->count > 1) {
			char addr[MW_ADDR_STRLEN];

			log_info("engine: client %s: %s: %s (%u more in the "
			    "last second)", mw_addr_format(&c->addr, addr,
			    sizeof(addr)), verdict_kind_name(c->kind), c->reason,
			    c->count - 1);
		}
		ev = (struct store_event){
			.time_ms = c->first_ms, .addr = c->addr,
			.listener = c->listener,
			.verdict = verdict_kind_name(c->kind),
			.reason = reason, .account = c->account,
			.sender = c->sender, .recipient = c->recipient,
			.count = c->count,
		};
		store_event_append(e->st, &ev);
		if (c->heap) {
			free(c->listener);
			free(c->reason);
		}
		free(c->account);
		free(c->sender);
		free(c->recipient);
		memset(c, 0, sizeof(*c));
		e->ncoalesced--;
	}
}

/* True when ev was merged into (or started) a coalesced event; *first
   tells which. */
static bool
engine_coalesce(struct engine *e, const struct store_event *ev,
    enum verdict_kind kind, enum verdict_by by, bool *first)
{
	size_t i = (size_t)mw_addr_hash(&ev->addr) & (ENGINE_COALESCE_SLOTS - 1);

	for (size_t probe = 0; probe < 8; probe++,
	    i = (i + 1) & (ENGINE_COALESCE_SLOTS - 1)) {
		struct coalesced *c = &e->coalesce[i];

		if (!c->used) {
			size_t ll = strlen(ev->listener) + 1;
			size_t rl = strlen(ev->reason) + 1;

			*c = (struct coalesced){
				.used = true, .addr = ev->addr, .kind = kind,
				.by = by,
				.first_ms = engine_now_ms(),
				.count = 1,
				.account = mw_strdup(ev->account),
				.sender = mw_strdup(ev->sender),
				.recipient = mw_strdup(ev->recipient),
			};
			if (ll + rl <= sizeof(c->text)) {
				memcpy(c->text, ev->listener, ll);
				memcpy(c->text + ll, ev->reason, rl);
				c->listener = c->text;
				c->reason = c->text + ll;
			} else {
				c->heap = true;
				c->listener = mw_strdup(ev->listener);
				c->reason = mw_strdup(ev->reason);
			}
			e->ncoalesced++;
			*first = true;
			return true;
		}
		/* The address before the strings: a slot met while probing
		   is mostly another client's. */
		if (c->kind == kind && c->by == by &&
		    mw_addr_cmp(&c->addr, &ev->addr) == 0 &&
		    strcmp(c->listener, ev->listener) == 0 &&
		    strcmp(c->reason, ev->reason) == 0) {
			c->count++;
			*first = false;
			return true;
		}
	}
	return false;	/* neighbourhood full: record it on its own */
}

static void
engine_record(struct engine *e, const struct observation *obs,
    const struct verdict *v)
{
	/* The clock is read only when an event starts (a coalescing slot,
	   or an event of its own): a repeat merged into a slot, most
	   requests, needs no time. */
	struct store_event ev = {
		.addr = obs->addr,
		.listener = obs->listener != NULL ? obs->listener : "",
		.verdict = verdict_kind_name(v->kind),
		.reason = v->reason != NULL ? v->reason : "",
		.account = obs->sasl_username != NULL ? obs->sasl_username : "",
		.sender = obs->sender != NULL ? obs->sender : "",
		.recipient = obs->recipient != NULL ? obs->recipient : "",
	};
	bool			 first = true;

	e->stats.decisions++;
	e->stats.verdicts[v->kind]++;
	e->stats.by[v->by]++;
	if (e->coalesce == NULL || !engine_coalesce(e, &ev, v->kind, v->by,
	    &first)) {
		ev.time_ms = engine_now_ms();
		store_event_append(e->st, &ev);
	}
	if (v->kind != VERDICT_DUNNO && first) {
		char addr[MW_ADDR_STRLEN];

		log_info("engine: client %s: %s: %s",
		    mw_addr_format(&obs->addr, addr, sizeof(addr)),
		    verdict_kind_name(v->kind), v->reason);
	}
}

static const char *
arena_copy(struct mw_arena *a, const char *s)
{
	return s != NULL ? mw_arena_strdup(a, s) : NULL;
}

static void
engine_decide_done(void *ctx, const struct dnsbl_result *r)
{
	struct engine_pending	*p = ctx;
	struct verdict		 v;

	if (p->in_check) {
		p->x.dnsbl = *r;
		p->done = true;
		return;
	}
	p->lookup = NULL;
	engine_decide_dnsbl(p->e, &p->obs, r, p->arena, &v);
	engine_record(p->e, &p->obs, &v);
	p->fn(p->ctx, &v);
	free(p);
}

struct engine_pending *
engine_decide(struct engine *e, const struct observation *obs,
    struct mw_arena *a, engine_verdict_fn *fn, void *ctx)
{
	struct engine_pending	*p;
	struct verdict		 v;
	bool			 submission;

	if (engine_decide_static(e, obs, a, &v))
		goto decided;
	if (obs->sasl_username != NULL && obs->sasl_username[0] != '\0') {
		verdict_set(&v, VERDICT_DUNNO, VERDICT_BY_DEFAULT,
		    "authenticated client");
		goto decided;
	}
	if (!engine_dnsbl_active(e)) {
		verdict_set(&v, VERDICT_DUNNO, VERDICT_BY_DEFAULT, "no listing");
		goto decided;
	}
	submission = engine_is_submission(e, obs);
	{
		struct dnsbl_result r;

		if (dnsbl_check_cached(e->dnsbl, &obs->addr, submission, &r)) {
			engine_decide_dnsbl(e, obs, &r, a, &v);
			goto decided;
		}
	}
	p = mw_calloc(1, sizeof(*p));
	p->e = e;
	p->arena = a;
	p->fn = fn;
	p->ctx = ctx;
	p->obs = *obs;
	p->obs.listener = arena_copy(a, obs->listener);
	p->obs.sasl_username = arena_copy(a, obs->sasl_username);
	p->obs.sender = arena_copy(a, obs->sender);
	p->obs.recipient = arena_copy(a, obs->recipient);
	p->obs.helo = p->obs.client_name = p->obs.protocol_state = NULL;
	p->obs.policy_context = p->obs.instance = NULL;
	p->in_check = true;
	p->lookup = dnsbl_check(e->dnsbl, &obs->addr, submission,
	    engine_decide_done, p);
	p->in_check = false;
	if (p->lookup != NULL)
		return p;
	/* Every zone was cached: the answer is already in p. */
	MW_ASSERT(p->done);
	engine_decide_dnsbl(e, obs, &p->x.dnsbl, a, &v);
	free(p);
decided:
	engine_record(e, obs, &v);
	fn(ctx, &v);
	return NULL;
}

void
engine_cancel(struct engine_pending **pp)
{
	struct engine_pending *p = *pp;

	if (p == NULL)
		return;
	dnsbl_cancel(&p->lookup);
	free(p);
	*pp = NULL;
}

/* --- explain --------------------------------------------------------- */

static void
engine_explain_finish(struct engine *e, struct engine_explain *x,
    struct mw_arena *a)
{
	struct observation obs = { .listener = "check", .addr = x->addr,
	    .has_addr = true, .server_port = 25 };

	if (x->allowed || x->denied || x->banned) {
		/* Recompute without touching ban counters. */
		char net[MW_CIDR_STRLEN], addr[MW_ADDR_STRLEN];

		mw_addr_format(&x->addr, addr, sizeof(addr));
		if (x->allowed) {
			verdict_set(&x->verdict, VERDICT_DUNNO, VERDICT_BY_ALLOW,
			    mw_arena_printf(a, "allow list %s", mw_cidr_format(
			    &x->allow.e.net, net, sizeof(net))));
		} else if (x->denied) {
			verdict_set(&x->verdict, VERDICT_REJECT, VERDICT_BY_DENY,
			    mw_arena_printf(a, "deny list %s", mw_cidr_format(
			    &x->deny.e.net, net, sizeof(net))));
			x->verdict.text = engine_reject_text(e, a, mw_arena_printf(a,
			    "client %s is on this server's deny list", addr));
		} else {
			verdict_set(&x->verdict, VERDICT_REJECT, VERDICT_BY_BAN,
			    mw_arena_printf(a, "banned %s (%s): %s", mw_cidr_format(
			    &x->ban.net, net, sizeof(net)),
			    store_ban_source_name(x->ban.source), x->ban.reason));
			x->verdict.text = engine_reject_text(e, a, mw_arena_printf(a,
			    "client %s is blocked after abuse", addr));
		}
	} else if (x->dnsbl_checked) {
		engine_decide_dnsbl(e, &obs, &x->dnsbl, a, &x->verdict);
	} else {
		verdict_set(&x->verdict, VERDICT_DUNNO, VERDICT_BY_DEFAULT,
		    "no listing");
	}
}

static void
engine_explain_done(void *ctx, const struct dnsbl_result *r)
{
	struct engine_pending *p = ctx;

	p->x.dnsbl_checked = true;
	p->x.dnsbl = *r;
	if (p->in_check) {
		p->done = true;
		return;
	}
	p->lookup = NULL;
	engine_explain_finish(p->e, &p->x, p->arena);
	p->xfn(p->ctx, &p->x);
	free(p);
}

struct engine_pending *
engine_explain(struct engine *e, const struct mw_addr *a,
    struct mw_arena *arena, engine_explain_fn *fn, void *ctx)
{
	struct engine_pending	*p = mw_calloc(1, sizeof(*p));
	struct engine_explain	*x = &p->x;
	struct ban_entry	*be;

	p->e = e;
	p->arena = arena;
	p->xfn = fn;
	p->ctx = ctx;
	x->addr = *a;
	x->threshold = e->cfg->dnsbl.threshold;
	x->allowed = acl_match(&e->allow, a, &x->allow);
	x->denied = acl_match(&e->deny, a, &x->deny);
	if ((be = ban_table_match(&e->bans, a, engine_now())) != NULL) {
		x->banned = true;
		ban_entry_to_store(be, &x->ban);
		x->ban.reason = mw_arena_strdup(arena, be->reason);
	}
	if (x->allowed) {
		x->allow.e.comment = mw_arena_strdup(arena, x->allow.e.comment);
	}
	if (x->denied)
		x->deny.e.comment = mw_arena_strdup(arena, x->deny.e.comment);
	if (engine_dnsbl_active(e)) {
		p->in_check = true;
		p->lookup = dnsbl_check(e->dnsbl, a, false, engine_explain_done,
		    p);
		p->in_check = false;
		if (p->lookup != NULL)
			return p;
		MW_ASSERT(p->done);
	}
	engine_explain_finish(e, x, arena);
	fn(ctx, x);
	free(p);
	return NULL;
}

/* --- bans -------------------------------------------------------------- */

void
engine_set_ban_hook(struct engine *e, engine_ban_hook_fn *fn, void *ctx)
{
	e->ban_hook = fn;
	e->ban_hook_ctx = ctx;
}

/* Tells the hook about a change already in memory and in the store. */
static void
engine_ban_changed(struct engine *e, enum engine_ban_change what,
    const struct ban_entry *be)
{
	struct store_ban b;

	if (e->ban_hook == NULL)
		return;
	ban_entry_to_store(be, &b);
	e->ban_hook(e->ban_hook_ctx, what, &b);
}

int
engine_ban_add(struct engine *e, const struct mw_cidr *net, uint64_t duration,
    enum store_ban_source source, const char *reason, struct store_ban *ban_r,
    const char **error_r)
{
	struct ban_entry	*old = ban_table_get(&e->bans, net);
	struct store_ban	 b;
	int64_t			 now = engine_now();
	char			 text[MW_CIDR_STRLEN];

	if (reason == NULL || reason[0] == '\0')
		reason = "manual";
	if (strlen(reason) > ENGINE_MAX_REASON ||
	    !mw_slice_is_printable(mw_slice_from_cstr(reason))) {
		*error_r = "the reason must be printable text of at most 512 bytes";
		return -1;
	}
	if (duration > (uint64_t)UINT32_MAX - (uint64_t)now) {
		*error_r = "the ban duration is too long (use permanent)";
		return -1;
	}
	b = (struct store_ban){
		.net = *net, .source = source, .reason = reason,
		.first_seen = now, .last_seen = now,
		.expires = duration == 0 ? 0 : now + (int64_t)duration,
		.hits = 0, .count = 1,
	};
	if (old != NULL) {
		b.first_seen = old->first_seen;
		b.hits = old->hits;
		b.count = old->count + 1;
	}
	if (store_ban_put(e->st, &b) < 0) {
		log_error("engine: ban %s: %s", mw_cidr_format(net, text,
		    sizeof(text)), store_last_error(e->st));
		*error_r = "the store refused the ban (see the daemon log)";
		return -1;
	}
	ban_table_put(&e->bans, &b);
	if (e->ban_hook != NULL)
		e->ban_hook(e->ban_hook_ctx, ENGINE_BAN_ADDED, &b);
	log_debug("engine: ban %s (%s) %s: %s", mw_cidr_format(net, text,
	    sizeof(text)), store_ban_source_name(source),
	    duration == 0 ? "permanent" : "temporary", reason);
	if (ban_r != NULL)
		*ban_r = b;
	return 0;
}

int
engine_ban_del(struct engine *e, const struct mw_cidr *net,
    const char **error_r)
{
	struct ban_entry *be;
	char	 text[MW_CIDR_STRLEN];
	int	 ret;

	if ((be = ban_table_get(&e->bans, net)) == NULL)
		return 0;
	if ((ret = store_ban_del(e->st, net)) < 0) {
		log_error("engine: unban %s: %s", mw_cidr_format(net, text,
		    sizeof(text)), store_last_error(e->st));
		*error_r = "the store refused the change (see the daemon log)";
		return -1;
	}
	engine_ban_changed(e, ENGINE_BAN_REMOVED, be);
	(void)ban_table_remove(&e->bans, net);
	engine_login_forget(e->login, net);
	log_debug("engine: unban %s", mw_cidr_format(net, text, sizeof(text)));
	return 1;
}

static int
ban_cmp(const void *a, const void *b)
{
	const struct ban_entry *x = *(const struct ban_entry *const *)a;
	const struct ban_entry *y = *(const struct ban_entry *const *)b;
	int c = mw_addr_cmp(&x->net.addr, &y->net.addr);

	return c != 0 ? c : (int)x->net.bits - (int)y->net.bits;
}

void
engine_ban_walk(struct engine *e, store_ban_fn *fn, void *ctx)
{
	const struct ban_entry	**v;
	size_t			  n = 0;
	int64_t			  now = engine_now();

	if (e->bans.n == 0)
		return;
	v = mw_malloc(mw_mul_size(e->bans.n, sizeof(*v)));
	for (size_t i = 0; i < e->bans.n; i++)
		if (ban_entry_is_active(&e->bans.entries[i], now))
			v[n++] = &e->bans.entries[i];
	qsort(v, n, sizeof(*v), ban_cmp);
	for (size_t i = 0; i < n; i++) {
		struct store_ban b;

		ban_entry_to_store(v[i], &b);
		if (!fn(ctx, &b))
			break;
	}
	free(v);
}

bool
engine_ban_match_hit(struct engine *e, const struct mw_addr *a,
    struct store_ban *ban_r)
{
	int64_t			 now = engine_now();
	struct ban_entry	*be = ban_table_match(&e->bans, a, now);

	if (be == NULL)
		return false;
	engine_ban_hit(e, be, now);
	ban_entry_to_store(be, ban_r);
	return true;
}

bool
engine_ban_find(struct engine *e, const struct mw_addr *a,
    struct store_ban *ban_r)
{
	struct ban_entry *be = ban_table_match(&e->bans, a, engine_now());

	if (be == NULL)
		return false;
	if (ban_r != NULL)
		ban_entry_to_store(be, ban_r);
	return true;
}

/* --- lists ------------------------------------------------------------- */

static struct acl *
engine_acl(struct engine *e, enum store_list list)
{
	return list == STORE_LIST_ALLOW ? &e->allow : &e->deny;
}

int
engine_list_add(struct engine *e, enum store_list list,
    const struct mw_cidr *net, const char *comment, const char **error_r)
{
	struct store_list_entry	 le = { .net = *net, .list = list,
	    .comment = comment != NULL ? comment : "", .created = engine_now() };
	char			 text[MW_CIDR_STRLEN];

	if (strlen(le.comment) > STORE_MAX_TEXT ||
	    !mw_slice_is_printable(mw_slice_from_cstr(le.comment))) {
		*error_r = "the comment must be printable text of at most 512 bytes";
		return -1;
	}
	if (store_list_put(e->st, &le) < 0) {
		log_error("engine: %s list add %s: %s", list == STORE_LIST_ALLOW ?
		    "allow" : "deny", mw_cidr_format(net, text, sizeof(text)),
		    store_last_error(e->st));
		*error_r = "the store refused the change (see the daemon log)";
		return -1;
	}
	acl_put(engine_acl(e, list), &le);
	log_debug("engine: %s list: added %s%s%s", list == STORE_LIST_ALLOW ?
	    "allow" : "deny", mw_cidr_format(net, text, sizeof(text)),
	    le.comment[0] != '\0' ? ": " : "", le.comment);
	return 0;
}

int
engine_list_del(struct engine *e, enum store_list list,
    const struct mw_cidr *net, const char **error_r)
{
	struct acl	*acl = engine_acl(e, list);
	const char	*where;
	char		 text[MW_CIDR_STRLEN];
	int		 ret;

	if (mw_trie_get(acl->dynamic, net) == NULL) {
		if (acl_has_config(acl, net, &where)) {
			*error_r = "this entry comes from the configuration file: "
			    "remove it there and reload";
			log_info("engine: refused to delete %s: defined at %s",
			    mw_cidr_format(net, text, sizeof(text)), where);
			return -1;
		}
		return 0;
	}
	if ((ret = store_list_del(e->st, list, net)) < 0) {
		log_error("engine: list delete %s: %s", mw_cidr_format(net, text,
		    sizeof(text)), store_last_error(e->st));
		*error_r = "the store refused the change (see the daemon log)";
		return -1;
	}
	(void)acl_del(acl, net);
	log_debug("engine: %s list: removed %s", list == STORE_LIST_ALLOW ?
	    "allow" : "deny", mw_cidr_format(net, text, sizeof(text)));
	return 1;
}

void
engine_list_walk(struct engine *e, enum store_list list, engine_list_fn *fn,
    void *ctx)
{
	acl_walk(engine_acl(e, list), fn, ctx);
}

bool
engine_list_match(struct engine *e, enum store_list list,
    const struct mw_addr *a, struct engine_list_entry *le_r)
{
	return acl_match(engine_acl(e, list), a, le_r);
}

/* --- housekeeping -------------------------------------------------------- */

static void
engine_flush_hits(struct engine *e)
{
	size_t		 n = e->ndirty < ENGINE_TOUCH_BATCH ? e->ndirty :
			    ENGINE_TOUCH_BATCH, m = 0;
	struct mw_cidr	*nets;
	uint32_t	*hits;
	int64_t		*seen;

	if (n == 0)
		return;
	nets = mw_malloc(mw_mul_size(n, sizeof(*nets)));
	hits = mw_malloc(mw_mul_size(n, sizeof(*hits)));
	seen = mw_malloc(mw_mul_size(n, sizeof(*seen)));
	for (size_t i = 0; i < n; i++) {
		struct ban_entry *be = ban_table_get(&e->bans,
		    &e->dirty[e->ndirty - 1 - i]);

		if (be == NULL)
			continue;	/* unbanned meanwhile */
		be->dirty = 0;
		nets[m] = be->net;
		hits[m] = be->hits;
		seen[m] = be->last_seen;
		m++;
	}
	e->ndirty -= n;
	/* Saved by the store's writer thread: the loop does not wait. */
	store_ban_touch_queue(e->st, nets, hits, seen, m);
	free(nets);
	free(hits);
	free(seen);
}

static void
engine_expire(struct engine *e)
{
	int64_t	 now = engine_now();
	size_t	 scanned = 0;

	while (scanned < ENGINE_EXPIRE_SCAN && e->bans.n > 0) {
		struct ban_entry *be;

		if (e->expire_cursor >= e->bans.n)
			e->expire_cursor = 0;
		be = &e->bans.entries[e->expire_cursor];
		scanned++;
		if (!ban_entry_is_active(be, now)) {
			char text[MW_CIDR_STRLEN];

			log_info("engine: ban %s expired", mw_cidr_format(&be->net,
			    text, sizeof(text)));
			engine_ban_changed(e, ENGINE_BAN_REMOVED, be);
			/* The last entry moves into this index: do not advance. */
			(void)ban_table_remove(&e->bans, &be->net);
			continue;
		}
		e->expire_cursor++;
		if (scanned >= e->bans.n)
			break;
	}
	/* The purge deletes store rows of bans already expired above (or
	   skipped at load): no hook call, the firewall never had them. */
	if (++e->ticks % ENGINE_PURGE_EVERY == 0 &&
	    store_ban_purge(e->st, now, ENGINE_PURGE_BATCH) < 0)
		log_warn("engine: purging expired bans: %s",
		    store_last_error(e->st));
}

static void
engine_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;

	(void)fd;
	(void)what;
	engine_coalesce_flush(e);
	engine_flush_hits(e);
	engine_expire(e);
	engine_login_tick(e->login);
}

/* --- life cycle ---------------------------------------------------------- */

struct engine_load_ctx {
	struct engine	*e;
	int64_t		 now;
	size_t		 loaded, skipped;
};

static bool
engine_load_ban(void *ctx, const struct store_ban *b)
{
	struct engine_load_ctx *l = ctx;

	if (b->expires != 0 && b->expires <= l->now) {
		l->skipped++;
		return true;
	}
	ban_table_put(&l->e->bans, b);
	l->loaded++;
	return true;
}

static bool
engine_load_list(void *ctx, const struct store_list_entry *le)
{
	struct engine *e = ctx;

	acl_put(engine_acl(e, le->list), le);
	return true;
}

static void
engine_apply_cfg(struct engine *e, const struct cfg *cfg)
{
	e->cfg = cfg;
	acl_set_config(&e->allow, STORE_LIST_ALLOW, cfg->lists.allow,
	    cfg->lists.nallow);
	acl_set_config(&e->deny, STORE_LIST_DENY, cfg->lists.deny,
	    cfg->lists.ndeny);
}

int
engine_new(struct event_base *base, const struct cfg *cfg, struct store *st,
    struct dnsbl *d, struct engine **e_r, char **error_r)
{
	struct engine		*e = mw_calloc(1, sizeof(*e));
	struct engine_load_ctx	 l = { .e = e, .now = engine_now() };
	struct timeval		 tv = { ENGINE_TICK_MS / 1000,
	    (ENGINE_TICK_MS % 1000) * 1000 };

	e->base = base;
	e->st = st;
	e->dnsbl = d;
	e->stats.started = engine_now();
	ban_table_init(&e->bans);
	acl_init(&e->allow);
	acl_init(&e->deny);
	engine_apply_cfg(e, cfg);
	if (store_ban_load(st, engine_load_ban, &l) < 0 ||
	    store_list_load(st, engine_load_list, e) < 0) {
		if (asprintf(error_r, "loading state: %s",
		    store_last_error(st)) < 0)
			*error_r = NULL;
		engine_free(&e);
		return -1;
	}
	log_info("engine: loaded %zu bans (%zu expired skipped), %zu allow and "
	    "%zu deny entries", l.loaded, l.skipped, acl_count(&e->allow),
	    acl_count(&e->deny));
	if (engine_login_new(e, cfg, &e->login, error_r) < 0) {
		engine_free(&e);
		return -1;
	}
	if (base != NULL) {
		/* Without a loop there is no tick to flush merged events. */
		e->coalesce = mw_calloc(ENGINE_COALESCE_SLOTS,
		    sizeof(*e->coalesce));
		e->tick = event_new(base, -1, EV_PERSIST, engine_on_tick, e);
		event_add(e->tick, &tv);
	}
	*e_r = e;
	return 0;
}

void
engine_free(struct engine **ep)
{
	struct engine *e = *ep;

	if (e == NULL)
		return;
	if (e->coalesce != NULL) {
		engine_coalesce_flush(e);
		free(e->coalesce);
	}
	if (e->tick != NULL) {
		event_free(e->tick);
		/* Save what the counters gained since the last tick. */
		while (e->ndirty > 0)
			engine_flush_hits(e);
	}
	engine_login_free(&e->login);
	ban_table_deinit(&e->bans);
	acl_deinit(&e->allow);
	acl_deinit(&e->deny);
	free(e->dirty);
	free(e);
	*ep = NULL;
}

void
engine_reload(struct engine *e, const struct cfg *cfg, struct dnsbl *d)
{
	engine_apply_cfg(e, cfg);
	e->dnsbl = d;
	engine_login_reload(e->login, cfg);
}

void
engine_get_stats(struct engine *e, struct engine_stats *stats_r)
{
	int64_t now = engine_now();
	size_t	active = 0;

	for (size_t i = 0; i < e->bans.n; i++)
		if (ban_entry_is_active(&e->bans.entries[i], now))
			active++;
	*stats_r = e->stats;
	stats_r->bans_active = active;
	stats_r->allow_entries = acl_count(&e->allow);
	stats_r->deny_entries = acl_count(&e->deny);
}

void
engine_flush_pending(struct engine *e)
{
	engine_coalesce_flush(e);
	if (e->login != NULL)
		engine_login_flush(e->login);
}

struct engine_login *
engine_login_of(struct engine *e)
{
	return e->login;
}

bool
engine_has_loop(struct engine *e)
{
	return e->base != NULL;
}

struct store *
engine_store(struct engine *e)
{
	return e->st;
}

struct dnsbl *
engine_dnsbl(struct engine *e)
{
	return e->dnsbl;
}

const struct cfg *
engine_cfg(struct engine *e)
{
	return e->cfg;
}
