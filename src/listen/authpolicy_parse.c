/*
 * authpolicy_parse - Dovecot auth policy requests and answers; see
 * authpolicy_parse.h. The body is read by yajl's streaming parser, not
 * built into a tree: this runs for every login attempt, and jansson's
 * tree took 2.3 us of a request's ~11 us where yajl takes 0.34 (bench/
 * json-parse). The order of the checks is the order of the cost: sizes
 * before yajl sees the body, member count and depth while it reads,
 * lengths before copies; the members are then checked in a fixed order.
 */
#include "listen/authpolicy_parse.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "core/slice.h"

#define AUTHPOLICY_MAX_QUOTE	60	/* bytes of peer text quoted in an error */
#define AUTHPOLICY_CMD_KEY	"command="

static int
authpolicy_fail(const char **error_r, const char *error)
{
	*error_r = error;
	return -1;
}

static const char *
authpolicy_quote(struct mw_arena *a, const char *s, size_t len)
{
	return mw_sanitize(a, (struct mw_slice){ s, len }, AUTHPOLICY_MAX_QUOTE);
}

int
authpolicy_parse_query(const char *query, enum authpolicy_cmd *cmd_r,
    struct mw_arena *a, const char **error_r)
{
	struct mw_slice	 rest, param, tail;
	bool		 found = false;

	if (query == NULL || query[0] == '\0')
		return authpolicy_fail(error_r, "the URL has no ?command=: "
		    "auth_policy_server_url must not end with '?' or '&' "
		    "twice, Dovecot appends ?command=allow or ?command=report");
	rest = mw_slice_from_cstr(query);
	if (rest.len > AUTHPOLICY_MAX_QUERY)
		return authpolicy_fail(error_r, "the query string is longer "
		    "than 512 bytes");
	while (rest.len > 0) {
		if (!mw_slice_split(rest, '&', &param, &tail)) {
			param = rest;
			tail = (struct mw_slice){ rest.ptr + rest.len, 0 };
		}
		rest = tail;
		if (!mw_slice_starts_with(param, MW_SLICE_LIT(AUTHPOLICY_CMD_KEY)))
			continue;	/* the admin's own parameters */
		param.ptr += sizeof(AUTHPOLICY_CMD_KEY) - 1;
		param.len -= sizeof(AUTHPOLICY_CMD_KEY) - 1;
		if (found)
			return authpolicy_fail(error_r, "the query string has "
			    "command= twice: remove it from "
			    "auth_policy_server_url (Dovecot adds it)");
		found = true;
		if (mw_slice_eq_cstr(param, "allow"))
			*cmd_r = AUTHPOLICY_CMD_ALLOW;
		else if (mw_slice_eq_cstr(param, "report"))
			*cmd_r = AUTHPOLICY_CMD_REPORT;
		else {
			*error_r = mw_arena_printf(a, "unknown command \"%s\" "
			    "(expected allow or report)",
			    authpolicy_quote(a, param.ptr, param.len));
			return -1;
		}
	}
	if (!found)
		return authpolicy_fail(error_r, "the query string has no "
		    "command=allow or command=report");
	return 0;
}

/* The members the parser reads (top level only); anything else is
   counted and skipped. */
enum authpolicy_key {
	AP_KEY_REMOTE,
	AP_KEY_LOGIN,
	AP_KEY_PROTOCOL,
	AP_KEY_SESSION_ID,
	AP_KEY_DEVICE_ID,
	AP_KEY_PWHASH,
	AP_KEY_SUCCESS,
	AP_KEY_POLICY_REJECT,
	AP_KEY_TLS,
	AP_NKEYS,
	AP_KEY_OTHER = AP_NKEYS,
};

#define AP_KEY(name, max)	{ name, sizeof(name) - 1, max }

