/*
 * admin_users - the dashboard's admin accounts (/api/v1/admins, unix
 * socket only), the audit log (/api/v1/audit and admin_audit) and the
 * overview statistics (/api/v1/stats).
 *
 * Creating an admin or setting a password hashes it on the password
 * thread (admin_pw.c, about a second): the request waits in as->jobs and
 * is answered from the thread's callback; it is cancelled if the server
 * shuts down first. Passwords are wiped from the request arena as soon as
 * the job has its copy, and never logged or audited.
 */
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/log.h"
#include "core/slice.h"
#include "listen/admin_int.h"
#include "listen/dashboard.h"

struct admin_job {
	struct admin_server	*as;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct mw_arena		*a;
	struct admin_pw_job	*pw;
	bool			 create;	/* POST; else PUT (passwd) */
	char			*name;
	const char		*actor, *origin, *peer;	/* in a */
	struct admin_job	*prev, *next;
};

static int64_t
admin_users_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
admin_audit_write(struct admin_server *as, const char *actor,
    const char *origin, const char *action, const char *target,
    const char *detail)
{
	struct store_audit au = {
		.time_ms = admin_users_now_ms(), .actor = actor,
		.origin = origin, .action = action,
		.target = target != NULL ? target : "",
		.detail = detail != NULL ? detail : "",
	};

	if (store_audit_append(engine_store(as->e), &au) < 0)
		log_error("admin: audit: %s: %s by %s not recorded: %s",
		    action, au.target, actor, store_last_error(
		    engine_store(as->e)));
}

void
admin_audit(struct admin_req *r, const char *action, const char *target,
    const char *detail)
{
	admin_audit_write(r->as, r->who.actor, r->who.origin, action, target,
	    detail);
}

/* --- /api/v1/admins ------------------------------------------------------ */

static bool
admin_admin_json_fn(void *ctx, const struct store_admin *ad)
{
	json_array_append_new(ctx, json_pack("{s:o, s:I, s:I, s:o}",
	    "name", admin_json_text(ad->name),
	    "created", (json_int_t)ad->created,
	    "updated", (json_int_t)ad->updated,
	    "language", admin_json_text(ad->language)));
	return true;
}

static bool
admin_admin_copy_fn(void *ctx, const struct store_admin *ad)
{
	struct store_admin *out = ctx;

	out->created = ad->created;
	out->language = mw_strdup(ad->language);
	return false;
}

static void
admin_job_unlink(struct admin_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		j->as->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void
admin_job_free(struct admin_job *j)
{
	admin_job_unlink(j);
	if (j->evcon != NULL)
		evhttp_connection_set_closecb(j->evcon, NULL, NULL);
	mw_arena_free(&j->a);
	free(j->name);
	free(j);
}

static void
admin_job_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct admin_job *j = arg;

	(void)evcon;
	log_debug("admin: admins: the client went away; hashing cancelled");
	admin_pw_cancel(&j->pw);
	if (evhttp_request_get_connection(j->req) == NULL)
		evhttp_request_free(j->req);
	j->evcon = NULL;
	admin_job_free(j);
}

void
admin_jobs_cancel_all(struct admin_server *as)
{
	while (as->jobs != NULL) {
		struct admin_job *j = as->jobs;

		admin_pw_cancel(&j->pw);
		admin_job_free(j);
	}
}

