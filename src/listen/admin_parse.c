/*
 * admin_parse - validation of admin API request bodies (JSON objects) and
 * query strings, and the JSON form of records shared by the routes.
 *
 * Pure: no I/O, no globals (tests/unit/test_listen_admin_parse.c and
 * tests/fuzz/fuzz_listen_admin.c link it alone). Input comes from anyone
 * who may open the admin socket; bodies are capped by evhttp before they
 * get here (ADMIN_MAX_BODY). Unknown members and parameters are errors:
 * a typo must not silently fall back to a default. Every error says what
 * to change; peer text in an error is sanitized and cut.
 */
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "listen/admin.h"

#define ADMIN_MAX_TIME_S	253402300799LL	/* 9999-12-31T23:59:59Z */
#define ADMIN_MAX_PARAM		80	/* bytes of a peer name quoted in an error */

static int
admin_fail(const char **error_r, const char *error)
{
	*error_r = error;
	return -1;
}

static const char *
admin_quote(struct mw_arena *a, const char *s, size_t len)
{
	return mw_sanitize(a, (struct mw_slice){ s, len }, ADMIN_MAX_PARAM);
}

json_t *
admin_parse_object(const char *body, size_t len, bool empty_ok,
    const char *example, struct mw_arena *a, const char **error_r)
{
	json_error_t	 jerr;
	json_t		*o;
	size_t		 i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\t' ||
	    body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i == len) {
		if (empty_ok)
			return json_object();
		*error_r = mw_arena_printf(a, "the request body is empty: send a "
		    "JSON object such as %s", example);
		return NULL;
	}
	if (len > ADMIN_MAX_BODY) {
		*error_r = mw_arena_printf(a, "the request body is larger than "
		    "%u bytes", ADMIN_MAX_BODY);
		return NULL;
	}
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (o == NULL && strncmp(jerr.text, "duplicate object key", 20) == 0) {
		*error_r = mw_arena_printf(a, "the request body has a member "
		    "twice (line %d, column %d): give each member once",
		    jerr.line, jerr.column);
		return NULL;
	}
	if (o == NULL) {
		*error_r = mw_arena_printf(a, "the request body is not valid JSON "
		    "(line %d, column %d: %s): send an object such as %s",
		    jerr.line, jerr.column, mw_sanitize(a,
		    mw_slice_from_cstr(jerr.text), ADMIN_MAX_PARAM), example);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		*error_r = mw_arena_printf(a, "the request body must be a JSON "
		    "object such as %s", example);
		return NULL;
	}
	return o;
}

int
admin_member_text(json_t *v, const char *name, size_t max, bool allow_empty,
    struct mw_arena *a, const char **text_r, const char **error_r)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v)) {
		*error_r = mw_arena_printf(a, "\"%s\" must be a string", name);
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 && !allow_empty) {
		*error_r = mw_arena_printf(a, "\"%s\" is empty", name);
		return -1;
	}
	if (len > max) {
		*error_r = mw_arena_printf(a, "\"%s\" is longer than %zu bytes: "
		    "shorten it", name, max);
		return -1;
	}
	if (!mw_slice_is_printable((struct mw_slice){ s, len })) {
		*error_r = mw_arena_printf(a, "\"%s\" contains control characters: "
		    "use printable text on one line", name);
		return -1;
	}
	*text_r = mw_arena_strndup(a, s, len);
	return 0;
}

/* A network member: "ADDR" or "ADDR/LEN", host bits clear. */
static int
admin_member_net(json_t *v, const char *name, struct mw_arena *a,
    struct mw_cidr *net_r, const char **error_r)
{
	const char	*text, *error;

	if (admin_member_text(v, name, MW_CIDR_STRLEN + 16, false, a, &text,
	    error_r) < 0)
		return -1;
	if (mw_cidr_parse(text, net_r, a, &error) < 0) {
		*error_r = mw_arena_printf(a, "\"%s\": %s", name, error);
		return -1;
	}
	return 0;
}

