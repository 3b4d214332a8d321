/*
 * admin_routes - one handler per route of docs/admin-api.md. Handlers
 * validate with admin_parse.c, act through the engine (which commits to
 * the store before returning), then log one info line naming the peer and
 * append an event (listener "admin") for every state change.
 *
 * GET /check may wait for DNSBL answers: its request is answered from
 * the engine's callback, and cancelled if the client goes away first
 * (evhttp frees the request then, so nothing may touch it afterwards).
 */
#include <event2/http.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/slice.h"
#include "listen/admin_int.h"

struct admin_check {
	struct admin_server		*as;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	struct mw_arena			*a;
	struct engine_pending		*pending;
	bool				 in_call;	/* inside engine_explain */
	bool				 answered;
	struct admin_check		*prev, *next;
};

static const char *
admin_list_name(enum store_list list)
{
	return list == STORE_LIST_ALLOW ? "allow" : "deny";
}

static int64_t
admin_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The event every admin change leaves in the history. */
static void
admin_record(struct admin_req *r, const struct mw_cidr *net,
    const char *verdict, const char *reason)
{
	struct store_event ev = {
		.time_ms = admin_now_ms(), .addr = net->addr,
		.listener = "admin", .verdict = verdict, .reason = reason,
		.account = "", .sender = "", .recipient = "",
	};
	char	 action[32], target[MW_CIDR_STRLEN];
	size_t	 i;

	store_event_append(engine_store(r->as->e), &ev);
	/* The audit log names the action as the event does: "ban",
	   "unban", "allow_add", ... */
	for (i = 0; verdict[i] != '\0' && i + 1 < sizeof(action); i++)
		action[i] = (char)(verdict[i] >= 'A' && verdict[i] <= 'Z' ?
		    verdict[i] - 'A' + 'a' : verdict[i]);
	action[i] = '\0';
	admin_audit(r, action, mw_cidr_format(net, target, sizeof(target)),
	    reason);
}

/* --- [geoip] ------------------------------------------------------------ */

void
admin_geoip_open(struct admin_server *as, const struct cfg *cfg)
{
	struct mw_geoip	*g;
	char		*error = NULL;

	if (cfg->geoip.database[0] == '\0') {
		if (as->geo != NULL)
			log_info("admin: geoip: off");
		mw_geoip_close(&as->geo);
		return;
	}
	if (mw_geoip_open(cfg->geoip.database, &g, &error) < 0) {
		log_warn("admin: geoip: %s %s; %s", cfg->geoip.database, error,
		    as->geo != NULL ? "keeping the database already open" :
		    "countries are not shown");
		free(error);
		return;
	}
	mw_geoip_close(&as->geo);
	as->geo = g;
	log_info("admin: geoip: countries from %s", cfg->geoip.database);
}

json_t *
admin_ban_json_geo(struct admin_server *as, const struct store_ban *b)
{
	json_t	*o = admin_ban_json(b);
	char	 cc[MW_GEOIP_CC_LEN];

	if (mw_geoip_country(as->geo, &b->net.addr, cc))
		json_object_set_new(o, "country", json_string(cc));
	return o;
}

/* --- GET /api/v1/status ------------------------------------------------- */

void
admin_route_status(struct admin_req *r)
{
	json_t *o = admin_status_json(r->as);

	admin_reply(r->req, 200, o);
	json_decref(o);
}

