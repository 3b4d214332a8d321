/*
 * dashboard_parse - the dashboard's pure input checks: URL paths of
 * static files, the Cookie header, Origin, login and admin bodies, and
 * the query strings of stats, audit and the live stream.
 *
 * Pure: no I/O, no globals (tests/unit/test_listen_dashboard_parse.c and
 * tests/fuzz/fuzz_listen_dashboard.c link it alone). Everything here
 * comes from anyone who can reach the dashboard's port, before any
 * login: each input is bounded before it is looked at, and the path check
 * is a whitelist (what is not a plain name is refused, rather than
 * trying to recognise every way to spell "..").
 */
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <string.h>

#include "core/slice.h"
#include "listen/admin.h"
#include "listen/dashboard.h"

#define DASHBOARD_MAX_COOKIE	4096	/* bytes of a Cookie header */
#define DASHBOARD_MAX_HOST	255	/* bytes of Host / Origin host */
#define DASHBOARD_MAX_TOP	100	/* rows per top list */
#define DASHBOARD_AUDIT_LIMIT	100
#define DASHBOARD_AUDIT_MAX	10000
#define DASHBOARD_MAX_TIME_S	253402300799LL	/* 9999-12-31 */
#define DASHBOARD_MAX_FILTER	32	/* bytes of a verdict/listener filter */
#define DASHBOARD_PW_MIN	10	/* = ADMIN_PW_MIN (admin_int.h) */
#define DASHBOARD_PW_MAX	1024	/* = ADMIN_PW_MAX */

static int
dash_fail(const char **error_r, const char *error)
{
	*error_r = error;
	return -1;
}

static int
dash_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
dash_name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~' || c == '+' || c == '@';
}

int
dashboard_path_normalize(const char *path, size_t len, struct mw_arena *a,
    const char **rel_r, const char **error_r)
{
	char	*out, *seg;
	size_t	 n = 0;

	if (len == 0 || path[0] != '/')
		return dash_fail(error_r, "the path does not start with /");
	if (len > DASHBOARD_MAX_PATH)
		return dash_fail(error_r, "the path is longer than 1024 bytes");
	/* + "index.html" after a final "/" */
	out = mw_arena_alloc(a, len + sizeof("index.html"));
	seg = out;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return dash_fail(error_r, "the path has a "
				    "truncated %-escape");
			if ((hi = dash_hex(path[i + 1])) < 0 ||
			    (lo = dash_hex(path[i + 2])) < 0)
				return dash_fail(error_r, "the path has a "
				    "malformed %-escape");
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			/* an encoded "/" or "%" is never a plain name */
			if (!dash_name_byte(c))
				return dash_fail(error_r, "the path has an "
				    "encoded character that is not allowed");
		} else if (c == '/') {
			if (&out[n] == seg)
				return dash_fail(error_r, "the path has an "
				    "empty segment (//)");
			out[n++] = '/';
			seg = &out[n];
			continue;
		} else if (!dash_name_byte(c)) {
			return dash_fail(error_r, "the path has a character "
			    "that is not allowed");
		}
		if (&out[n] == seg && c == '.')
			return dash_fail(error_r, "a path segment starts with "
			    "\".\" (\"..\", \".\" and hidden files are refused)");
		out[n++] = (char)c;
	}
	if (&out[n] == seg) {	/* "/" or ends in "/" */
		memcpy(&out[n], "index.html", sizeof("index.html"));
		n += sizeof("index.html") - 1;
	}
	out[n] = '\0';
	*rel_r = out;
	return 0;
}

int
dashboard_cookie_get(const char *header, const char *name, struct mw_arena *a,
    const char **value_r)
{
	struct mw_slice	 rest, item, key, value;
	size_t		 hlen;

	*value_r = NULL;
	if (header == NULL)
		return 0;
	hlen = strnlen(header, DASHBOARD_MAX_COOKIE + 1);
	if (hlen > DASHBOARD_MAX_COOKIE)
		return -1;
	rest = (struct mw_slice){ header, hlen };
	while (rest.len > 0) {
		if (!mw_slice_split(rest, ';', &item, &rest)) {
			item = rest;
			rest.len = 0;
		}
		item = mw_slice_trim(item);
		if (item.len == 0)
			continue;
		if (!mw_slice_split(item, '=', &key, &value))
			return -1;	/* RFC 6265: cookie-pair is name=value */
		key = mw_slice_trim(key);
		if (key.len == 0 || !mw_slice_is_printable(value))
			return -1;
		if (mw_slice_eq_cstr(key, name)) {
			if (*value_r != NULL)
				return -1;	/* twice: which one to trust? */
			*value_r = mw_slice_dup(a, mw_slice_trim(value));
		}
	}
	return *value_r != NULL ? 1 : 0;
}