static int
admin_member_duration(json_t *v, struct mw_arena *a, uint64_t *secs_r,
    const char **error_r)
{
	const char	*s;
	json_int_t	 n;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
		if (n <= 0 || (uint64_t)n > ADMIN_MAX_BAN_SECS)
			return admin_fail(error_r, "\"duration\" in seconds must be "
			    "from 1 to 315360000 (10 years); use \"permanent\" "
			    "for a ban that does not expire");
		*secs_r = (uint64_t)n;
		return 0;
	}
	if (!json_is_string(v))
		return admin_fail(error_r, "\"duration\" must be a string such as "
		    "\"90s\", \"15m\", \"2h\", \"7d\", \"1w\" or \"permanent\"");
	s = json_string_value(v);
	if (strlen(s) == json_string_length(v) && strcmp(s, "permanent") == 0) {
		*secs_r = 0;
		return 0;
	}
	if (strlen(s) != json_string_length(v) || s[0] == '0' ||
	    mw_parse_duration(s, ADMIN_MAX_BAN_SECS, secs_r) < 0 ||
	    *secs_r == 0) {
		*error_r = mw_arena_printf(a, "\"duration\": \"%s\" is not a "
		    "duration: use a number with a unit such as \"90s\", \"15m\", "
		    "\"2h\", \"7d\", \"1w\" (at most 10 years), or \"permanent\"",
		    admin_quote(a, s, json_string_length(v)));
		return -1;
	}
	return 0;
}

static int
admin_unknown_member(const char *key, const char *expected, struct mw_arena *a,
    const char **error_r)
{
	*error_r = mw_arena_printf(a, "unknown member \"%s\" in the request body "
	    "(expected %s)", admin_quote(a, key, strlen(key)), expected);
	return -1;
}

int
admin_parse_ban_body(const char *body, size_t len, struct mw_arena *a,
    struct admin_ban_req *r, const char **error_r)
{
	static const char example[] =
	    "{\"address\":\"203.0.113.9\",\"duration\":\"1h\",\"reason\":\"spam\"}";
	json_t		*o, *v;
	const char	*key;
	bool		 has_address = false;
	int		 ret = -1;

	*r = (struct admin_ban_req){ .reason = "manual" };
	if ((o = admin_parse_object(body, len, false, example, a, error_r)) == NULL)
		return -1;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "address") == 0) {
			if (admin_member_net(v, "address", a, &r->net, error_r) < 0)
				goto out;
			has_address = true;
		} else if (strcmp(key, "duration") == 0) {
			if (admin_member_duration(v, a, &r->duration, error_r) < 0)
				goto out;
			r->has_duration = true;
		} else if (strcmp(key, "reason") == 0) {
			if (admin_member_text(v, "reason", ADMIN_MAX_TEXT, true, a,
			    &r->reason, error_r) < 0)
				goto out;
			if (r->reason[0] == '\0')
				r->reason = "manual";
		} else {
			(void)admin_unknown_member(key, "address, duration, reason",
			    a, error_r);
			goto out;
		}
	}
	if (!has_address) {
		*error_r = mw_arena_printf(a, "\"address\" is missing: send %s",
		    example);
		goto out;
	}
	ret = 0;
out:
	json_decref(o);
	return ret;
}

int
admin_parse_list_body(const char *body, size_t len, struct mw_arena *a,
    struct admin_list_req *r, const char **error_r)
{
	static const char example[] =
	    "{\"network\":\"192.0.2.0/24\",\"comment\":\"office\"}";
	json_t		*o, *v;
	const char	*key;
	bool		 has_network = false;
	int		 ret = -1;

	*r = (struct admin_list_req){ .comment = "" };
	if ((o = admin_parse_object(body, len, false, example, a, error_r)) == NULL)
		return -1;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "network") == 0) {
			if (admin_member_net(v, "network", a, &r->net, error_r) < 0)
				goto out;
			has_network = true;
		} else if (strcmp(key, "comment") == 0) {
			if (admin_member_text(v, "comment", ADMIN_MAX_TEXT, true, a,
			    &r->comment, error_r) < 0)
				goto out;
		} else {
			(void)admin_unknown_member(key, "network, comment", a,
			    error_r);
			goto out;
		}
	}
	if (!has_network) {
		*error_r = mw_arena_printf(a, "\"network\" is missing: send %s",
		    example);
		goto out;
	}
	ret = 0;
out:
	json_decref(o);
	return ret;
}

int
admin_parse_empty_body(const char *body, size_t len, struct mw_arena *a,
    const char **error_r)
{
	json_t		*o, *v;
	const char	*key;
	int		 ret = 0;

	if ((o = admin_parse_object(body, len, true, "{}", a, error_r)) == NULL)
		return -1;
	json_object_foreach(o, key, v) {
		(void)v;
		ret = admin_unknown_member(key, "no members", a, error_r);
		break;
	}
	json_decref(o);
	return ret;
}