json_t *
admin_status_json(struct admin_server *as)
{
	struct engine_stats	 es;
	struct store_stats	 ss;
	struct dnsbl		*d = engine_dnsbl(as->e);
	json_t			*o, *zones = json_array();
	int64_t			 now = (int64_t)time(NULL);
	int64_t			 started;

	engine_get_stats(as->e, &es);
	store_get_stats(engine_store(as->e), &ss);
	started = es.started != 0 ? es.started : as->started;
	for (size_t i = 0; i < as->cfg->dnsbl.nzones; i++)
		if (as->cfg->dnsbl.zones[i].enabled)
			json_array_append_new(zones, admin_json_text(
			    as->cfg->dnsbl.zones[i].zone));
	o = json_pack("{s:s, s:I, s:I, s:I, s:o}",
	    "version", MW_VERSION,
	    "pid", (json_int_t)getpid(),
	    "started", (json_int_t)started,
	    "uptime", (json_int_t)(now > started ? now - started : 0),
	    "config", admin_json_text(as->hooks.config_path));
	json_object_set_new(o, "engine", json_pack(
	    "{s:I, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I},"
	    " s:I, s:I, s:I, s:I}",
	    "decisions", (json_int_t)es.decisions,
	    "verdicts",
	    "DUNNO", (json_int_t)es.verdicts[VERDICT_DUNNO],
	    "REJECT", (json_int_t)es.verdicts[VERDICT_REJECT],
	    "DEFER", (json_int_t)es.verdicts[VERDICT_DEFER],
	    "WARN", (json_int_t)es.verdicts[VERDICT_WARN],
	    "by",
	    "default", (json_int_t)es.by[VERDICT_BY_DEFAULT],
	    "allow", (json_int_t)es.by[VERDICT_BY_ALLOW],
	    "deny", (json_int_t)es.by[VERDICT_BY_DENY],
	    "ban", (json_int_t)es.by[VERDICT_BY_BAN],
	    "dnsbl", (json_int_t)es.by[VERDICT_BY_DNSBL],
	    "error", (json_int_t)es.by[VERDICT_BY_ERROR],
	    "dnsbl_fail_open", (json_int_t)es.dnsbl_fail_open,
	    "bans_active", (json_int_t)es.bans_active,
	    "allow_entries", (json_int_t)es.allow_entries,
	    "deny_entries", (json_int_t)es.deny_entries));
	if (d != NULL) {
		struct dnsbl_stats ds;

		dnsbl_get_stats(d, &ds);
		json_object_set_new(o, "dnsbl", json_pack(
		    "{s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		    "enabled", 1, "zones", zones,
		    "queries", (json_int_t)ds.queries,
		    "listed", (json_int_t)ds.listed,
		    "not_listed", (json_int_t)ds.not_listed,
		    "timeouts", (json_int_t)ds.timeouts,
		    "failures", (json_int_t)ds.failures,
		    "refusals", (json_int_t)ds.refusals,
		    "cache_hits", (json_int_t)ds.cache_hits,
		    "cache_misses", (json_int_t)ds.cache_misses,
		    "cache_entries", (json_int_t)ds.cache_entries));
	} else {
		json_object_set_new(o, "dnsbl", json_pack("{s:b, s:o}",
		    "enabled", 0, "zones", zones));
	}
	json_object_set_new(o, "store", json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}",
	    "backend", admin_json_text(as->cfg->store.backend),
	    "events_written", (json_int_t)ss.events_written,
	    "events_dropped", (json_int_t)ss.events_dropped,
	    "write_errors", (json_int_t)ss.write_errors,
	    "commits", (json_int_t)ss.commits,
	    "commit_us", (json_int_t)ss.commit_us));
	{
		struct engine_login_stats ls;

		engine_login_get_stats(as->e, &ls);
		json_object_set_new(o, "login", json_pack("{s:I, s:I, s:I, "
		    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:I}",
		    "checks", (json_int_t)ls.checks,
		    "tarpits", (json_int_t)ls.tarpits,
		    "rejects", (json_int_t)ls.rejects,
		    "failures", (json_int_t)ls.failures,
		    "successes", (json_int_t)ls.successes,
		    "repeats", (json_int_t)ls.repeats,
		    "stale", (json_int_t)ls.stale,
		    "bans", (json_int_t)ls.bans,
		    "alerts", (json_int_t)ls.alerts,
		    "alerts_repeated", (json_int_t)ls.alerts_repeated,
		    "addresses", (json_int_t)ls.addresses,
		    "networks", (json_int_t)ls.networks,
		    "accounts", (json_int_t)ls.accounts,
		    "pairs", (json_int_t)ls.pairs,
		    "evicted", (json_int_t)ls.evicted,
		    "bytes", (json_int_t)ls.bytes));
	}
	if (as->hooks.status != NULL)
		as->hooks.status(as->hooks.ctx, o);
	if (json_object_get(o, "listeners") == NULL)
		json_object_set_new(o, "listeners", json_object());
	return o;
}

/* --- /api/v1/bans ------------------------------------------------------- */

struct admin_ban_walk {
	struct admin_server		*as;
	const struct admin_bans_query	*q;
	json_t				*bans;
	size_t				 total;
};

static bool
admin_ban_walk_fn(void *ctx, const struct store_ban *b)
{
	struct admin_ban_walk *w = ctx;

	if (w->q->has_source && b->source != w->q->source)
		return true;
	if (w->total >= w->q->offset && w->total - w->q->offset < w->q->limit)
		json_array_append_new(w->bans, admin_ban_json_geo(w->as, b));
	w->total++;
	return true;
}

