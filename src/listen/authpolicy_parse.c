/*
 * authpolicy_parse - Dovecot auth policy requests and answers; see
 * authpolicy_parse.h. The order of the checks is the order of the cost:
 * sizes before jansson sees the body, member count and depth before any
 * member is read, lengths before copies.
 */
#include "listen/authpolicy_parse.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

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

/* Members, nested ones included, with at most AUTHPOLICY_MAX_DEPTH levels
   of objects or arrays below the body. -1 when deeper. Arrays count their
   elements. */
static int
authpolicy_count(json_t *v, unsigned depth, size_t *count)
{
	const char	*key;
	json_t		*m;
	size_t		 i;

	if (json_is_object(v)) {
		if (depth > AUTHPOLICY_MAX_DEPTH)
			return -1;
		json_object_foreach(v, key, m) {
			(*count)++;
			if (authpolicy_count(m, depth + 1, count) < 0)
				return -1;
		}
	} else if (json_is_array(v)) {
		if (depth > AUTHPOLICY_MAX_DEPTH)
			return -1;
		json_array_foreach(v, i, m) {
			(*count)++;
			if (authpolicy_count(m, depth + 1, count) < 0)
				return -1;
		}
	}
	return 0;
}

/* A string member: printable, at most max bytes, copied to a. Absent: ""
   (or an error when required). */
static int
authpolicy_text(json_t *o, const char *name, size_t max, bool required,
    struct mw_arena *a, const char **text_r, const char **error_r)
{
	json_t		*v = json_object_get(o, name);
	const char	*s;
	size_t		 len;

	*text_r = "";
	if (v == NULL) {
		if (!required)
			return 0;
		*error_r = mw_arena_printf(a, "\"%s\" is missing: add %s=%s to "
		    "auth_policy_request_attributes", name, name,
		    strcmp(name, "remote") == 0 ? "%{rip}" :
		    "%{requested_username}");
		return -1;
	}
	if (!json_is_string(v)) {
		*error_r = mw_arena_printf(a, "\"%s\" must be a string", name);
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max) {
		*error_r = mw_arena_printf(a, "\"%s\" is longer than %zu bytes",
		    name, max);
		return -1;
	}
	if (!mw_slice_is_printable((struct mw_slice){ s, len })) {
		*error_r = mw_arena_printf(a, "\"%s\" contains control "
		    "characters", name);
		return -1;
	}
	*text_r = mw_arena_strndup(a, s, len);
	return 0;
}

static int
authpolicy_bool(json_t *o, const char *name, bool *has_r, bool *b_r,
    struct mw_arena *a, const char **error_r)
{
	json_t *v = json_object_get(o, name);