static const struct {
	const char	*name;
	size_t		 len;
	size_t		 max;	/* bytes of a string value kept */
} authpolicy_keys[AP_NKEYS] = {
	[AP_KEY_REMOTE] =	AP_KEY("remote", AUTHPOLICY_MAX_REMOTE),
	[AP_KEY_LOGIN] =	AP_KEY("login", AUTHPOLICY_MAX_LOGIN),
	[AP_KEY_PROTOCOL] =	AP_KEY("protocol", AUTHPOLICY_MAX_FIELD),
	[AP_KEY_SESSION_ID] =	AP_KEY("session_id", AUTHPOLICY_MAX_FIELD),
	[AP_KEY_DEVICE_ID] =	AP_KEY("device_id", AUTHPOLICY_MAX_FIELD),
	[AP_KEY_PWHASH] =	AP_KEY("pwhash", 2 * AUTH_PWHASH_MAX),
	[AP_KEY_SUCCESS] =	AP_KEY("success", 0),
	[AP_KEY_POLICY_REJECT] = AP_KEY("policy_reject", 0),
	[AP_KEY_TLS] =		AP_KEY("tls", 0),
};

enum authpolicy_type {
	AP_ABSENT,
	AP_STRING,
	AP_BOOLEAN,
	AP_OTHER,	/* null, a number, an object or an array */
};

/* A top-level member as it came. A string longer than its key's max is
   not kept (text NULL, len its length): only the length is reported. */
struct authpolicy_member {
	enum authpolicy_type	 type;
	bool			 boolean;
	const char		*text;	/* in the arena, NUL-terminated;
					   pwhash: in the parse's state */
	size_t			 len;
};

/* The state of one streaming (yajl) parse. The body object is level 1;
   containers[i] tells whether level i + 1 is an array. */
struct authpolicy_sax {
	struct mw_arena		*a;
	const char		*error;		/* why a callback stopped */
	struct authpolicy_member members[AP_NKEYS];
	enum authpolicy_key	 key;		/* the member being read */
	unsigned		 level;
	bool			 containers[AUTHPOLICY_MAX_DEPTH + 2];
	bool			 body_seen;
	size_t			 nmembers;
	/* pwhash's hex digits, here only until they are decoded (wiped) */
	char			 pwhash[2 * AUTH_PWHASH_MAX];
};

static int
authpolicy_sax_stop(struct authpolicy_sax *s, const char *error)
{
	s->error = error;
	return 0;	/* yajl_status_client_canceled */
}

static int
authpolicy_sax_count(struct authpolicy_sax *s)
{
	if (++s->nmembers > AUTHPOLICY_MAX_MEMBERS)
		return authpolicy_sax_stop(s, mw_arena_printf(s->a, "more than "
		    "%u members", AUTHPOLICY_MAX_MEMBERS));
	return 1;
}

/* A value arrives: the body itself (level 0), an array element (counted
   as a member), or the value of the member named last. */
static int
authpolicy_sax_value(struct authpolicy_sax *s, enum authpolicy_type type,
    bool is_object, bool boolean, const unsigned char *str, size_t len)
{
	struct authpolicy_member *m;

	if (s->level == 0) {
		if (!is_object)
			return authpolicy_sax_stop(s, "the request body is not a "
			    "JSON object");
		s->body_seen = true;
		return 1;
	}
	if (s->containers[s->level - 1])
		return authpolicy_sax_count(s);
	if (s->level > 1 || s->key == AP_KEY_OTHER)
		return 1;
	m = &s->members[s->key];
	m->text = NULL;
	m->type = type;
	m->boolean = boolean;
	m->len = len;
	if (type != AP_STRING || len > authpolicy_keys[s->key].max)
		return 1;
	if (s->key == AP_KEY_PWHASH) {
		memcpy(s->pwhash, str, len);
		m->text = s->pwhash;
	} else
		m->text = mw_arena_strndup(s->a, (const char *)str, len);
	return 1;
}

static int
authpolicy_sax_null(void *ctx)
{
	return authpolicy_sax_value(ctx, AP_OTHER, false, false, NULL, 0);
}

static int
authpolicy_sax_boolean(void *ctx, int b)
{
	return authpolicy_sax_value(ctx, AP_BOOLEAN, false, b != 0, NULL, 0);
}