static void
admin_bans_get(struct admin_req *r)
{
	struct admin_bans_query	 q;
	struct admin_ban_walk	 w = { .as = r->as, .q = &q };
	const char		*error;
	json_t			*o;

	if (admin_parse_bans_query(r->query, r->a, &q, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	w.bans = json_array();
	engine_ban_walk(r->as->e, admin_ban_walk_fn, &w);
	o = json_pack("{s:I, s:o}", "total", (json_int_t)w.total,
	    "bans", w.bans);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

static void
admin_bans_post(struct admin_req *r)
{
	struct admin_ban_req	 br;
	struct store_ban	 ban;
	const char		*error, *what;
	char			 net[MW_CIDR_STRLEN], dur[32];
	json_t			*o;

	if (admin_parse_ban_body(r->body, r->body_len, r->a, &br, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	if (!br.has_duration)
		br.duration = r->as->cfg->lists.default_ban;
	if (engine_ban_add(r->as->e, &br.net, br.duration, STORE_BAN_MANUAL,
	    br.reason, &ban, &error) < 0) {
		admin_reply_error(r->req, 500, error);
		return;
	}
	mw_cidr_format(&br.net, net, sizeof(net));
	what = br.duration == 0 ? "permanently" : mw_arena_printf(r->a,
	    "for %s", mw_format_duration(br.duration, dur, sizeof(dur)));
	log_info("admin: ban %s %s by %s: %s", net, what, r->peer, br.reason);
	admin_record(r, &br.net, "BAN", mw_arena_printf(r->a, "%s %s by %s: %s",
	    net, what, r->peer, br.reason));
	o = json_pack("{s:o}", "ban", admin_ban_json_geo(r->as, &ban));
	admin_reply(r->req, 201, o);
	json_decref(o);
}

static void
admin_bans_delete(struct admin_req *r)
{
	struct mw_cidr	 net;
	const char	*error;
	char		 text[MW_CIDR_STRLEN];
	json_t		*o;
	int		 ret;

	if (admin_parse_net_query(r->query, "address", false, r->a, &net,
	    &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	mw_cidr_format(&net, text, sizeof(text));
	if ((ret = engine_ban_del(r->as->e, &net, &error)) < 0) {
		admin_reply_error(r->req, 500, error);
		return;
	}
	if (ret == 0) {
		admin_reply_error(r->req, 404, mw_arena_printf(r->a, "no such "
		    "ban: %s is not banned (mailward ban list shows the bans; a "
		    "network ban is removed by its network)", text));
		return;
	}
	log_info("admin: unban %s by %s", text, r->peer);
	admin_record(r, &net, "UNBAN", mw_arena_printf(r->a, "%s by %s", text,
	    r->peer));
	o = json_pack("{s:s}", "deleted", text);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

void
admin_route_bans(struct admin_req *r)
{
	switch (r->method) {
	case EVHTTP_REQ_GET: admin_bans_get(r); break;
	case EVHTTP_REQ_POST: admin_bans_post(r); break;
	default: admin_bans_delete(r); break;
	}
}

/* --- /api/v1/lists/LIST ------------------------------------------------- */

static json_t *
admin_entry_json(const struct engine_list_entry *le)
{
	char net[MW_CIDR_STRLEN];

	return json_pack("{s:s, s:o, s:I, s:s}",
	    "network", mw_cidr_format(&le->e.net, net, sizeof(net)),
	    "comment", admin_json_text(le->e.comment),
	    "created", (json_int_t)le->e.created,
	    "origin", le->origin == ENGINE_LIST_CONFIG ? "config" : "store");
}

static bool
admin_list_walk_fn(void *ctx, const struct engine_list_entry *le)
{
	json_array_append_new(ctx, admin_entry_json(le));
	return true;
}

struct admin_list_find {
	const struct mw_cidr	*net;
	enum engine_list_origin	 origin;
	bool			 found;
	const char		*comment;	/* in the arena */
	struct mw_arena		*a;
};

static bool
admin_list_find_fn(void *ctx, const struct engine_list_entry *le)
{
	struct admin_list_find *f = ctx;

	if (le->origin != f->origin || le->e.net.bits != f->net->bits ||
	    mw_addr_cmp(&le->e.net.addr, &f->net->addr) != 0)
		return true;
	f->found = true;
	f->comment = mw_arena_strdup(f->a, le->e.comment != NULL ?
	    le->e.comment : "");
	return false;
}

static void
admin_list_post(struct admin_req *r, enum store_list list)
{
	struct admin_list_req	 lr;
	struct engine_list_entry le;
	const char		*error;
	char			 net[MW_CIDR_STRLEN];
	json_t			*o;

	if (admin_parse_list_body(r->body, r->body_len, r->a, &lr, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	if (engine_list_add(r->as->e, list, &lr.net, lr.comment, &error) < 0) {
		admin_reply_error(r->req, 500, error);
		return;
	}
	mw_cidr_format(&lr.net, net, sizeof(net));
	log_info("admin: %s add %s by %s%s%s", admin_list_name(list), net,
	    r->peer, lr.comment[0] != '\0' ? ": " : "", lr.comment);
	admin_record(r, &lr.net, list == STORE_LIST_ALLOW ? "ALLOW_ADD" :
	    "DENY_ADD", mw_arena_printf(r->a, "%s by %s%s%s", net, r->peer,
	    lr.comment[0] != '\0' ? ": " : "", lr.comment));
	le = (struct engine_list_entry){ .origin = ENGINE_LIST_STORE,
	    .e = { .net = lr.net, .list = list, .comment = lr.comment,
	    .created = (int64_t)time(NULL) } };
	o = json_pack("{s:o}", "entry", admin_entry_json(&le));
	admin_reply(r->req, 201, o);
	json_decref(o);
}

static void
admin_list_delete(struct admin_req *r, enum store_list list)
{
	struct mw_cidr		 net;
	struct admin_list_find	 f = { .net = &net, .a = r->a };
	const char		*error;
	char			 text[MW_CIDR_STRLEN];
	json_t			*o;
	int			 ret;

	if (admin_parse_net_query(r->query, "network", false, r->a, &net,
	    &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	mw_cidr_format(&net, text, sizeof(text));
	if ((ret = engine_list_del(r->as->e, list, &net, &error)) < 0) {
		f.origin = ENGINE_LIST_CONFIG;
		engine_list_walk(r->as->e, list, admin_list_find_fn, &f);
		if (f.found)
			admin_reply_error(r->req, 409, mw_arena_printf(r->a,
			    "%s is defined in the configuration file at %s: "
			    "remove it there, then run mailward reload", text,
			    f.comment));
		else
			admin_reply_error(r->req, 500, error);
		return;
	}
	if (ret == 0) {
		admin_reply_error(r->req, 404, mw_arena_printf(r->a, "%s is not "
		    "in the %s list (mailward %s list shows it; give the network "
		    "exactly as listed)", text, admin_list_name(list),
		    admin_list_name(list)));
		return;
	}
	log_info("admin: %s del %s by %s", admin_list_name(list), text, r->peer);
	admin_record(r, &net, list == STORE_LIST_ALLOW ? "ALLOW_DEL" :
	    "DENY_DEL", mw_arena_printf(r->a, "%s by %s", text, r->peer));
	o = json_pack("{s:s}", "deleted", text);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

void
admin_route_list(struct admin_req *r, enum store_list list)
{
	json_t		*entries, *o;

	switch (r->method) {
	case EVHTTP_REQ_POST:
		admin_list_post(r, list);
		return;
	case EVHTTP_REQ_DELETE:
		admin_list_delete(r, list);
		return;
	default:
		break;
	}
	if (r->query != NULL && r->query[0] != '\0') {
		admin_reply_error(r->req, 400, "GET on a list takes no query "
		    "parameters");
		return;
	}
	entries = json_array();
	engine_list_walk(r->as->e, list, admin_list_walk_fn, entries);
	o = json_pack("{s:s, s:o}", "list", admin_list_name(list),
	    "entries", entries);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

/* --- GET /api/v1/check -------------------------------------------------- */

static json_t *
admin_list_step(const char *name, bool matched,
    const struct engine_list_entry *le)
{
	char	 net[MW_CIDR_STRLEN];

	if (!matched)
		return json_pack("{s:s, s:b}", "step", name, "matched", 0);
	return json_pack("{s:s, s:b, s:s, s:o, s:s}", "step", name,
	    "matched", 1,
	    "network", mw_cidr_format(&le->e.net, net, sizeof(net)),
	    "comment", admin_json_text(le->e.comment),
	    "origin", le->origin == ENGINE_LIST_CONFIG ? "config" : "store");
}

static json_t *
admin_dnsbl_step(struct admin_server *as, const struct engine_explain *x)
{
	json_t	*zones, *z, *answers;
	char	 ip[16];

	if (!x->dnsbl_checked)
		return json_pack("{s:s, s:b, s:s}", "step", "dnsbl",
		    "checked", 0, "why", x->allowed || x->denied || x->banned ?
		    "decided by an earlier step" : engine_dnsbl(as->e) == NULL ?
		    "DNSBL checks are disabled" : "no zone applies");
	zones = json_array();
	for (size_t i = 0; i < x->dnsbl.nzones; i++) {
		const struct dnsbl_zone_result *zr = &x->dnsbl.zones[i];

		answers = json_array();
		for (size_t k = 0; k < zr->nanswers && k < DNSBL_MAX_ANSWERS;
		    k++) {
			snprintf(ip, sizeof(ip), "%u.%u.%u.%u",
			    (unsigned)(zr->answers[k] >> 24),
			    (unsigned)(zr->answers[k] >> 16 & 0xff),
			    (unsigned)(zr->answers[k] >> 8 & 0xff),
			    (unsigned)(zr->answers[k] & 0xff));
			json_array_append_new(answers, json_string(ip));
		}
		z = json_pack("{s:o, s:o, s:s, s:o, s:I, s:b, s:I}",
		    "zone", admin_json_text(zr->zone != NULL ? zr->zone->zone : ""),
		    "name", admin_json_text(zr->zone != NULL ? zr->zone->name : ""),
		    "status", dnsbl_status_name(zr->status),
		    "answers", answers,
		    "weight", (json_int_t)zr->weight,
		    "cached", zr->cached ? 1 : 0,
		    "ttl", (json_int_t)zr->ttl);
		json_object_set_new(z, "class", zr->status == DNSBL_LISTED ?
		    json_string(dnsbl_class_name(zr->klass)) : json_null());
		json_array_append_new(zones, z);
	}
	return json_pack("{s:s, s:b, s:I, s:I, s:b, s:o}", "step", "dnsbl",
	    "checked", 1, "score", (json_int_t)x->dnsbl.score,
	    "threshold", (json_int_t)x->threshold,
	    "degraded", x->dnsbl.degraded ? 1 : 0, "zones", zones);
}

/* The login guard's view of the address (its windows, escalation). */
static json_t *
admin_login_explain_json(struct admin_server *as, const struct mw_addr *a)
{
	struct engine_login_explain	 lx;
	char				 net[MW_CIDR_STRLEN];

	engine_login_explain(as->e, a, &lx);
	return json_pack("{s:I, s:I, s:I, s:o, s:s, s:I, s:I, s:o}",
	    "window", (json_int_t)lx.window_s,
	    "failures", (json_int_t)lx.failures,
	    "accounts", (json_int_t)lx.accounts,
	    "last_seen", lx.last_seen != 0 ?
		json_integer((json_int_t)lx.last_seen) : json_null(),
	    "network", mw_cidr_format(&lx.network, net, sizeof(net)),
	    "network_failures", (json_int_t)lx.net_failures,
	    "network_accounts", (json_int_t)lx.net_accounts,
	    "escalation", lx.has_escalation ? json_pack("{s:I, s:I, s:I}",
		"level", (json_int_t)lx.escalation.level,
		"bans", (json_int_t)lx.escalation.bans,
		"last_ban", (json_int_t)lx.escalation.last_ban) : json_null());
}

static json_t *
admin_explain_json(struct admin_server *as, const struct engine_explain *x)
{
	char	 addr[MW_ADDR_STRLEN], cc[MW_GEOIP_CC_LEN];
	json_t	*steps = json_array(), *ban, *o;

	json_array_append_new(steps, admin_list_step("allow", x->allowed,
	    &x->allow));
	json_array_append_new(steps, admin_list_step("deny", x->denied,
	    &x->deny));
	if (x->banned) {
		ban = json_pack("{s:s, s:b, s:o}", "step", "ban", "matched", 1,
		    "ban", admin_ban_json_geo(as, &x->ban));
	} else {
		ban = json_pack("{s:s, s:b}", "step", "ban", "matched", 0);
	}
	json_array_append_new(steps, ban);
	json_array_append_new(steps, admin_dnsbl_step(as, x));
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
	    "address", mw_addr_format(&x->addr, addr, sizeof(addr)),
	    "verdict", verdict_kind_name(x->verdict.kind),
	    "decided_by", verdict_by_name(x->verdict.by),
	    "status", x->verdict.status != NULL ?
		json_string(x->verdict.status) : json_null(),
	    "text", x->verdict.text != NULL ?
		admin_json_text(x->verdict.text) : json_null(),
	    "reason", admin_json_text(x->verdict.reason),
	    "steps", steps,
	    "login", admin_login_explain_json(as, &x->addr));
	/* null without a database or when it does not know the address */
	json_object_set_new(o, "country", mw_geoip_country(as->geo, &x->addr,
	    cc) ? json_string(cc) : json_null());
	return o;
}

static void
admin_check_unlink(struct admin_check *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->as->checks = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void
admin_check_free(struct admin_check *c)
{
	admin_check_unlink(c);
	mw_arena_free(&c->a);
	free(c);
}

static void
admin_check_done(void *ctx, const struct engine_explain *x)
{
	struct admin_check	*c = ctx;
	json_t			*o = admin_explain_json(c->as, x);

	c->pending = NULL;	/* the engine frees its handle after this */
	c->answered = true;
	/* Before the reply: a closing connection calls its closecb. */
	evhttp_connection_set_closecb(c->evcon, NULL, NULL);
	admin_reply(c->req, 200, o);
	json_decref(o);
	if (!c->in_call)
		admin_check_free(c);
}

static void
admin_check_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct admin_check *c = arg;

	(void)evcon;
	log_debug("admin: check: the client went away; lookup cancelled");
	engine_cancel(&c->pending);
	/* libevent 2.1 detaches an unanswered request from a connection that
	   failed (EOF, timeout) and leaves it to us; one still attached is
	   freed with the connection right after this callback. (2.1.12 does
	   not read while a request waits, so this runs only on shutdown
	   paths of newer versions.) */
	if (evhttp_request_get_connection(c->req) == NULL)
		evhttp_request_free(c->req);
	admin_check_free(c);
}

void
admin_checks_cancel_all(struct admin_server *as)
{
	while (as->checks != NULL) {
		struct admin_check *c = as->checks;

		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
		engine_cancel(&c->pending);
		admin_check_free(c);
	}
}

void
admin_route_check(struct admin_req *r)
{
	struct admin_check	*c;
	struct engine_pending	*p;
	struct mw_cidr		 net;
	const char		*error;

	if (admin_parse_net_query(r->query, "address", true, r->a, &net,
	    &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	c = mw_calloc(1, sizeof(*c));
	c->as = r->as;
	c->req = r->req;
	c->evcon = evhttp_request_get_connection(r->req);
	c->a = r->a;	/* the check owns the arena now */
	r->a = NULL;
	c->next = r->as->checks;
	if (c->next != NULL)
		c->next->prev = c;
	r->as->checks = c;
	c->in_call = true;
	p = engine_explain(r->as->e, &net.addr, c->a, admin_check_done, c);
	c->in_call = false;
	if (p == NULL) {	/* answered from memory and the DNSBL cache */
		MW_ASSERT(c->answered);
		admin_check_free(c);
		return;
	}
	c->pending = p;
	evhttp_connection_set_closecb(c->evcon, admin_check_on_close, c);
}

/* --- GET /api/v1/events ------------------------------------------------- */

static bool
admin_event_fn(void *ctx, const struct store_event *ev)
{
	char	 addr[MW_ADDR_STRLEN];

	json_array_append_new(ctx, json_pack(
	    "{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
	    "time_ms", (json_int_t)ev->time_ms,
	    "address", mw_addr_format(&ev->addr, addr, sizeof(addr)),
	    "listener", admin_json_text(ev->listener),
	    "verdict", admin_json_text(ev->verdict),
	    "reason", admin_json_text(ev->reason),
	    "account", admin_json_text(ev->account),
	    "sender", admin_json_text(ev->sender),
	    "recipient", admin_json_text(ev->recipient),
	    "count", (json_int_t)(ev->count > 0 ? ev->count : 1)));
	return true;
}

void
admin_route_events(struct admin_req *r)
{
	struct store_event_query q;
	struct store		*st = engine_store(r->as->e);
	const char		*error;
	json_t			*events, *o;

	if (admin_parse_events_query(r->query, r->a, &q, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	engine_flush_pending(r->as->e);	/* what was decided before is */
	store_event_sync(st);		/* visible */
	events = json_array();
	if (store_event_query(st, &q, admin_event_fn, events) < 0) {
		json_decref(events);
		log_error("admin: events: %s", store_last_error(st));
		admin_reply_error(r->req, 500, "the event history could not be "
		    "read (see the daemon log)");
		return;
	}
	o = json_pack("{s:o}", "events", events);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

/* --- POST /api/v1/reload ------------------------------------------------ */

void
admin_route_reload(struct admin_req *r)
{
	struct admin_server	*as = r->as;
	const char		*error;
	char			*cfg_error = NULL;
	json_t			*o;

	if (admin_parse_empty_body(r->body, r->body_len, r->a, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	if (as->hooks.reload == NULL) {
		admin_reply_error(r->req, 503, "this server cannot reload its "
		    "configuration");
		return;
	}
	/* The hook calls admin_server_reload: as->cfg changes under us. */
	if (as->hooks.reload(as->hooks.ctx, &cfg_error) < 0) {
		log_info("admin: reload by %s: refused, the running configuration "
		    "stays", r->peer);
		admin_reply_error(r->req, 400, mw_arena_printf(r->a, "%s has "
		    "errors; the running configuration stays in force:\n%s",
		    as->hooks.config_path, cfg_error != NULL ? cfg_error :
		    "(no detail)"));
		free(cfg_error);
		return;
	}
	log_info("admin: reload by %s", r->peer);
	admin_audit(r, "reload", as->hooks.config_path, "");
	o = json_pack("{s:b}", "reloaded", 1);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

/* --- login guard: /api/v1/alerts, /api/v1/accounts ------------------------ */

#define ADMIN_ACCOUNT_RECENT	20	/* events and alerts in GET /accounts/NAME */

static const char *
jstr_or(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static bool
admin_alert_fn(void *ctx, const struct store_alert *al)
{
	json_array_append_new(ctx, admin_alert_json(al));
	return true;
}

void
admin_route_alerts(struct admin_req *r)
{
	struct store_alert_query q;
	struct store		*st = engine_store(r->as->e);
	const char		*error;
	json_t			*alerts, *o;

	if (admin_parse_alerts_query(r->query, r->a, &q, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	alerts = json_array();
	if (store_alert_query(st, &q, admin_alert_fn, alerts) < 0) {
		json_decref(alerts);
		log_error("admin: alerts: %s", store_last_error(st));
		admin_reply_error(r->req, 500, "the alerts could not be read "
		    "(see the daemon log)");
		return;
	}
	o = json_pack("{s:o}", "alerts", alerts);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

void
admin_route_alert_ack(struct admin_req *r, const char *tail)
{
	struct store_alert_query q = { .all = true, .limit = 1 };
	struct store		*st = engine_store(r->as->e);
	const char		*error;
	json_t			*found, *o;
	int			 ret;

	if (admin_parse_alert_ack_path(tail, r->a, &q.id, &error) < 0) {
		admin_reply_error(r->req, 404, error);
		return;
	}
	if (admin_parse_empty_body(r->body, r->body_len, r->a, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	ret = engine_alert_ack(r->as->e, q.id, r->peer, r->a, &error);
	if (ret == -2) {
		admin_reply_error(r->req, 409, error);
		return;
	}
	if (ret < 0) {
		admin_reply_error(r->req, 500, error);
		return;
	}
	if (ret == 0) {
		admin_reply_error(r->req, 404, mw_arena_printf(r->a, "no such "
		    "alert: %lld (mailward alerts --all lists them)",
		    (long long)q.id));
		return;
	}
	found = json_array();
	if (store_alert_query(st, &q, admin_alert_fn, found) < 0 ||
	    json_array_size(found) != 1) {
		json_decref(found);
		admin_reply_error(r->req, 500, "the alert was acknowledged but "
		    "could not be read back (see the daemon log)");
		return;
	}
	log_info("admin: alert %lld acknowledged by %s", (long long)q.id,
	    r->peer);
	{
		struct store_event ev = {
			.time_ms = admin_now_ms(), .listener = "admin",
			.verdict = "ALERT_ACK",
			.reason = mw_arena_printf(r->a, "alert %lld by %s",
			    (long long)q.id, r->peer),
			.account = jstr_or(json_array_get(found, 0), "account"),
			.sender = "", .recipient = "",
		};

		if (mw_addr_parse(jstr_or(json_array_get(found, 0), "address"),
		    &ev.addr) < 0)
			memset(&ev.addr, 0, sizeof(ev.addr));
		store_event_append(st, &ev);
		admin_audit(r, "alert_ack", mw_arena_printf(r->a, "alert %lld",
		    (long long)q.id), ev.account);
	}
	o = json_pack("{s:O}", "alert", json_array_get(found, 0));
	json_decref(found);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

static json_t *
admin_time_or_null(int64_t t)
{
	return t != 0 ? json_integer((json_int_t)t) : json_null();
}

struct admin_accounts {
	struct engine_account	*v;
	size_t			 n, cap;
	struct mw_arena		*a;
};

static bool
admin_accounts_fn(void *ctx, const struct engine_account *acc)
{
	struct admin_accounts *w = ctx;

	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 64 : mw_mul_size(w->cap, 2);
		w->v = mw_realloc(w->v, mw_mul_size(w->cap, sizeof(*w->v)));
	}
	w->v[w->n] = *acc;
	w->v[w->n].account = mw_arena_strdup(w->a, acc->account);
	w->n++;
	return true;
}

static int
admin_accounts_cmp(const void *x, const void *y)
{
	const struct engine_account *a = x, *b = y;

	if (a->failures != b->failures)
		return a->failures > b->failures ? -1 : 1;
	return strcmp(a->account, b->account);
}

static bool
admin_count_fn(void *ctx, const struct store_alert *al)
{
	(void)al;
	(*(size_t *)ctx)++;
	return true;
}

void
admin_route_accounts(struct admin_req *r)
{
	struct admin_accounts	 w = { .a = r->a };
	struct store		*st = engine_store(r->as->e);
	const char		*error;
	size_t			 limit;
	json_t			*list, *o;

	if (admin_parse_accounts_query(r->query, r->a, &limit, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	engine_account_walk(r->as->e, admin_accounts_fn, &w);
	if (w.n > 0)
		qsort(w.v, w.n, sizeof(*w.v), admin_accounts_cmp);
	list = json_array();
	for (size_t i = 0; i < w.n && i < limit; i++) {
		const struct engine_account *acc = &w.v[i];
		struct store_alert_query q = { .account = acc->account,
		    .limit = ADMIN_LOGIN_LIMIT_MAX };
		size_t	 open = 0;
		int64_t	 since;
		int	 weak = store_weak_get(st, acc->account, &since);

		if (weak < 0 ||
		    store_alert_query(st, &q, admin_count_fn, &open) < 0) {
			free(w.v);
			json_decref(list);
			log_error("admin: accounts: %s", store_last_error(st));
			admin_reply_error(r->req, 500, "the store could not be "
			    "read (see the daemon log)");
			return;
		}
		json_array_append_new(list, json_pack("{s:o, s:I, s:I, s:b, "
		    "s:o, s:o, s:o, s:b, s:I}",
		    "account", admin_json_text(acc->account),
		    "failures", (json_int_t)acc->failures,
		    "addresses", (json_int_t)acc->addresses,
		    "under_attack", acc->under_attack ? 1 : 0,
		    "attacked_since", admin_time_or_null(acc->attacked_since),
		    "last_failure", admin_time_or_null(acc->last_failure),
		    "last_success", admin_time_or_null(acc->last_success),
		    "weak_password", weak > 0 ? 1 : 0,
		    "open_alerts", (json_int_t)open));
	}
	free(w.v);
	o = json_pack("{s:I, s:o}", "window",
	    (json_int_t)r->as->cfg->login.window, "accounts", list);
	admin_reply(r->req, 200, o);
	json_decref(o);
}

static bool
admin_net_fn(void *ctx, const struct store_login_net *n)
{
	char net[MW_CIDR_STRLEN];

	json_array_append_new(ctx, json_pack("{s:s, s:I, s:I, s:I}",
	    "network", mw_cidr_format(&n->net, net, sizeof(net)),
	    "first_success", (json_int_t)n->first_success,
	    "last_success", (json_int_t)n->last_success,
	    "successes", (json_int_t)n->successes));
	return true;
}

void
admin_route_account(struct admin_req *r, const char *tail)
{
	struct store		*st = engine_store(r->as->e);
	struct engine_account	 acc;
	struct store_event_query eq = { .limit = ADMIN_ACCOUNT_RECENT };
	struct store_alert_query aq = { .all = true,
	    .limit = ADMIN_ACCOUNT_RECENT };
	const char		*account, *error;
	json_t			*nets, *fails, *oks, *alerts, *o;
	bool			 seen;
	int64_t			 since = 0;
	int			 weak;

	if (admin_parse_account_path(tail, r->a, &account, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		return;
	}
	/* As the login guard keys it: "Alice" is "alice". */
	{
		char *folded = mw_arena_alloc(r->a, ENGINE_ACCOUNT_MAX + 1);

		account = engine_account_fold(account, folded,
		    ENGINE_ACCOUNT_MAX + 1);
	}
	if (r->query != NULL && r->query[0] != '\0') {
		admin_reply_error(r->req, 400, "GET on an account takes no "
		    "query parameters");
		return;
	}
	seen = engine_account_get(r->as->e, account, &acc);
	engine_flush_pending(r->as->e);	/* what was reported before is */
	store_event_sync(st);		/* visible */
	nets = json_array();
	fails = json_array();
	oks = json_array();
	alerts = json_array();
	eq.account = aq.account = account;
	eq.verdict = "AUTH_FAIL";
	if (store_login_net_query(st, account, 0, admin_net_fn, nets) < 0 ||
	    store_event_query(st, &eq, admin_event_fn, fails) < 0 ||
	    (eq.verdict = "AUTH_OK",
	    store_event_query(st, &eq, admin_event_fn, oks) < 0) ||
	    store_alert_query(st, &aq, admin_alert_fn, alerts) < 0 ||
	    (weak = store_weak_get(st, account, &since)) < 0) {
		json_decref(nets);
		json_decref(fails);
		json_decref(oks);
		json_decref(alerts);
		log_error("admin: account: %s", store_last_error(st));
		admin_reply_error(r->req, 500, "the account history could not be "
		    "read (see the daemon log)");
		return;
	}
	seen = seen || json_array_size(nets) > 0 || json_array_size(fails) > 0 ||
	    json_array_size(oks) > 0 || json_array_size(alerts) > 0;
	o = json_pack("{s:o, s:b, s:I, s:b, s:o, s:{s:I, s:I}, s:o, s:o, "
	    "s:o, s:o, s:o, s:o}",
	    "account", admin_json_text(account),
	    "seen", seen ? 1 : 0,
	    "window", (json_int_t)acc.window_s,
	    "under_attack", acc.under_attack ? 1 : 0,
	    "attacked_since", admin_time_or_null(acc.attacked_since),
	    "failures", "count", (json_int_t)acc.failures,
	    "addresses", (json_int_t)acc.addresses,
	    "last_failure", admin_time_or_null(acc.last_failure),
	    "last_success", admin_time_or_null(acc.last_success),
	    "networks", nets,
	    "recent_failures", fails,
	    "recent_successes", oks,
	    "alerts", alerts);
	json_object_set_new(o, "weak_password", weak > 0 ?
	    json_pack("{s:b, s:I}", "flagged", 1, "since", (json_int_t)since) :
	    json_pack("{s:b}", "flagged", 0));
	admin_reply(r->req, 200, o);
	json_decref(o);
}