	*has_r = v != NULL;
	*b_r = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		*error_r = mw_arena_printf(a, "\"%s\" must be true or false",
		    name);
		return -1;
	}
	*b_r = json_is_true(v);
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
authpolicy_pwhash(json_t *o, uint32_t hash_truncate, struct mw_arena *a,
    struct authpolicy_req *req, const char **error_r)
{
	json_t		*v = json_object_get(o, "pwhash");
	const char	*s;
	size_t		 len, want;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return authpolicy_fail(error_r, "\"pwhash\" must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return 0;	/* no hash: no nonce, or no password */
	if (len > 2 * AUTH_PWHASH_MAX)
		return authpolicy_fail(error_r, "\"pwhash\" is longer than 64 "
		    "hex digits (256 bits): use auth_policy_hash_mech = sha256 "
		    "or set auth_policy_hash_truncate");
	if (len % 2 != 0)
		return authpolicy_fail(error_r, "\"pwhash\" has an odd number of "
		    "hex digits");
	want = hash_truncate == 0 ? len : 2 * (((size_t)hash_truncate + 7) / 8);
	if (len != want) {
		*error_r = mw_arena_printf(a, "\"pwhash\" has %zu hex digits, "
		    "but [authpolicy] hash_truncate = %u means %zu: set it to "
		    "Dovecot's auth_policy_hash_truncate", len,
		    (unsigned)hash_truncate, want);
		return -1;
	}
	for (size_t i = 0; i < len; i += 2) {
		int hi = authpolicy_hexval(s[i]), lo = authpolicy_hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return authpolicy_fail(error_r, "\"pwhash\" is not "
			    "hexadecimal");
		req->pwhash[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	req->pwhash_bits = hash_truncate == 0 ? (uint32_t)(len * 4) :
	    hash_truncate;
	if (req->pwhash_bits % 8 != 0 &&
	    (req->pwhash[0] >> (req->pwhash_bits % 8)) != 0) {
		*error_r = mw_arena_printf(a, "\"pwhash\" has more than %u "
		    "bits: set [authpolicy] hash_truncate to Dovecot's "
		    "auth_policy_hash_truncate", (unsigned)req->pwhash_bits);
		memset(req->pwhash, 0, sizeof(req->pwhash));
		req->pwhash_bits = 0;
		return -1;
	}
	return 0;
}

static int
authpolicy_fields(json_t *o, enum authpolicy_cmd cmd, uint32_t hash_truncate,
    struct mw_arena *a, struct authpolicy_req *req, const char **error_r)
{
	bool has;

	if (authpolicy_count(o, 0, &req->nmembers) < 0) {
		*error_r = mw_arena_printf(a, "objects nested deeper than %u "
		    "levels", AUTHPOLICY_MAX_DEPTH);
		return -1;
	}
	if (req->nmembers > AUTHPOLICY_MAX_MEMBERS) {
		*error_r = mw_arena_printf(a, "more than %u members",
		    AUTHPOLICY_MAX_MEMBERS);
		return -1;
	}
	if (authpolicy_text(o, "remote", AUTHPOLICY_MAX_REMOTE, true, a,
	    &req->remote, error_r) < 0 ||
	    authpolicy_text(o, "login", AUTHPOLICY_MAX_LOGIN, true, a,
	    &req->login, error_r) < 0 ||
	    authpolicy_text(o, "protocol", AUTHPOLICY_MAX_FIELD, false, a,
	    &req->protocol, error_r) < 0 ||
	    authpolicy_text(o, "session_id", AUTHPOLICY_MAX_FIELD, false, a,
	    &req->session_id, error_r) < 0 ||
	    authpolicy_text(o, "device_id", AUTHPOLICY_MAX_FIELD, false, a,
	    &req->device_id, error_r) < 0)
		return -1;
	if (req->remote[0] != '\0') {
		if (mw_addr_parse(req->remote, &req->addr) < 0) {
			*error_r = mw_arena_printf(a, "\"remote\": \"%s\" is not "
			    "an IPv4 or IPv6 address", authpolicy_quote(a,
			    req->remote, strlen(req->remote)));
			return -1;
		}
		req->has_addr = true;
	}
	if (authpolicy_bool(o, "success", &req->has_success, &req->success, a,
	    error_r) < 0 ||
	    authpolicy_bool(o, "policy_reject", &has, &req->policy_reject, a,
	    error_r) < 0 ||
	    authpolicy_bool(o, "tls", &has, &req->tls, a, error_r) < 0)
		return -1;
	if (cmd == AUTHPOLICY_CMD_REPORT && !req->has_success)
		return authpolicy_fail(error_r, "command=report without "
		    "\"success\"");
	return authpolicy_pwhash(o, hash_truncate, a, req, error_r);
}

int
authpolicy_parse_body(const char *body, size_t len, enum authpolicy_cmd cmd,
    uint32_t hash_truncate, struct mw_arena *a, struct authpolicy_req *req,
    const char **error_r)
{
	json_error_t	 jerr;
	json_t		*o;
	int		 ret;

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
	o = json_loadb(body, len, 0, &jerr);
	if (o == NULL) {
		*error_r = mw_arena_printf(a, "the request body is not valid "
		    "JSON (line %d, column %d: %s)", jerr.line, jerr.column,
		    mw_sanitize(a, mw_slice_from_cstr(jerr.text), 120));
		return -1;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		return authpolicy_fail(error_r, "the request body is not a JSON "
		    "object");
	}
	ret = authpolicy_fields(o, cmd, hash_truncate, a, req, error_r);
	json_decref(o);
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