/* --- query strings ------------------------------------------------------ */

int
admin_query_split(const char *query, const char *const *known,
    const char *expected, struct evkeyvalq *q, struct mw_arena *a,
    const char **error_r)
{
	struct evkeyval	*kv, *other;
	size_t		 i;

	TAILQ_INIT(q);
	if (query == NULL || query[0] == '\0')
		return 0;
	if (evhttp_parse_query_str(query, q) < 0) {
		evhttp_clear_headers(q);
		*error_r = mw_arena_printf(a, "the query string \"%s\" is not "
		    "name=value pairs joined by &", admin_quote(a, query,
		    strlen(query)));
		return -1;
	}
	TAILQ_FOREACH(kv, q, next) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(kv->key, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			*error_r = mw_arena_printf(a, "unknown query parameter "
			    "\"%s\" (expected %s)", admin_quote(a, kv->key,
			    strlen(kv->key)), expected);
			goto fail;
		}
		for (other = TAILQ_NEXT(kv, next); other != NULL;
		    other = TAILQ_NEXT(other, next)) {
			if (strcmp(kv->key, other->key) == 0) {
				*error_r = mw_arena_printf(a, "query parameter "
				    "\"%s\" is given twice: give it once",
				    kv->key);
				goto fail;
			}
		}
	}
	return 0;
fail:
	evhttp_clear_headers(q);
	return -1;
}

static int
admin_query_number(const char *name, const char *value, uint64_t min,
    uint64_t max, struct mw_arena *a, uint64_t *num_r, const char **error_r)
{
	if (mw_parse_u64(value, max, num_r) < 0 || *num_r < min) {
		*error_r = mw_arena_printf(a, "%s: \"%s\" is not a number from "
		    "%" PRIu64 " to %" PRIu64, name, admin_quote(a, value,
		    strlen(value)), min, max);
		return -1;
	}
	return 0;
}

int
admin_parse_bans_query(const char *query, struct mw_arena *a,
    struct admin_bans_query *bq, const char **error_r)
{
	static const char *const known[] = { "source", "limit", "offset", NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	uint64_t		 n;
	int			 ret = -1;

	*bq = (struct admin_bans_query){ .limit = ADMIN_BANS_LIMIT };
	if (admin_query_split(query, known, "source, limit, offset", &q, a,
	    error_r) < 0)
		return -1;
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "source") == 0) {
			if (store_ban_source_parse(kv->value, &bq->source) < 0) {
				*error_r = mw_arena_printf(a, "source: \"%s\" is "
				    "not a ban source (expected manual, dnsbl, "
				    "login or logwatch)", admin_quote(a,
				    kv->value, strlen(kv->value)));
				goto out;
			}
			bq->has_source = true;
		} else if (strcmp(kv->key, "limit") == 0) {
			if (admin_query_number("limit", kv->value, 1,
			    ADMIN_BANS_LIMIT_MAX, a, &n, error_r) < 0)
				goto out;
			bq->limit = (size_t)n;
		} else {
			if (admin_query_number("offset", kv->value, 0,
			    SIZE_MAX / 2, a, &n, error_r) < 0)
				goto out;
			bq->offset = (size_t)n;
		}
	}
	ret = 0;
out:
	evhttp_clear_headers(&q);
	return ret;
}

static int
admin_value_net(const char *name, const char *value, bool host_only,
    struct mw_arena *a, struct mw_cidr *net_r, const char **error_r)
{
	struct mw_addr	 addr;
	const char	*error;

	if (value[0] == '\0') {
		*error_r = mw_arena_printf(a, "%s is empty: give an %s", name,
		    host_only ? "IPv4 or IPv6 address" : "address or network");
		return -1;
	}
	if (host_only) {
		if (mw_addr_parse(value, &addr) < 0) {
			*error_r = mw_arena_printf(a, "%s: \"%s\" is not an IPv4 or "
			    "IPv6 address", name, admin_quote(a, value,
			    strlen(value)));
			return -1;
		}
		mw_cidr_from_addr(&addr, 128, net_r);
		return 0;
	}
	if (mw_cidr_parse(value, net_r, a, &error) < 0) {
		*error_r = mw_arena_printf(a, "%s: %s", name, error);
		return -1;
	}
	return 0;
}

