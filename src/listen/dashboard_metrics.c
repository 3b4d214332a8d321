/*
 * dashboard_metrics - GET /metrics in the Prometheus text exposition
 * format (version 0.0.4), on the dashboard listener, without a session
 * ([dashboard] metrics = no turns it off; docs/dashboard.md).
 *
 * The numbers are those of GET /api/v1/status (one source for the CLI,
 * the dashboard and monitoring), renamed to Prometheus conventions:
 * counters end in _total, labels for the verdict, the deciding step, the
 * listener. Members other modules add to /status later (objects of
 * integers) appear as untyped mailward_<object>_<member> until they get
 * a proper name here.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <string.h>

#include "listen/admin_int.h"
#include "listen/dashboard_int.h"

static void
dm_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
dm_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, json_int_t v)
{
	dm_head(b, name, type, help);
	evbuffer_add_printf(b, "%s %lld\n", name, (long long)v);
}

static json_int_t
dm_int(json_t *o, const char *path)
{
	char	 key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return 0;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_integer_value(json_object_get(o, path));
}

/* Every integer member of o as name{label="member"}. */
static void
dm_labelled(struct evbuffer *b, json_t *o, const char *name, const char *type,
    const char *label, const char *help)
{
	const char	*k;
	json_t		*v;

	dm_head(b, name, type, help);
	json_object_foreach(o, k, v)
		if (json_is_integer(v))
			evbuffer_add_printf(b, "%s{%s=\"%s\"} %lld\n", name, label,
			    k, (long long)json_integer_value(v));
}