/* Numbers arrive as text: no overflow to refuse, none is read. */
static int
authpolicy_sax_number(void *ctx, const char *num, size_t len)
{
	(void)num;
	(void)len;
	return authpolicy_sax_value(ctx, AP_OTHER, false, false, NULL, 0);
}

static int
authpolicy_sax_string(void *ctx, const unsigned char *str, size_t len)
{
	return authpolicy_sax_value(ctx, AP_STRING, false, false, str, len);
}

static int
authpolicy_sax_open(void *ctx, bool array)
{
	struct authpolicy_sax	*s = ctx;
	int			 ret;

	if ((ret = authpolicy_sax_value(s, AP_OTHER, !array, false, NULL,
	    0)) == 0)
		return 0;
	/* The body is level 1, so a container's depth below it is the
	   level before it opens. */
	if (s->level > AUTHPOLICY_MAX_DEPTH)
		return authpolicy_sax_stop(s, mw_arena_printf(s->a, "objects "
		    "nested deeper than %u levels", AUTHPOLICY_MAX_DEPTH));
	s->containers[s->level++] = array;
	return 1;
}

static int
authpolicy_sax_start_map(void *ctx)
{
	return authpolicy_sax_open(ctx, false);
}

static int
authpolicy_sax_start_array(void *ctx)
{
	return authpolicy_sax_open(ctx, true);
}

static int
authpolicy_sax_close(void *ctx)
{
	struct authpolicy_sax *s = ctx;

	s->level--;
	return 1;
}

static int
authpolicy_sax_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct authpolicy_sax	*s = ctx;

	if (authpolicy_sax_count(s) == 0)
		return 0;
	s->key = AP_KEY_OTHER;
	if (s->level != 1)
		return 1;
	for (size_t k = 0; k < AP_NKEYS; k++) {
		if (authpolicy_keys[k].len != len ||
		    memcmp(authpolicy_keys[k].name, key, len) != 0)
			continue;
		/* A name given twice: the last value wins, as Dovecot
		   appends "tls" after an admin's own tls=... attribute. */
		s->key = (enum authpolicy_key)k;
		break;
	}
	return 1;
}

static const yajl_callbacks authpolicy_sax_callbacks = {
	.yajl_null = authpolicy_sax_null,
	.yajl_boolean = authpolicy_sax_boolean,
	.yajl_number = authpolicy_sax_number,
	.yajl_string = authpolicy_sax_string,
	.yajl_start_map = authpolicy_sax_start_map,
	.yajl_map_key = authpolicy_sax_map_key,
	.yajl_end_map = authpolicy_sax_close,
	.yajl_start_array = authpolicy_sax_start_array,
	.yajl_end_array = authpolicy_sax_close,
};

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0:
   no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
authpolicy_utf8_len(const unsigned char *s)
{
	unsigned char	 c = s[0];
	size_t		 n;
	unsigned char	 lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Strictly valid UTF-8 (s NUL-terminated at len): yajl lets overlong
   forms and lone low surrogates (from "\\udc00") through. */
static bool
authpolicy_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 k;

	for (size_t i = 0; i < len; i += k)
		if ((k = u[i] < 0x80 ? 1 : authpolicy_utf8_len(u + i)) == 0 ||
		    k > len - i)
			return false;
	return true;
}

/* A string member: printable, at most its key's max bytes. Absent: ""
   (or an error when required). */