int
admin_parse_net_query(const char *query, const char *name, bool host_only,
    struct mw_arena *a, struct mw_cidr *net_r, const char **error_r)
{
	const char *const	 known[] = { name, NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	int			 ret;

	if (admin_query_split(query, known, name, &q, a, error_r) < 0)
		return -1;
	if ((kv = TAILQ_FIRST(&q)) == NULL) {
		*error_r = mw_arena_printf(a, "query parameter \"%s\" is missing: "
		    "add ?%s=%s", name, name, host_only ? "203.0.113.9" :
		    "192.0.2.0/24");
		ret = -1;
	} else {
		ret = admin_value_net(name, kv->value, host_only, a, net_r,
		    error_r);
	}
	evhttp_clear_headers(&q);
	return ret;
}

int
admin_parse_events_query(const char *query, struct mw_arena *a,
    struct store_event_query *eq, const char **error_r)
{
	static const char *const known[] = { "since", "until", "address",
	    "limit", NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	struct mw_cidr		 net;
	uint64_t		 n;
	int			 ret = -1;

	*eq = (struct store_event_query){ .limit = ADMIN_EVENTS_LIMIT };
	if (admin_query_split(query, known, "since, until, address, limit",
	    &q, a, error_r) < 0)
		return -1;
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "since") == 0 || strcmp(kv->key, "until") == 0) {
			if (mw_parse_u64(kv->value, ADMIN_MAX_TIME_S, &n) < 0) {
				*error_r = mw_arena_printf(a, "%s: \"%s\" is not a "
				    "time in unix seconds (such as 1763900000)",
				    kv->key, admin_quote(a, kv->value,
				    strlen(kv->value)));
				goto out;
			}
			if (kv->key[0] == 's')
				eq->since_ms = (int64_t)n * 1000;
			else	/* until is inclusive: the whole second */
				eq->until_ms = (int64_t)n * 1000 + 999;
		} else if (strcmp(kv->key, "address") == 0) {
			if (admin_value_net("address", kv->value, true, a, &net,
			    error_r) < 0)
				goto out;
			eq->has_addr = true;
			eq->addr = net.addr;
		} else {
			if (admin_query_number("limit", kv->value, 1,
			    ADMIN_EVENTS_LIMIT_MAX, a, &n, error_r) < 0)
				goto out;
			eq->limit = (size_t)n;
		}
	}
	if (eq->until_ms != 0 && eq->since_ms > eq->until_ms) {
		*error_r = "until is before since: swap them";
		goto out;
	}
	ret = 0;
out:
	evhttp_clear_headers(&q);
	return ret;
}

int
admin_parse_alerts_query(const char *query, struct mw_arena *a,
    struct store_alert_query *aq, const char **error_r)
{
	static const char *const known[] = { "all", "limit", NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	uint64_t		 n;
	int			 ret = -1;

	*aq = (struct store_alert_query){ .limit = ADMIN_LOGIN_LIMIT };
	if (admin_query_split(query, known, "all, limit", &q, a, error_r) < 0)
		return -1;
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "all") == 0) {
			if (strcmp(kv->value, "1") != 0 &&
			    strcmp(kv->value, "0") != 0) {
				*error_r = mw_arena_printf(a, "all: \"%s\" is not "
				    "0 or 1", admin_quote(a, kv->value,
				    strlen(kv->value)));
				goto out;
			}
			aq->all = kv->value[0] == '1';
		} else {
			if (admin_query_number("limit", kv->value, 1,
			    ADMIN_LOGIN_LIMIT_MAX, a, &n, error_r) < 0)
				goto out;
			aq->limit = (size_t)n;
		}
	}
	ret = 0;
out:
	evhttp_clear_headers(&q);
	return ret;
}