static void
admin_job_done(void *ctx, bool ok, const char *hash)
{
	struct admin_job	*j = ctx;
	struct admin_server	*as = j->as;
	struct store		*st = engine_store(as->e);
	struct store_admin	 old = { .language = NULL }, ad;
	int64_t			 now = (int64_t)time(NULL);
	int			 found;
	json_t			*o;

	j->pw = NULL;
	/* Before the reply: a closing connection calls its closecb. */
	if (j->evcon != NULL)
		evhttp_connection_set_closecb(j->evcon, NULL, NULL);
	j->evcon = NULL;
	if (!ok) {
		admin_reply_error(j->req, 500, "the password could not be "
		    "hashed (see the daemon log)");
		goto out;
	}
	/* The name may have come or gone while the hash was computed. */
	if ((found = store_admin_get(st, j->name, admin_admin_copy_fn,
	    &old)) < 0) {
		admin_reply_error(j->req, 500, "the admin could not be read "
		    "(see the daemon log)");
		log_error("admin: admins: %s", store_last_error(st));
		goto out;
	}
	if (j->create && found == 1) {
		admin_reply_error(j->req, 409, mw_arena_printf(j->a, "admin %s "
		    "exists already: mailward admin passwd %s sets a new "
		    "password", j->name, j->name));
		goto out;
	}
	if (!j->create && found == 0) {
		admin_reply_error(j->req, 404, mw_arena_printf(j->a, "no admin "
		    "%s (mailward admin list shows them)", j->name));
		goto out;
	}
	ad = (struct store_admin){ .name = j->name, .pwhash = hash,
	    .language = old.language != NULL ? old.language : "",
	    .created = j->create ? now : old.created, .updated = now };
	if (store_admin_put(st, &ad) < 0) {
		log_error("admin: admins: %s", store_last_error(st));
		admin_reply_error(j->req, 500, "the admin could not be saved "
		    "(see the daemon log)");
		goto out;
	}
	if (!j->create && as->on_admin_change != NULL)
		as->on_admin_change(as->on_admin_change_ctx, j->name);
	log_info("admin: %s %s by %s", j->create ? "admin add" :
	    "admin passwd", j->name, j->peer);
	admin_audit_write(as, j->actor, j->origin, j->create ? "admin_add" :
	    "admin_passwd", j->name, "");
	o = json_pack("{s:{s:o, s:I, s:I, s:o}}", "admin",
	    "name", admin_json_text(ad.name), "created", (json_int_t)ad.created,
	    "updated", (json_int_t)ad.updated,
	    "language", admin_json_text(ad.language));
	admin_reply(j->req, j->create ? 201 : 200, o);
	json_decref(o);
out:
	free((char *)old.language);
	admin_job_free(j);
}

