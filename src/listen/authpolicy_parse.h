/*
 * authpolicy_parse - Dovecot auth policy requests and answers
 * (protocols.md 2, Dovecot 2.3 auth_policy_server_url).
 *
 * Dovecot POSTs a JSON object built from auth_policy_request_attributes
 * to URL?command=allow (before, and again after, the password check) and
 * URL?command=report (the outcome, with "success" and "policy_reject").
 * Values are JSON strings ("a/b=..." attributes nest one object); success,
 * policy_reject and tls are JSON booleans. This file turns the query
 * string and the body into a struct authpolicy_req and a verdict into the
 * answer {"status":N,"msg":"..."}.
 * Pure: no I/O, no globals (tests/unit/test_listen_authpolicy_parse.c and
 * tests/fuzz/fuzz_listen_authpolicy.c link it alone). Dovecot sends the
 * request, but login, device_id and session_id come from the client:
 * the body size, the number and depth of members and every field length
 * are checked before anything is copied; control characters and invalid
 * UTF-8 are refused. Unknown members are ignored (admins add attributes
 * such as local_port); of a member given twice the last value counts.
 * The password hash is decoded into bytes and never copied anywhere else.
 */
#ifndef MW_LISTEN_AUTHPOLICY_PARSE_H
#define MW_LISTEN_AUTHPOLICY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/arena.h"
#include "core/mem.h"
#include "engine/engine.h"

#define AUTHPOLICY_MAX_BODY	8192	/* bytes of a body; Dovecot's default attributes make ~200 */
#define AUTHPOLICY_MAX_QUERY	512	/* bytes of the query string */
#define AUTHPOLICY_MAX_MEMBERS	64	/* members, nested ones included */
#define AUTHPOLICY_MAX_DEPTH	3	/* levels of objects below the body ("a/b/c=x") */
#define AUTHPOLICY_MAX_LOGIN	320	/* bytes of a login: 64 + "@" + 255 */
#define AUTHPOLICY_MAX_FIELD	256	/* bytes of protocol, session_id, device_id */
#define AUTHPOLICY_MAX_REMOTE	64	/* bytes of the remote address text */
#define AUTHPOLICY_MAX_TEXT	200	/* bytes of the answer's msg */
#define AUTHPOLICY_REPLY_MAX	(AUTHPOLICY_MAX_TEXT * 2 + 64)	/* msg with every byte escaped */
#define AUTHPOLICY_MAX_HASH_BITS (AUTH_PWHASH_MAX * 8)	/* 256: a SHA-256 digest */

enum authpolicy_cmd {
	AUTHPOLICY_CMD_ALLOW,	/* ?command=allow: may this attempt go on? */
	AUTHPOLICY_CMD_REPORT,	/* ?command=report: how it ended */
};

/* One request. Strings are NUL-terminated copies in the arena given to
   the parser, "" when the member was absent. */
struct authpolicy_req {
	enum authpolicy_cmd	 cmd;
	const char		*login;		/* as the client gave it */
	const char		*remote;	/* as Dovecot sent it */
	const char		*protocol;	/* "imap", "pop3", "smtp", ... */
	const char		*session_id;
	const char		*device_id;
	struct mw_addr		 addr;		/* remote */
	bool			 has_addr;	/* false: remote was "" */
	/* pwhash decoded: ceil(pwhash_bits / 8) bytes, big-endian and
	   right-aligned as Dovecot sends them; pwhash_bits 0 = no hash. */
	uint8_t			 pwhash[AUTH_PWHASH_MAX];
	uint32_t		 pwhash_bits;
	bool			 has_success;	/* report: "success" was sent */
	bool			 success;
	bool			 policy_reject;	/* report: our own reject */
	bool			 tls;
	size_t			 nmembers;	/* counted, nested ones included */
};

/* The command from the query string (NULL when there was none): one
   "command=allow" or "command=report" among any other parameters (a URL
   configured with its own "?x=y&" keeps them). 0, or -1 with *error_r
   (static text or in a). */
int	authpolicy_parse_query(const char *query, enum authpolicy_cmd *cmd_r,
	    struct mw_arena *a, const char **error_r) MW_MUST_CHECK;

/* Parses body (len bytes, not NUL-terminated) for the command cmd into
   *req (which it clears first). hash_truncate is [authpolicy]
   hash_truncate: a pwhash must have exactly 2 * ceil(hash_truncate / 8)
   hex digits and no bit above hash_truncate; 0 accepts any whole number
   of bytes up to AUTH_PWHASH_MAX (Dovecot's untruncated digest). "remote"
   and "login" are required ("remote" may be "": no address known);
   "success" is required for report. 0, or -1 with *error_r set to one
   sentence naming the member and the fix (static text or in a; peer bytes
   sanitized; never the value of pwhash). */
int	authpolicy_parse_body(const char *body, size_t len,
	    enum authpolicy_cmd cmd, uint32_t hash_truncate, struct mw_arena *a,
	    struct authpolicy_req *req, const char **error_r) MW_MUST_CHECK;

/* Constant-time comparison of the API key a request carried (got, got_len
   bytes; NULL when the header was missing) with the configured one: the
   time taken depends only on want_len. */
bool	authpolicy_key_eq(const char *got, size_t got_len, const char *want,
	    size_t want_len);

/* The answer body into out (size >= AUTHPOLICY_REPLY_MAX); returns its
   length. ALLOW: {"status":0,"msg":""}; TARPIT: {"status":<delay_s>,
   "msg":""} (delay_s 0 becomes 1: 0 would mean allow); REJECT:
   {"status":-1,"msg":"<text>"} with text JSON-escaped, one printable line
   (control characters as '?'), cut at AUTHPOLICY_MAX_TEXT bytes. */
size_t	authpolicy_reply_format(const struct auth_verdict *v, const char *text,
	    char *out, size_t size);

/* {"error":"<text>"} for a refused request, as above. */
size_t	authpolicy_error_format(const char *text, char *out, size_t size);

#endif
