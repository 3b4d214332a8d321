/*
 * fuzz_listen_authpolicy - Dovecot auth policy requests (authpolicy_parse.c).
 * The first byte picks what is parsed: even = a body for command=allow,
 * odd = a body for command=report; its upper bits (byte >> 1) % 33 * 8 give
 * hash_truncate (0 = untruncated, 8 ... 256), except that selector bytes
 * 0xfe/0xff parse the rest as the query string. Any bytes must give 0 with
 * a sane request or -1 with an error text; never a crash, leak or hang.
 * An accepted body, written back as JSON, must parse to the same request,
 * and every answer formatted from its fields must be valid JSON with the
 * right status.
 * Seeds (corpus/authpolicy/): '\x04' = allow and '\x05' = report with
 * hash_truncate 12 (Dovecot's default; the selector for 16 stands for 12),
 * '\x00' = allow with an untruncated hash, '\xfe' = a query string.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/slice.h"
#include "listen/authpolicy_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_text(const char *s, size_t max)
{
	if (s == NULL || strlen(s) > max ||
	    !mw_slice_is_printable(mw_slice_from_cstr(s)))
		abort();
}

/* The answer must be JSON Dovecot accepts: an object, status an integer. */
static void
fuzz_check_reply(enum auth_verdict_kind kind, const char *text)
{
	struct auth_verdict	 v = { .kind = kind, .delay_s = 5 };
	char			 out[AUTHPOLICY_REPLY_MAX];
	json_error_t		 jerr;
	json_t			*o, *st;
	size_t			 n;

	n = authpolicy_reply_format(&v, text, out, sizeof(out));
	if (n >= sizeof(out) || strlen(out) != n)
		abort();
	if ((o = json_loadb(out, n, 0, &jerr)) == NULL)
		abort();
	st = json_object_get(o, "status");
	if (!json_is_integer(st) ||
	    json_integer_value(st) != (kind == AUTH_VERDICT_ALLOW ? 0 :
	    kind == AUTH_VERDICT_TARPIT ? 5 : -1))
		abort();
	json_decref(o);
	n = authpolicy_error_format(text, out, sizeof(out));
	if ((o = json_loadb(out, n, 0, &jerr)) == NULL)
		abort();
	json_decref(o);
}

static void
fuzz_roundtrip(const struct authpolicy_req *r, uint32_t truncate,
    struct mw_arena *a)
{
	struct authpolicy_req	 again;
	const char		*error = NULL;
	char			*text, hex[2 * AUTH_PWHASH_MAX + 1];
	size_t			 nbytes = (r->pwhash_bits + 7) / 8;
	json_t			*o;

	for (size_t i = 0; i < nbytes; i++) {
		static const char digits[] = "0123456789abcdef";

		hex[2 * i] = digits[r->pwhash[i] >> 4];
		hex[2 * i + 1] = digits[r->pwhash[i] & 15];
	}
	hex[2 * nbytes] = '\0';
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}",
	    "login", r->login, "remote", r->remote, "protocol", r->protocol,
	    "session_id", r->session_id, "device_id", r->device_id,
	    "pwhash", hex, "tls", r->tls, "policy_reject", r->policy_reject);
	if (o == NULL)
		abort();	/* what was accepted is valid UTF-8 */
	if (r->has_success)
		json_object_set_new(o, "success", json_boolean(r->success));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		abort();
	if (authpolicy_parse_body(text, strlen(text), r->cmd, truncate, a,
	    &again, &error) < 0 ||
	    strcmp(again.login, r->login) != 0 ||
	    strcmp(again.remote, r->remote) != 0 ||
	    strcmp(again.protocol, r->protocol) != 0 ||
	    again.has_addr != r->has_addr ||
	    (r->has_addr && mw_addr_cmp(&again.addr, &r->addr) != 0) ||
	    again.pwhash_bits != r->pwhash_bits ||
	    memcmp(again.pwhash, r->pwhash, sizeof(r->pwhash)) != 0 ||
	    again.success != r->success || again.tls != r->tls)
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_arena		*a;
	struct authpolicy_req	 req;
	enum authpolicy_cmd	 cmd;
	const char		*error = NULL;
	uint32_t		 truncate;
	int			 ret;

	if (size < 1 || size > AUTHPOLICY_MAX_BODY + 2)
		return 0;
	a = mw_arena_new(4096);
	if (data[0] >= 0xfe) {
		/* the service hands the query over as a C string */
		const char *q = mw_arena_strndup(a, (const char *)data + 1,
		    size - 1);

		ret = authpolicy_parse_query(q, &cmd, a, &error);
		if (ret == 0 && cmd != AUTHPOLICY_CMD_ALLOW &&
		    cmd != AUTHPOLICY_CMD_REPORT)
			abort();
	} else {
		cmd = data[0] & 1 ? AUTHPOLICY_CMD_REPORT : AUTHPOLICY_CMD_ALLOW;
		truncate = (uint32_t)((data[0] >> 1) % 33) * 8;
		if (truncate == 8 * 2)
			truncate = 12;	/* Dovecot's default, odd bits */
		ret = authpolicy_parse_body((const char *)data + 1, size - 1,
		    cmd, truncate, a, &req, &error);
		if (ret == 0) {
			fuzz_check_text(req.login, AUTHPOLICY_MAX_LOGIN);
			fuzz_check_text(req.remote, AUTHPOLICY_MAX_REMOTE);
			fuzz_check_text(req.protocol, AUTHPOLICY_MAX_FIELD);
			fuzz_check_text(req.session_id, AUTHPOLICY_MAX_FIELD);
			fuzz_check_text(req.device_id, AUTHPOLICY_MAX_FIELD);
			if (req.pwhash_bits > AUTHPOLICY_MAX_HASH_BITS ||
			    (truncate != 0 && req.pwhash_bits != 0 &&
			    req.pwhash_bits != truncate) ||
			    req.nmembers > AUTHPOLICY_MAX_MEMBERS ||
			    (cmd == AUTHPOLICY_CMD_REPORT && !req.has_success) ||
			    req.has_addr != (req.remote[0] != '\0'))
				abort();
			fuzz_roundtrip(&req, truncate, a);
			fuzz_check_reply(AUTH_VERDICT_REJECT, req.login);
			fuzz_check_reply(AUTH_VERDICT_TARPIT, req.session_id);
			fuzz_check_reply(AUTH_VERDICT_ALLOW, req.device_id);
		} else if (req.pwhash_bits != 0) {
			abort();	/* a refused hash is never left behind */
		}
	}
	/* Any bytes as a reject text (cut at the first NUL). */
	{
		const char *t = mw_arena_strndup(a, (const char *)data, size);

		fuzz_check_reply(AUTH_VERDICT_REJECT, t);
	}
	if (ret < 0 && (error == NULL || error[0] == '\0'))
		abort();	/* a refusal must say why */
	if (ret != 0 && ret != -1)
		abort();
	mw_arena_free(&a);
	return 0;
}
