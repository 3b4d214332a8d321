/*
 * authpolicy - Dovecot's auth policy service (auth_policy_server_url),
 * HTTP/1.1 (keep-alive, pipelining) on cfg->authpolicy.listen (TCP)
 * and/or cfg->authpolicy.unix_socket, through listener.c and http_req.c
 * (libhttp-parser).
 *
 * POST ...?command=allow: the attempt becomes an auth_observation (phase
 * BEFORE) for engine_auth_check, and the verdict the answer
 * {"status":0,"msg":""} (go on), {"status":N,"msg":""} (Dovecot waits N
 * seconds, then goes on) or {"status":-1,"msg":"<reject_text>"} (the login
 * fails with that text). POST ...?command=report: the outcome (FAILURE or
 * SUCCESS) goes to engine_auth_report; the answer is always status 0.
 * A report of a login our own answer refused (policy_reject) is counted
 * but not fed to the detectors: its password was never checked.
 *
 * Refusals: a request that is not a valid auth policy request gets 400
 * and {"error":"..."}, a missing or wrong X-API-Key (when api_key is set)
 * 401 (the connection stays open), a method other than POST 405 (with
 * Allow: POST; the connection closes: not Dovecot); each one warning line
 * and a counter. A request whose
 * HTTP framing is broken gets a JSON 400 too, a chunked body 411, a body
 * over AUTHPOLICY_MAX_BODY 413 (from Content-Length, before it is read),
 * headers over AUTHPOLICY_MAX_HEADERS bytes or AUTHPOLICY_MAX_HEADER_LINES
 * lines 431, a version other than HTTP/1.x 505; then the connection
 * closes. Every error body is JSON.
 * A new connection over max_connections (per listening socket) is
 * closed at once by the listener and counted (over_limit).
 * Dovecot treats every refusal as a policy failure and, with its default
 * auth_policy_reject_on_fail = no, lets the login go on (fail open). An
 * engine verdict the service does not know is answered "allow" and
 * counted as fail_open. An idle connection, or one that does not finish
 * its request, is closed after [authpolicy] timeout. "Connection: close"
 * and HTTP/1.0 without keep-alive close after the answer; "Expect:
 * 100-continue" is answered "100 Continue". Memory: one arena for the
 * request being answered, reset after each answer (requests are answered
 * synchronously).
 * Loop thread only.
 */
#ifndef MW_LISTEN_AUTHPOLICY_H
#define MW_LISTEN_AUTHPOLICY_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/mem.h"

struct event_base;
struct engine;

#define AUTHPOLICY_MAX_HEADERS	8192	/* bytes of request line and headers; Dovecot sends ~250 */
#define AUTHPOLICY_MAX_HEADER_LINES 64	/* header lines; Dovecot sends 5 */
#define AUTHPOLICY_API_HEADER	"X-API-Key"	/* as Dovecot sends a bare api header value */

struct authpolicy_server;

struct authpolicy_stats {
	uint64_t	 connections;		/* open now */
	uint64_t	 connections_total;	/* since start */
	uint64_t	 requests;		/* valid requests answered */
	uint64_t	 allow_checks;		/* command=allow */
	uint64_t	 reports;		/* command=report */
	uint64_t	 policy_rejects;	/* reports of logins we refused */
	uint64_t	 verdicts[3];		/* allow answers by enum auth_verdict_kind */
	uint64_t	 malformed;		/* 400, 405, 411, 413, 431, 505 */
	uint64_t	 unauthorized;		/* 401 */
	uint64_t	 over_limit;		/* closed: over max_connections */
	uint64_t	 fail_open;		/* allowed because of our own trouble */
};

/* Binds cfg->authpolicy.listen if non-empty and cfg->authpolicy.unix_socket
   if non-empty (unix_socket_mode, unix_socket_group; a stale socket file is
   removed first, any other file is refused). Call only when
   cfg->authpolicy.enabled. cfg must stay valid until the next
   authpolicy_server_reload; e must outlive the server. 0, or -1 with
   *error_r (malloc'd, the caller frees it); nothing stays bound on
   failure. */
int	 authpolicy_server_new(struct event_base *base, const struct cfg *cfg,
	    struct engine *e, struct authpolicy_server **ap_r, char **error_r)
	    MW_MUST_CHECK;
/* Takes api_key, hash_truncate, reject_text, max_connections and timeout
   from the new cfg; a changed listen, unix_socket, mode or group needs a
   restart (logged). The caller frees the old cfg after this returns. */
void	 authpolicy_server_reload(struct authpolicy_server *ap,
	    const struct cfg *cfg);
/* Closes every connection and listener, removes the unix socket file.
   NULL-safe; clears *ap. */
void	 authpolicy_server_free(struct authpolicy_server **ap);

void	 authpolicy_server_get_stats(const struct authpolicy_server *ap,
	    struct authpolicy_stats *s_r);
/* The TCP port bound (tests bind port 0); 0 without a TCP listener. */
uint16_t authpolicy_server_port(const struct authpolicy_server *ap);

#endif