/* A metric-name-safe copy of s (letters, digits, '_'). */
static void
dm_name(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		out[i] = (char)((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ? s[i] : '_');
	out[i] = '\0';
}

static void
dm_listeners(struct evbuffer *b, json_t *listeners)
{
	static const char *const members[] = { "connections",
	    "connections_total", "requests", "malformed" };
	const char	*lname;
	json_t		*l;
	char		 name[96], ln[48];

	for (size_t i = 0; i < MW_N_ELEMENTS(members); i++) {
		bool gauge = strcmp(members[i], "connections") == 0;

		(void)snprintf(name, sizeof(name), "mailward_listener_%s%s",
		    members[i], gauge || strstr(members[i], "_total") != NULL ?
		    "" : "_total");
		dm_head(b, name, gauge ? "gauge" : "counter", gauge ?
		    "open connections per listener" :
		    "per listener, since the daemon started");
		json_object_foreach(listeners, lname, l) {
			json_t *v = json_object_get(l, members[i]);

			dm_name(ln, sizeof(ln), lname);
			if (json_is_integer(v))
				evbuffer_add_printf(b, "%s{listener=\"%s\"} %lld\n",
				    name, ln, (long long)json_integer_value(v));
		}
	}
}

/* Objects of /status this file does not know yet. */
static void
dm_other(struct evbuffer *b, json_t *status)
{
	static const char *const known[] = { "engine", "dnsbl", "store",
	    "listeners" };
	const char	*k, *mk;
	json_t		*v, *mv;
	char		 name[160], kn[48], mn[80];
	size_t		 i;

	json_object_foreach(status, k, v) {
		if (!json_is_object(v))
			continue;
		for (i = 0; i < MW_N_ELEMENTS(known); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i < MW_N_ELEMENTS(known))
			continue;
		dm_name(kn, sizeof(kn), k);
		json_object_foreach(v, mk, mv) {
			if (!json_is_integer(mv))
				continue;
			dm_name(mn, sizeof(mn), mk);
			(void)snprintf(name, sizeof(name), "mailward_%s_%s", kn,
			    mn);
			dm_one(b, name, "untyped", "from GET /api/v1/status",
			    json_integer_value(mv));
		}
	}
}

void
dash_metrics(struct dashboard *db, struct dash_req *r)
{
	struct dashboard_stats	 ds;
	struct evbuffer		*b;
	json_t			*st;

	if (r->method != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Allow", "GET");
		admin_reply_error(r->req, 405, "/metrics is read with GET");
		return;
	}
	st = admin_status_json(db->as);
	dashboard_get_stats(db, &ds);
	if ((b = evbuffer_new()) == NULL)
		mw_panic("evbuffer_new: out of memory");
	dm_head(b, "mailward_info", "gauge", "the running version");
	evbuffer_add_printf(b, "mailward_info{version=\"%s\",demo=\"%s\"} 1\n",
	    MW_VERSION, db->demo ? "yes" : "no");
	dm_one(b, "mailward_uptime_seconds", "gauge", "seconds since start",
	    dm_int(st, "uptime"));
	dm_one(b, "mailward_decisions_total", "counter",
	    "policy decisions made by the engine", dm_int(st, "engine.decisions"));
	dm_labelled(b, json_object_get(json_object_get(st, "engine"),
	    "verdicts"), "mailward_verdicts_total", "counter", "verdict",
	    "decisions by verdict");
	dm_labelled(b, json_object_get(json_object_get(st, "engine"), "by"),
	    "mailward_decisions_by_total", "counter", "step",
	    "decisions by the step that decided");
	dm_one(b, "mailward_fail_open_total", "counter",
	    "decisions made without a full DNSBL answer (degraded, fail open)",
	    dm_int(st, "engine.dnsbl_fail_open"));
	dm_one(b, "mailward_bans_active", "gauge", "bans in force",
	    dm_int(st, "engine.bans_active"));
	dm_head(b, "mailward_list_entries", "gauge", "allow/deny list entries");
	evbuffer_add_printf(b, "mailward_list_entries{list=\"allow\"} %lld\n"
	    "mailward_list_entries{list=\"deny\"} %lld\n",
	    (long long)dm_int(st, "engine.allow_entries"),
	    (long long)dm_int(st, "engine.deny_entries"));
	dm_one(b, "mailward_dnsbl_queries_total", "counter", "DNSBL queries sent",
	    dm_int(st, "dnsbl.queries"));
	dm_one(b, "mailward_dnsbl_listed_total", "counter",
	    "DNSBL answers: listed", dm_int(st, "dnsbl.listed"));
	dm_one(b, "mailward_dnsbl_timeouts_total", "counter",
	    "DNSBL queries that timed out", dm_int(st, "dnsbl.timeouts"));
	dm_one(b, "mailward_dnsbl_errors_total", "counter",
	    "DNSBL queries that failed (SERVFAIL, refused, ...)",
	    dm_int(st, "dnsbl.failures") + dm_int(st, "dnsbl.refusals"));
	dm_one(b, "mailward_dnsbl_cache_hits_total", "counter",
	    "DNSBL answers from the cache", dm_int(st, "dnsbl.cache_hits"));
	dm_one(b, "mailward_store_events_written_total", "counter",
	    "events committed to the store", dm_int(st, "store.events_written"));
	dm_one(b, "mailward_store_events_dropped_total", "counter",
	    "events dropped (queue full)", dm_int(st, "store.events_dropped"));
	dm_one(b, "mailward_store_write_errors_total", "counter",
	    "failed store statements", dm_int(st, "store.write_errors"));
	dm_head(b, "mailward_store_commit_seconds", "summary",
	    "time to commit one batch of events");
	evbuffer_add_printf(b, "mailward_store_commit_seconds_sum %.6f\n"
	    "mailward_store_commit_seconds_count %lld\n",
	    (double)dm_int(st, "store.commit_us") / 1e6,
	    (long long)dm_int(st, "store.commits"));
	dm_listeners(b, json_object_get(st, "listeners"));
	dm_one(b, "mailward_dashboard_requests_total", "counter",
	    "HTTP requests to the dashboard listener", (json_int_t)ds.requests);
	dm_one(b, "mailward_dashboard_logins_total", "counter",
	    "successful dashboard logins", (json_int_t)ds.logins);
	dm_one(b, "mailward_dashboard_login_failures_total", "counter",
	    "dashboard logins with a wrong name or password",
	    (json_int_t)ds.login_failures);
	dm_one(b, "mailward_dashboard_login_throttled_total", "counter",
	    "dashboard logins refused by the login guard",
	    (json_int_t)ds.login_throttled);
	dm_one(b, "mailward_dashboard_csrf_refused_total", "counter",
	    "state changes refused for a missing/wrong CSRF token or Origin",
	    (json_int_t)ds.csrf_refused);
	dm_one(b, "mailward_dashboard_sessions", "gauge", "live sessions",
	    (json_int_t)ds.sessions);
	dm_one(b, "mailward_dashboard_streams", "gauge", "open event streams",
	    (json_int_t)ds.streams);
	dm_head(b, "mailward_password_hash_seconds", "gauge",
	    "time the last argon2id hash or verification took");
	evbuffer_add_printf(b, "mailward_password_hash_seconds %.6f\n",
	    (double)admin_pw_last_us(db->as->pw) / 1e6);
	dm_other(b, st);
	json_decref(st);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Cache-Control", "no-store");
	evhttp_send_reply(r->req, 200, "OK", b);
	evbuffer_free(b);
}