static int
authpolicy_text(const struct authpolicy_sax *s, enum authpolicy_key k,
    bool required, const char **text_r, const char **error_r)
{
	const struct authpolicy_member	*m = &s->members[k];
	const char			*name = authpolicy_keys[k].name;

	*text_r = "";
	if (m->type == AP_ABSENT) {
		if (!required)
			return 0;
		*error_r = mw_arena_printf(s->a, "\"%s\" is missing: add %s=%s "
		    "to auth_policy_request_attributes", name, name,
		    k == AP_KEY_REMOTE ? "%{rip}" : "%{requested_username}");
		return -1;
	}
	if (m->type != AP_STRING) {
		*error_r = mw_arena_printf(s->a, "\"%s\" must be a string", name);
		return -1;
	}
	if (m->text == NULL) {
		*error_r = mw_arena_printf(s->a, "\"%s\" is longer than %zu "
		    "bytes", name, authpolicy_keys[k].max);
		return -1;
	}
	if (!mw_slice_is_printable((struct mw_slice){ m->text, m->len })) {
		*error_r = mw_arena_printf(s->a, "\"%s\" contains control "
		    "characters", name);
		return -1;
	}
	if (!authpolicy_utf8_valid(m->text, m->len)) {
		*error_r = mw_arena_printf(s->a, "\"%s\" is not valid UTF-8",
		    name);
		return -1;
	}
	*text_r = m->text;
	return 0;
}

static int
authpolicy_bool(const struct authpolicy_sax *s, enum authpolicy_key k,
    bool *has_r, bool *b_r, const char **error_r)
{
	const struct authpolicy_member *m = &s->members[k];

	*has_r = m->type != AP_ABSENT;
	*b_r = false;
	if (m->type == AP_ABSENT)
		return 0;
	if (m->type != AP_BOOLEAN) {
		*error_r = mw_arena_printf(s->a, "\"%s\" must be true or false",
		    authpolicy_keys[k].name);
		return -1;
	}
	*b_r = m->boolean;
	return 0;
}

static int
authpolicy_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* pwhash (protocols.md 2.3): hex of the first hash_truncate bits of the
   digest, right-aligned in ceil(hash_truncate / 8) bytes. The errors
   never quote the value. */
static int
authpolicy_pwhash(const struct authpolicy_sax *s, uint32_t hash_truncate,
    struct authpolicy_req *req, const char **error_r)
{
	const struct authpolicy_member	*m = &s->members[AP_KEY_PWHASH];
	const char			*h = m->text;
	size_t				 len = m->len, want;