int
admin_parse_accounts_query(const char *query, struct mw_arena *a,
    size_t *limit_r, const char **error_r)
{
	static const char *const known[] = { "limit", NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	uint64_t		 n;
	int			 ret = 0;

	*limit_r = ADMIN_LOGIN_LIMIT;
	if (admin_query_split(query, known, "limit", &q, a, error_r) < 0)
		return -1;
	if ((kv = TAILQ_FIRST(&q)) != NULL) {
		if (admin_query_number("limit", kv->value, 1,
		    ADMIN_LOGIN_LIMIT_MAX, a, &n, error_r) < 0)
			ret = -1;
		else
			*limit_r = (size_t)n;
	}
	evhttp_clear_headers(&q);
	return ret;
}

int
admin_parse_account_path(const char *tail, struct mw_arena *a,
    const char **account_r, const char **error_r)
{
	size_t	 len = strlen(tail), dlen = 0;
	char	*dec;

	if (len == 0)
		return admin_fail(error_r, "the account name is missing: use "
		    "/api/v1/accounts/NAME (percent-encoded)");
	if (len > ADMIN_ACCOUNT_MAX * 3)
		return admin_fail(error_r, "the account name is longer than "
		    "256 bytes");
	if (strchr(tail, '/') != NULL)
		return admin_fail(error_r, "the account name contains \"/\": "
		    "percent-encode it as %2F");
	if ((dec = evhttp_uridecode(tail, 0, &dlen)) == NULL)
		return admin_fail(error_r, "the account name is not valid "
		    "percent-encoding");
	if (dlen == 0 || dlen > ADMIN_ACCOUNT_MAX || strlen(dec) != dlen ||
	    !mw_slice_is_printable((struct mw_slice){ dec, dlen })) {
		free(dec);
		return admin_fail(error_r, "the account name must be 1 to 256 "
		    "bytes of printable text");
	}
	*account_r = mw_arena_strdup(a, dec);
	free(dec);
	return 0;
}

int
admin_parse_alert_ack_path(const char *tail, struct mw_arena *a,
    int64_t *id_r, const char **error_r)
{
	const char	*slash = strchr(tail, '/');
	uint64_t	 id;

	if (slash == NULL || strcmp(slash, "/ack") != 0)
		return admin_fail(error_r, "use POST /api/v1/alerts/ID/ack to "
		    "acknowledge an alert");
	if (mw_slice_to_u64((struct mw_slice){ tail, (size_t)(slash - tail) },
	    INT64_MAX, &id) < 0 || id == 0) {
		*error_r = mw_arena_printf(a, "alert id \"%s\" is not a number "
		    "from 1 (mailward alerts --all lists the ids)",
		    admin_quote(a, tail, (size_t)(slash - tail)));
		return -1;
	}
	*id_r = (int64_t)id;
	return 0;
}

/* --- records ------------------------------------------------------------ */

json_t *
admin_json_text(const char *s)
{
	json_t	*v;
	char	*copy;

	if (s == NULL)
		return json_string("");
	if ((v = json_string(s)) != NULL)
		return v;
	/* Not UTF-8 (peer text in an event): keep ASCII, mark the rest. */
	copy = mw_strdup(s);
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v != NULL ? v : json_string("");
}

json_t *
admin_alert_json(const struct store_alert *al)
{
	char	 addr[MW_ADDR_STRLEN];
	json_t	*ev = json_loads(al->evidence != NULL ? al->evidence : "", 0, NULL);

	if (ev == NULL || !json_is_object(ev)) {
		json_decref(ev);
		ev = json_object();	/* a store edited by hand */
	}
	return json_pack("{s:I, s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)al->id,
	    "time", (json_int_t)al->time,
	    "account", admin_json_text(al->account),
	    "address", mw_addr_format(&al->addr, addr, sizeof(addr)),
	    "kind", admin_json_text(al->kind),
	    "reason", admin_json_text(al->reason),
	    "evidence", ev,
	    "acknowledged_by", al->ack_at != 0 ?
		admin_json_text(al->ack_by) : json_null(),
	    "acknowledged_at", al->ack_at != 0 ?
		json_integer((json_int_t)al->ack_at) : json_null());
}

json_t *
admin_ban_json(const struct store_ban *b)
{
	char	 net[MW_CIDR_STRLEN];

	return json_pack("{s:s, s:s, s:o, s:I, s:I, s:o, s:I, s:I}",
	    "address", mw_cidr_format(&b->net, net, sizeof(net)),
	    "source", store_ban_source_name(b->source),
	    "reason", admin_json_text(b->reason),
	    "first_seen", (json_int_t)b->first_seen,
	    "last_seen", (json_int_t)b->last_seen,
	    "expires", b->expires == 0 ? json_null() :
		json_integer((json_int_t)b->expires),
	    "hits", (json_int_t)b->hits,
	    "count", (json_int_t)b->count);
}