int
dashboard_session_id_parse(const char *text, uint8_t id_r[DASHBOARD_SESSION_ID_LEN])
{
	for (size_t i = 0; i < DASHBOARD_SESSION_ID_LEN; i++) {
		int hi, lo;

		if (text[2 * i] == '\0' || text[2 * i + 1] == '\0')
			return -1;
		if ((hi = dash_hex(text[2 * i])) < 0 ||
		    (lo = dash_hex(text[2 * i + 1])) < 0 ||
		    (text[2 * i] >= 'A' && text[2 * i] <= 'F') ||
		    (text[2 * i + 1] >= 'A' && text[2 * i + 1] <= 'F'))
			return -1;
		id_r[i] = (uint8_t)(hi << 4 | lo);
	}
	return text[2 * DASHBOARD_SESSION_ID_LEN] == '\0' ? 0 : -1;
}

bool
dashboard_origin_ok(const char *origin, const char *host, bool tls)
{
	const char	*scheme = tls ? "https://" : "http://";
	size_t		 slen = strlen(scheme);

	if (origin == NULL)
		return true;
	if (host == NULL || host[0] == '\0' ||
	    strnlen(host, DASHBOARD_MAX_HOST + 1) > DASHBOARD_MAX_HOST ||
	    strnlen(origin, DASHBOARD_MAX_HOST + 9) > DASHBOARD_MAX_HOST + 8)
		return false;
	return strncmp(origin, scheme, slen) == 0 &&
	    strcmp(origin + slen, host) == 0;
}

/* A password member: any text but NUL and control characters, min..max
   bytes; the copy in a is the caller's to wipe. */
static int
dash_member_password(json_t *v, size_t min, struct mw_arena *a,
    const char **pw_r, size_t *len_r, const char **error_r)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v))
		return dash_fail(error_r, "\"password\" must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return dash_fail(error_r, "\"password\" is empty");
	if (len < min) {
		*error_r = mw_arena_printf(a, "\"password\" is shorter than %zu "
		    "bytes: choose a longer one", min);
		return -1;
	}
	if (len > DASHBOARD_PW_MAX)
		return dash_fail(error_r, "\"password\" is longer than 1024 "
		    "bytes");
	if (!mw_slice_is_printable((struct mw_slice){ s, len }))
		return dash_fail(error_r, "\"password\" contains control "
		    "characters");
	*pw_r = mw_arena_strndup(a, s, len);
	*len_r = len;
	return 0;
}

bool
dashboard_admin_name_ok(const char *name)
{
	size_t len = strnlen(name, STORE_ADMIN_MAX_NAME + 1);

	if (len == 0 || len > STORE_ADMIN_MAX_NAME)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= 'A' && name[0] <= 'Z') ||
	    (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '@' || c == '-'))
			return false;
	}
	return true;
}

/* {"name":..., "password":...}; min: the shortest password accepted. */
static int
dash_parse_name_password(const char *body, size_t len, size_t min,
    struct mw_arena *a, const char **name_r, const char **pw_r,
    size_t *pw_len_r, const char **error_r)
{
	static const char example[] =
	    "{\"name\":\"alice\",\"password\":\"...\"}";
	json_t		*o, *v;
	const char	*key;
	int		 ret = -1;

	*name_r = NULL;
	*pw_r = NULL;
	if ((o = admin_parse_object(body, len, false, example, a, error_r)) ==
	    NULL)
		return -1;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "name") == 0) {
			if (admin_member_text(v, "name", STORE_ADMIN_MAX_NAME,
			    false, a, name_r, error_r) < 0)
				goto out;
			if (!dashboard_admin_name_ok(*name_r)) {
				*error_r = "\"name\" must be 1 to 64 letters, "
				    "digits, '.', '_', '@' or '-', starting with "
				    "a letter or digit";
				goto out;
			}
		} else if (strcmp(key, "password") == 0) {
			if (dash_member_password(v, min, a, pw_r, pw_len_r,
			    error_r) < 0)
				goto out;
		} else {
			*error_r = mw_arena_printf(a, "unknown member \"%s\" in "
			    "the request body (expected name, password)",
			    mw_sanitize(a, mw_slice_from_cstr(key), 80));
			goto out;
		}
	}
	if (*name_r == NULL || *pw_r == NULL) {
		*error_r = mw_arena_printf(a, "\"%s\" is missing: send %s",
		    *name_r == NULL ? "name" : "password", example);
		goto out;
	}
	ret = 0;