static void
admin_admins_set(struct admin_req *r, bool create)
{
	struct dashboard_admin_req	 ar;
	struct admin_job		*j;
	const char			*error;

	if (dashboard_parse_admin(r->body, r->body_len, r->a, &ar,
	    &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	j = mw_calloc(1, sizeof(*j));
	j->as = r->as;
	j->req = r->req;
	j->create = create;
	j->name = mw_strdup(ar.name);
	j->pw = admin_pw_hash(r->as->pw, ar.password, ar.password_len,
	    admin_job_done, j);
	sodium_memzero((char *)ar.password, ar.password_len);
	sodium_memzero((char *)r->body, r->body_len);
	if (j->pw == NULL) {
		free(j->name);
		free(j);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "5");
		admin_reply_error(r->req, 503, "the password worker is busy: try "
		    "again in a few seconds");
		return;
	}
	j->a = r->a;	/* the job owns the arena now */
	r->a = NULL;
	j->actor = r->who.actor;
	j->origin = r->who.origin;
	j->peer = r->peer;
	j->evcon = evhttp_request_get_connection(r->req);
	j->next = r->as->jobs;
	if (j->next != NULL)
		j->next->prev = j;
	r->as->jobs = j;
	if (j->evcon != NULL)
		evhttp_connection_set_closecb(j->evcon, admin_job_on_close, j);
}

static void
admin_admins_delete(struct admin_req *r)
{
	static const char *const known[] = { "name", NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	const char		*error, *name;
	struct store		*st = engine_store(r->as->e);
	json_t			*o;
	int			 ret;

	if (admin_query_split(r->query, known, "name", &q, r->a, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	kv = TAILQ_FIRST(&q);
	name = kv != NULL ? mw_arena_strdup(r->a, kv->value) : NULL;
	evhttp_clear_headers(&q);
	if (name == NULL || !dashboard_admin_name_ok(name)) {
		admin_reply_error(r->req, 400, name == NULL ? "query parameter "
		    "\"name\" is missing: add ?name=alice" : "name: not an admin "
		    "name (letters, digits, '.', '_', '@', '-')");
		return;
	}
	if ((ret = store_admin_del(st, name)) < 0) {
		log_error("admin: admins: %s", store_last_error(st));
		admin_reply_error(r->req, 500, "the admin could not be deleted "
		    "(see the daemon log)");
		return;
	}
	if (ret == 0) {
		admin_reply_error(r->req, 404, mw_arena_printf(r->a, "no admin %s "
		    "(mailward admin list shows them)", name));
		return;
	}
	if (r->as->on_admin_change != NULL)
		r->as->on_admin_change(r->as->on_admin_change_ctx, name);
	log_info("admin: admin del %s by %s", name, r->peer);
	admin_audit(r, "admin_del", name, "");
	o = json_pack("{s:s}", "deleted", name);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

void
admin_route_admins(struct admin_req *r)
{
	struct store	*st = engine_store(r->as->e);
	json_t		*admins, *o;

	switch (r->method) {
	case EVHTTP_REQ_POST: admin_admins_set(r, true); return;
	case EVHTTP_REQ_PUT: admin_admins_set(r, false); return;
	case EVHTTP_REQ_DELETE: admin_admins_delete(r); return;
	default: break;
	}
	if (r->query != NULL && r->query[0] != '\0') {
		admin_reply_error(r->req, 400, "GET /api/v1/admins takes no "
		    "query parameters");
		return;
	}
	admins = json_array();
	if (store_admin_list(st, admin_admin_json_fn, admins) < 0) {
		json_decref(admins);
		log_error("admin: admins: %s", store_last_error(st));
		admin_reply_error(r->req, 500, "the admins could not be read "
		    "(see the daemon log)");
		return;
	}
	o = json_pack("{s:o}", "admins", admins);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

/* --- GET /api/v1/audit ---------------------------------------------------- */

static bool
admin_audit_json_fn(void *ctx, const struct store_audit *au)
{
	json_array_append_new(ctx, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}",
	    "time_ms", (json_int_t)au->time_ms,
	    "actor", admin_json_text(au->actor),
	    "origin", admin_json_text(au->origin),
	    "action", admin_json_text(au->action),
	    "target", admin_json_text(au->target),
	    "detail", admin_json_text(au->detail)));
	return true;
}

void
admin_route_audit(struct admin_req *r)
{
	struct store_audit_query q;
	struct store		*st = engine_store(r->as->e);
	const char		*error;
	json_t			*rows, *o;

	if (dashboard_parse_audit_query(r->query, r->a, &q, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	rows = json_array();
	if (store_audit_query(st, &q, admin_audit_json_fn, rows) < 0) {
		json_decref(rows);
		log_error("admin: audit: %s", store_last_error(st));
		admin_reply_error(r->req, 500, "the audit log could not be read "
		    "(see the daemon log)");
		return;
	}
	o = json_pack("{s:o}", "audit", rows);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

/* --- GET /api/v1/stats ---------------------------------------------------- */

/* Which events each series counts (verdicts as the engine writes them). */
enum admin_series { SERIES_REFUSED, SERIES_LOGIN_FAILURES, SERIES_BANS,
	SERIES_ALERTS, SERIES_N };

static const char *const admin_series_names[SERIES_N] = {
	"refused", "login_failures", "bans", "alerts",
};

static const char *const admin_series_verdicts[SERIES_N][4] = {
	[SERIES_REFUSED] = { "REJECT", "DEFER", NULL },
	[SERIES_LOGIN_FAILURES] = { "AUTH_FAIL", "LOGIN_FAIL", "FAILURE", NULL },
	[SERIES_BANS] = { "BAN", NULL },
	[SERIES_ALERTS] = { "ALERT", NULL },
};

static int
admin_series_of(const struct store_count *c)
{
	for (int s = 0; s < SERIES_N; s++)
		for (size_t i = 0; admin_series_verdicts[s][i] != NULL; i++)
			if (strcmp(c->verdict, admin_series_verdicts[s][i]) == 0)
				return s;
	return -1;
}

struct admin_stats_walk {
	int64_t		 since_ms, bucket_ms;
	size_t		 nbuckets;
	uint64_t	*counts[SERIES_N];
	uint64_t	 totals[SERIES_N];
};

static bool
admin_stats_count_fn(void *ctx, const struct store_count *c)
{
	struct admin_stats_walk	*w = ctx;
	int			 s = admin_series_of(c);
	int64_t			 b;

	if (s < 0 || c->minute_ms < w->since_ms)
		return true;
	b = (c->minute_ms - w->since_ms) / w->bucket_ms;
	if (b >= 0 && (size_t)b < w->nbuckets) {
		w->counts[s][b] += c->n;
		w->totals[s] += c->n;
	}
	return true;
}

struct admin_top_walk {
	json_t		*rows;
	const char	*key;
};

static bool
admin_top_fn(void *ctx, const struct store_top_row *row)
{
	struct admin_top_walk	*w = ctx;
	char			 net[MW_CIDR_STRLEN];

	if (strcmp(w->key, "account") == 0)
		json_array_append_new(w->rows, json_pack("{s:o, s:I}",
		    "account", admin_json_text(row->account),
		    "count", (json_int_t)row->n));
	else
		json_array_append_new(w->rows, json_pack("{s:s, s:I}", w->key,
		    mw_cidr_format(&row->net, net, sizeof(net)),
		    "count", (json_int_t)row->n));
	return true;
}

static int
admin_stats_top(struct admin_server *as, int64_t since, int64_t until,
    enum store_top_key key, const char *name, size_t limit, json_t *top)
{
	struct store_top_query	 q = { .since_ms = since, .until_ms = until,
	    .key = key, .limit = limit };
	struct admin_top_walk	 w = { .rows = json_array(), .key = name };
	size_t			 n = 0;

	for (int s = SERIES_REFUSED; s <= SERIES_LOGIN_FAILURES; s++)
		for (size_t i = 0; admin_series_verdicts[s][i] != NULL &&
		    n + 1 < STORE_TOP_MAX_VERDICTS; i++)
			q.verdicts[n++] = admin_series_verdicts[s][i];
	if (store_event_top(engine_store(as->e), &q, admin_top_fn, &w) < 0) {
		json_decref(w.rows);
		return -1;
	}
	json_object_set_new(top, key == STORE_TOP_ADDR ? "addresses" :
	    key == STORE_TOP_NET ? "networks" : "accounts", w.rows);
	return 0;
}

/* Top countries: the ADMIN_TOP_GEO_ADDRS top addresses of the range (from
   the same sample as the other lists), summed by their country. Addresses
   the database does not know are left out. */
#define ADMIN_TOP_GEO_ADDRS	1000	/* store_event_top's largest limit */
#define ADMIN_TOP_GEO_MAX	300	/* ISO 3166 has 249 codes */

struct admin_geo_count {
	char		 cc[MW_GEOIP_CC_LEN];
	uint64_t	 n;
};

struct admin_geo_walk {
	const struct mw_geoip	*geo;
	struct admin_geo_count	*c;
	size_t			 nc;
};

static bool
admin_geo_fn(void *ctx, const struct store_top_row *row)
{
	struct admin_geo_walk	*w = ctx;
	char			 cc[MW_GEOIP_CC_LEN];
	size_t			 i;

	if (!mw_geoip_country(w->geo, &row->net.addr, cc))
		return true;
	for (i = 0; i < w->nc && strcmp(w->c[i].cc, cc) != 0; i++)
		;
	if (i == w->nc) {
		if (w->nc == ADMIN_TOP_GEO_MAX)
			return true;
		memcpy(w->c[w->nc].cc, cc, sizeof(cc));
		w->c[w->nc++].n = 0;
	}
	w->c[i].n += row->n;
	return true;
}

static int
admin_geo_cmp(const void *x, const void *y)
{
	const struct admin_geo_count *a = x, *b = y;

	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return strcmp(a->cc, b->cc);
}

static int
admin_stats_countries(struct admin_req *r, int64_t since, int64_t until,
    size_t limit, json_t *top)
{
	struct store_top_query	 q = { .since_ms = since, .until_ms = until,
	    .key = STORE_TOP_ADDR, .limit = ADMIN_TOP_GEO_ADDRS };
	struct admin_geo_walk	 w = { .geo = r->as->geo };
	json_t			*rows = json_array();
	size_t			 n = 0;

	json_object_set_new(top, "countries", rows);
	if (w.geo == NULL)
		return 0;
	w.c = mw_arena_calloc(r->a, ADMIN_TOP_GEO_MAX, sizeof(*w.c));
	for (int s = SERIES_REFUSED; s <= SERIES_LOGIN_FAILURES; s++)
		for (size_t i = 0; admin_series_verdicts[s][i] != NULL &&
		    n + 1 < STORE_TOP_MAX_VERDICTS; i++)
			q.verdicts[n++] = admin_series_verdicts[s][i];
	if (store_event_top(engine_store(r->as->e), &q, admin_geo_fn, &w) < 0)
		return -1;
	qsort(w.c, w.nc, sizeof(*w.c), admin_geo_cmp);
	for (size_t i = 0; i < w.nc && i < limit; i++)
		json_array_append_new(rows, json_pack("{s:s, s:I}", "country",
		    w.c[i].cc, "count", (json_int_t)w.c[i].n));
	return 0;
}

void
admin_route_stats(struct admin_req *r)
{
	struct dashboard_stats_query	 sq;
	struct admin_stats_walk		 w;
	struct store			*st = engine_store(r->as->e);
	const char			*error;
	int64_t				 now = admin_users_now_ms(), until;
	json_t				*o, *series, *buckets, *totals, *top;

	if (dashboard_parse_stats_query(r->query, r->a, &sq, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	/* buckets end with the current one; aligned to the bucket size */
	until = now - now % sq.bucket_ms + sq.bucket_ms - 1;
	w = (struct admin_stats_walk){ .bucket_ms = sq.bucket_ms,
	    .nbuckets = (size_t)(sq.span_ms / sq.bucket_ms) };
	w.since_ms = until + 1 - sq.span_ms;
	for (int s = 0; s < SERIES_N; s++)
		w.counts[s] = mw_arena_calloc(r->a, w.nbuckets, sizeof(uint64_t));
	engine_flush_pending(r->as->e);	/* what was decided before is */
	store_event_sync(st);		/* counted */
	top = json_object();
	if (store_count_query(st, w.since_ms, until, admin_stats_count_fn,
	    &w) < 0 ||
	    admin_stats_top(r->as, w.since_ms, until, STORE_TOP_ADDR, "address",
	    sq.top, top) < 0 ||
	    admin_stats_top(r->as, w.since_ms, until, STORE_TOP_NET, "network",
	    sq.top, top) < 0 ||
	    admin_stats_top(r->as, w.since_ms, until, STORE_TOP_ACCOUNT,
	    "account", sq.top, top) < 0 ||
	    admin_stats_countries(r, w.since_ms, until, sq.top, top) < 0) {
		json_decref(top);
		log_error("admin: stats: %s", store_last_error(st));
		admin_reply_error(r->req, 500, "the statistics could not be read "
		    "(see the daemon log)");
		return;
	}
	series = json_object();
	totals = json_object();
	buckets = json_array();
	for (size_t b = 0; b < w.nbuckets; b++)
		json_array_append_new(buckets, json_integer((json_int_t)
		    (w.since_ms + (int64_t)b * w.bucket_ms)));
	for (int s = 0; s < SERIES_N; s++) {
		json_t *pts = json_array();

		for (size_t b = 0; b < w.nbuckets; b++)
			json_array_append_new(pts, json_integer(
			    (json_int_t)w.counts[s][b]));
		json_object_set_new(series, admin_series_names[s], pts);
		json_object_set_new(totals, admin_series_names[s],
		    json_integer((json_int_t)w.totals[s]));
	}
	o = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
	    "range", sq.range == DASHBOARD_RANGE_1H ? "1h" :
	    sq.range == DASHBOARD_RANGE_24H ? "24h" : "7d",
	    "since_ms", (json_int_t)w.since_ms, "until_ms", (json_int_t)until,
	    "bucket_s", (json_int_t)(sq.bucket_ms / 1000),
	    "buckets", buckets, "series", series, "totals", totals,
	    "top", top);
	/* the top lists look at the newest STORE_TOP_SAMPLE events only */
	json_object_set_new(o, "top_sample", json_integer(STORE_TOP_SAMPLE));
	admin_reply(r->req, 200, o);
	json_decref(o);
}