	if (m->type == AP_ABSENT)
		return 0;
	if (m->type != AP_STRING)
		return authpolicy_fail(error_r, "\"pwhash\" must be a string");
	if (len == 0)
		return 0;	/* no hash: no nonce, or no password */
	if (h == NULL)
		return authpolicy_fail(error_r, "\"pwhash\" is longer than 64 "
		    "hex digits (256 bits): use auth_policy_hash_mech = sha256 "
		    "or set auth_policy_hash_truncate");
	if (len % 2 != 0)
		return authpolicy_fail(error_r, "\"pwhash\" has an odd number of "
		    "hex digits");
	want = hash_truncate == 0 ? len : 2 * (((size_t)hash_truncate + 7) / 8);
	if (len != want) {
		*error_r = mw_arena_printf(s->a, "\"pwhash\" has %zu hex digits, "
		    "but [authpolicy] hash_truncate = %u means %zu: set it to "
		    "Dovecot's auth_policy_hash_truncate", len,
		    (unsigned)hash_truncate, want);
		return -1;
	}
	for (size_t i = 0; i < len; i += 2) {
		int hi = authpolicy_hexval(h[i]), lo = authpolicy_hexval(h[i + 1]);

		if (hi < 0 || lo < 0)
			return authpolicy_fail(error_r, "\"pwhash\" is not "
			    "hexadecimal");
		req->pwhash[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	req->pwhash_bits = hash_truncate == 0 ? (uint32_t)(len * 4) :
	    hash_truncate;
	if (req->pwhash_bits % 8 != 0 &&
	    (req->pwhash[0] >> (req->pwhash_bits % 8)) != 0) {
		*error_r = mw_arena_printf(s->a, "\"pwhash\" has more than %u "
		    "bits: set [authpolicy] hash_truncate to Dovecot's "
		    "auth_policy_hash_truncate", (unsigned)req->pwhash_bits);
		return -1;
	}
	return 0;
}

/* The request from the members read, checked in a fixed order (so the
   error does not depend on the order of the members). */
static int
authpolicy_fields(const struct authpolicy_sax *s, enum authpolicy_cmd cmd,
    uint32_t hash_truncate, struct authpolicy_req *req, const char **error_r)
{
	bool has;

	req->nmembers = s->nmembers;
	if (authpolicy_text(s, AP_KEY_REMOTE, true, &req->remote, error_r) < 0 ||
	    authpolicy_text(s, AP_KEY_LOGIN, true, &req->login, error_r) < 0 ||
	    authpolicy_text(s, AP_KEY_PROTOCOL, false, &req->protocol,
	    error_r) < 0 ||
	    authpolicy_text(s, AP_KEY_SESSION_ID, false, &req->session_id,
	    error_r) < 0 ||
	    authpolicy_text(s, AP_KEY_DEVICE_ID, false, &req->device_id,
	    error_r) < 0)
		return -1;
	if (req->remote[0] != '\0') {
		if (mw_addr_parse(req->remote, &req->addr) < 0) {
			*error_r = mw_arena_printf(s->a, "\"remote\": \"%s\" is "
			    "not an IPv4 or IPv6 address", authpolicy_quote(s->a,
			    req->remote, strlen(req->remote)));
			return -1;
		}
		req->has_addr = true;
	}
	if (authpolicy_bool(s, AP_KEY_SUCCESS, &req->has_success, &req->success,
	    error_r) < 0 ||
	    authpolicy_bool(s, AP_KEY_POLICY_REJECT, &has, &req->policy_reject,
	    error_r) < 0 ||
	    authpolicy_bool(s, AP_KEY_TLS, &has, &req->tls, error_r) < 0)
		return -1;
	if (cmd == AUTHPOLICY_CMD_REPORT && !req->has_success)
		return authpolicy_fail(error_r, "command=report without "
		    "\"success\"");
	return authpolicy_pwhash(s, hash_truncate, req, error_r);
}

/* yajl's own words for a syntax error, one line, at the byte it stopped. */
static const char *
authpolicy_syntax_error(yajl_handle h, struct mw_arena *a, size_t at)
{
	unsigned char	*text = yajl_get_error(h, 0, NULL, 0);
	struct mw_slice	 t = mw_slice_from_cstr(text != NULL ?
			    (const char *)text : "unknown error");
	const char	*error;

	/* "lexical error: invalid char in json text.\n" */
	while (t.len > 0 && strchr(" .\n", t.ptr[t.len - 1]) != NULL)
		t.len--;
	error = mw_arena_printf(a, "the request body is not valid JSON (byte "
	    "%zu: %s)", at, mw_sanitize(a, t, 120));
	if (text != NULL)
		yajl_free_error(h, text);
	return error;
}

/* Streams the body through yajl into s: no tree is built, and nothing
   is kept of a member the parser does not read. */
static int
authpolicy_sax_parse(struct authpolicy_sax *s, const char *body, size_t len,
    const char **error_r)
{
	yajl_handle	 h = yajl_alloc(&authpolicy_sax_callbacks, NULL, s);
	yajl_status	 st;
	size_t		 at;

	if (h == NULL)
		mw_panic("yajl_alloc: out of memory");
	st = yajl_parse(h, (const unsigned char *)body, len);
	at = yajl_get_bytes_consumed(h);
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		at = len;
	}
	if (st == yajl_status_client_canceled)
		*error_r = s->error;
	else if (st != yajl_status_ok)
		*error_r = authpolicy_syntax_error(h, s->a, at);
	yajl_free(h);
	return st == yajl_status_ok ? 0 : -1;
}

int
authpolicy_parse_body(const char *body, size_t len, enum authpolicy_cmd cmd,
    uint32_t hash_truncate, struct mw_arena *a, struct authpolicy_req *req,
    const char **error_r)
{
	struct authpolicy_sax	 s = { .a = a, .key = AP_KEY_OTHER };
	int			 ret;

	*req = (struct authpolicy_req){ .cmd = cmd, .login = "", .remote = "",
	    .protocol = "", .session_id = "", .device_id = "" };
	if (hash_truncate > AUTHPOLICY_MAX_HASH_BITS)
		return authpolicy_fail(error_r, "hash_truncate is larger than "
		    "256 bits");
	if (len == 0)
		return authpolicy_fail(error_r, "the request body is empty "
		    "(expected a JSON object)");
	if (len > AUTHPOLICY_MAX_BODY)
		return authpolicy_fail(error_r, "the request body is larger "
		    "than 8192 bytes");
	ret = authpolicy_sax_parse(&s, body, len, error_r);
	if (ret == 0 && !s.body_seen)
		ret = authpolicy_fail(error_r, "the request body is not a JSON "
		    "object");
	if (ret == 0)
		ret = authpolicy_fields(&s, cmd, hash_truncate, req, error_r);
	explicit_bzero(s.pwhash, sizeof(s.pwhash));
	if (ret < 0) {
		/* Nothing half-filled reaches a caller that ignores -1. */
		memset(req->pwhash, 0, sizeof(req->pwhash));
		req->pwhash_bits = 0;
	}
	return ret;
}

bool
authpolicy_key_eq(const char *got, size_t got_len, const char *want,
    size_t want_len)
{
	volatile unsigned char	 diff;
	size_t			 i;

	if (got == NULL) {
		got = "";
		got_len = 0;
	}
	diff = got_len != want_len;
	for (i = 0; i < want_len; i++)
		diff |= (unsigned char)(want[i] ^ (i < got_len ? got[i] : 0));
	return diff == 0;
}

/* s as the contents of a JSON string: one printable line of valid UTF-8
   (Dovecot refuses an answer that is not, and would then fail open),
   at most max bytes of input, never cut inside a character; '"' and '\\'
   escaped, control characters and invalid bytes as '?'. */
static size_t
authpolicy_json_text(const char *s, size_t max, char *out, size_t size)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 n = 0, i = 0, len;