out:
	json_decref(o);
	return ret;
}

int
dashboard_parse_login(const char *body, size_t len, struct mw_arena *a,
    struct dashboard_login_req *r, const char **error_r)
{
	*r = (struct dashboard_login_req){ 0 };
	return dash_parse_name_password(body, len, 1, a, &r->name,
	    &r->password, &r->password_len, error_r);
}

int
dashboard_parse_admin(const char *body, size_t len, struct mw_arena *a,
    struct dashboard_admin_req *r, const char **error_r)
{
	*r = (struct dashboard_admin_req){ 0 };
	return dash_parse_name_password(body, len, DASHBOARD_PW_MIN, a,
	    &r->name, &r->password, &r->password_len, error_r);
}

int
dashboard_parse_language(const char *body, size_t len, struct mw_arena *a,
    const char **language_r, const char **error_r)
{
	json_t		*o, *v;
	const char	*key, *lang = NULL;
	int		 ret = -1;

	if ((o = admin_parse_object(body, len, false, "{\"language\":\"ja\"}",
	    a, error_r)) == NULL)
		return -1;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "language") != 0) {
			*error_r = mw_arena_printf(a, "unknown member \"%s\" in "
			    "the request body (expected language)",
			    mw_sanitize(a, mw_slice_from_cstr(key), 80));
			goto out;
		}
		if (!json_is_string(v) ||
		    (strcmp(json_string_value(v), "ja") != 0 &&
		    strcmp(json_string_value(v), "en") != 0 &&
		    json_string_length(v) != 0)) {
			*error_r = "\"language\" must be \"ja\", \"en\" or \"\" "
			    "(follow the browser)";
			goto out;
		}
		lang = mw_arena_strdup(a, json_string_value(v));
	}
	if (lang == NULL) {
		*error_r = "\"language\" is missing: send {\"language\":\"ja\"}";
		goto out;
	}
	*language_r = lang;
	ret = 0;
out:
	json_decref(o);
	return ret;
}

int
dashboard_parse_stats_query(const char *query, struct mw_arena *a,
    struct dashboard_stats_query *sq, const char **error_r)
{
	static const char *const known[] = { "range", "top", NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	uint64_t		 n;
	int			 ret = -1;

	*sq = (struct dashboard_stats_query){ .range = DASHBOARD_RANGE_1H,
	    .span_ms = 3600000, .bucket_ms = 60000, .top = 10 };
	if (admin_query_split(query, known, "range, top", &q, a, error_r) < 0)
		return -1;
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "range") == 0) {
			if (strcmp(kv->value, "1h") == 0) {
				/* the default */
			} else if (strcmp(kv->value, "24h") == 0) {
				*sq = (struct dashboard_stats_query){
				    .range = DASHBOARD_RANGE_24H,
				    .span_ms = 86400000, .bucket_ms = 900000,
				    .top = sq->top };
			} else if (strcmp(kv->value, "7d") == 0) {
				*sq = (struct dashboard_stats_query){
				    .range = DASHBOARD_RANGE_7D,
				    .span_ms = 7 * 86400000LL,
				    .bucket_ms = 3600000, .top = sq->top };
			} else {
				*error_r = mw_arena_printf(a, "range: \"%s\" is "
				    "not a range (expected 1h, 24h or 7d)",
				    mw_sanitize(a, mw_slice_from_cstr(kv->value),
				    40));
				goto out;
			}
		} else {
			if (mw_parse_u64(kv->value, DASHBOARD_MAX_TOP, &n) < 0 ||
			    n == 0) {
				*error_r = "top: expected a number from 1 to 100";
				goto out;
			}
			sq->top = (size_t)n;
		}
	}
	ret = 0;
out:
	evhttp_clear_headers(&q);
	return ret;
}

int
dashboard_parse_audit_query(const char *query, struct mw_arena *a,
    struct store_audit_query *aq, const char **error_r)
{
	static const char *const known[] = { "since", "until", "actor",
	    "limit", NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	uint64_t		 n;
	int			 ret = -1;

	*aq = (struct store_audit_query){ .limit = DASHBOARD_AUDIT_LIMIT };
	if (admin_query_split(query, known, "since, until, actor, limit", &q,
	    a, error_r) < 0)
		return -1;
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "since") == 0 ||
		    strcmp(kv->key, "until") == 0) {
			if (mw_parse_u64(kv->value, DASHBOARD_MAX_TIME_S, &n) < 0) {
				*error_r = mw_arena_printf(a, "%s: \"%s\" is not a "
				    "time in unix seconds (such as 1763900000)",
				    kv->key, mw_sanitize(a,
				    mw_slice_from_cstr(kv->value), 40));
				goto out;
			}
			if (kv->key[0] == 's')
				aq->since_ms = (int64_t)n * 1000;
			else
				aq->until_ms = (int64_t)n * 1000 + 999;
		} else if (strcmp(kv->key, "actor") == 0) {
			if (kv->value[0] == '\0' || strlen(kv->value) > 80 ||
			    !mw_slice_is_printable(mw_slice_from_cstr(
			    kv->value))) {
				*error_r = "actor: expected an admin name or "
				    "\"uid N\"";
				goto out;
			}
			aq->actor = mw_arena_strdup(a, kv->value);
		} else {
			if (mw_parse_u64(kv->value, DASHBOARD_AUDIT_MAX, &n) < 0 ||
			    n == 0) {
				*error_r = "limit: expected a number from 1 to "
				    "10000";
				goto out;
			}
			aq->limit = (size_t)n;
		}
	}
	if (aq->until_ms != 0 && aq->since_ms > aq->until_ms) {
		*error_r = "until is before since: swap them";
		goto out;
	}
	ret = 0;
out:
	evhttp_clear_headers(&q);
	return ret;
}

/* verdict/listener filter values: upper/lower letters, digits, '_' */
static bool
dash_filter_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > DASHBOARD_MAX_FILTER)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

int
dashboard_parse_stream_query(const char *query, struct mw_arena *a,
    struct dashboard_stream_filter *f, const char **error_r)
{
	static const char *const known[] = { "address", "verdict", "listener",
	    NULL };
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	int			 ret = -1;

	*f = (struct dashboard_stream_filter){ .has_addr = false };
	if (admin_query_split(query, known, "address, verdict, listener", &q,
	    a, error_r) < 0)
		return -1;
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "address") == 0) {
			if (mw_addr_parse(kv->value, &f->addr) < 0) {
				*error_r = mw_arena_printf(a, "address: \"%s\" is "
				    "not an IPv4 or IPv6 address", mw_sanitize(a,
				    mw_slice_from_cstr(kv->value), 60));
				goto out;
			}
			f->has_addr = true;
		} else if (!dash_filter_ok(kv->value)) {
			*error_r = mw_arena_printf(a, "%s: expected a name such "
			    "as %s", kv->key, kv->key[0] == 'v' ? "REJECT" :
			    "policy");
			goto out;
		} else if (kv->key[0] == 'v') {
			f->verdict = mw_arena_strdup(a, kv->value);
		} else {
			f->listener = mw_arena_strdup(a, kv->value);
		}
	}
	ret = 0;
out:
	evhttp_clear_headers(&q);
	return ret;
}

bool
dashboard_stream_match(const struct dashboard_stream_filter *f,
    const struct store_event *ev)
{
	if (f->has_addr && mw_addr_cmp(&f->addr, &ev->addr) != 0)
		return false;
	if (f->verdict != NULL && (ev->verdict == NULL ||
	    strcmp(f->verdict, ev->verdict) != 0))
		return false;
	if (f->listener != NULL && (ev->listener == NULL ||
	    strcmp(f->listener, ev->listener) != 0))
		return false;
	return true;
}

const char *
dashboard_content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".map", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".ico", "image/x-icon" },
		{ ".webp", "image/webp" },
		{ ".woff2", "font/woff2" },
		{ ".woff", "font/woff" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".webmanifest", "application/manifest+json" },
	};
	size_t	 len = strlen(name);

	for (size_t i = 0; i < MW_N_ELEMENTS(types); i++) {
		size_t elen = strlen(types[i].ext);

		if (len > elen && strcmp(name + len - elen, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}