	MW_ASSERT(size >= 2 * max + 1);
	len = s != NULL ? strnlen(s, max) : 0;
	while (i < len) {
		unsigned char	 c = u[i];
		size_t		 k;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			out[n++] = '?';
			i++;
		} else if (c < 0x80) {
			out[n++] = (char)c;
			i++;
		} else if ((k = authpolicy_utf8_len(u + i)) != 0 &&
		    i + k <= len) {
			memcpy(out + n, u + i, k);
			n += k;
			i += k;
		} else if (k != 0) {
			break;	/* the cut would split a character */
		} else {
			out[n++] = '?';
			i++;
		}
	}
	return n;
}

size_t
authpolicy_reply_format(const struct auth_verdict *v, const char *text,
    char *out, size_t size)
{
	char	 msg[AUTHPOLICY_MAX_TEXT * 2 + 1];
	size_t	 mlen = 0;
	long long status = 0;
	int	 n;

	MW_ASSERT(size >= AUTHPOLICY_REPLY_MAX);
	switch (v->kind) {
	case AUTH_VERDICT_ALLOW:
		status = 0;
		break;
	case AUTH_VERDICT_TARPIT:
		status = v->delay_s > 0 ? (long long)v->delay_s : 1;
		break;
	case AUTH_VERDICT_REJECT:
		status = -1;
		mlen = authpolicy_json_text(text, AUTHPOLICY_MAX_TEXT, msg,
		    sizeof(msg));
		break;
	}
	n = snprintf(out, size, "{\"status\":%lld,\"msg\":\"%.*s\"}", status,
	    (int)mlen, msg);
	MW_ASSERT(n > 0 && (size_t)n < size);
	return (size_t)n;
}

size_t
authpolicy_error_format(const char *text, char *out, size_t size)
{
	char	 msg[AUTHPOLICY_MAX_TEXT * 2 + 1];
	size_t	 mlen;
	int	 n;

	MW_ASSERT(size >= AUTHPOLICY_REPLY_MAX);
	mlen = authpolicy_json_text(text, AUTHPOLICY_MAX_TEXT, msg, sizeof(msg));
	n = snprintf(out, size, "{\"error\":\"%.*s\"}", (int)mlen, msg);
	MW_ASSERT(n > 0 && (size_t)n < size);
	return (size_t)n;
}
