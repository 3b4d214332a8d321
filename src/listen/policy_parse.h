/*
 * policy_parse - Postfix policy delegation request parser.
 *
 * "name=value" lines (LF only), ended by an empty line, become a struct
 * policy_req (protocols.md 1.1, 1.2); a verdict becomes the one-line
 * answer (1.4). Pure: no I/O, no globals; the unit
 * test and tests/fuzz/fuzz_listen_policy.c drive it without a socket.
 * Postfix sends the request, but helo_name, sender, recipient and most
 * other values are chosen by the SMTP client: every limit is checked before
 * anything is copied, control characters are refused, and unknown names
 * are ignored (Postfix adds attributes over time).
 */
#ifndef MW_LISTEN_POLICY_PARSE_H
#define MW_LISTEN_POLICY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/arena.h"
#include "core/mem.h"
#include "core/slice.h"
#include "engine/engine.h"

#define POLICY_MAX_LINE		4096	/* bytes in one line, without LF */
#define POLICY_MAX_ATTRS	64	/* lines per request; 3.7 sends 29, later 32 */
#define POLICY_MAX_REQUEST	32768	/* bytes per request, LFs included */
#define POLICY_MAX_TEXT		400	/* reply text bytes; SMTP lines stop at 512 */
#define POLICY_REPLY_MAX	(POLICY_MAX_TEXT + 64)	/* action, status, LFs */

/* One request. The strings are NUL-terminated copies in the arena given
   to the parser, "" when the attribute was absent; they live until that
   arena is reset. A duplicated name: the last value wins. */
struct policy_req {
	const char	*request;		/* "smtpd_access_policy" */
	const char	*protocol_state;	/* "RCPT", "END-OF-MESSAGE", ... */
	const char	*client_address;
	const char	*client_name;
	const char	*reverse_client_name;
	const char	*helo_name;
	const char	*sender;
	const char	*recipient;
	const char	*recipient_count;
	const char	*instance;
	const char	*sasl_username;
	const char	*sasl_method;
	const char	*server_address;
	const char	*server_port;
	const char	*policy_context;
	const char	*queue_id;
	const char	*size;

	/* Set when the request is complete (policy_parse_line returned 1). */
	struct mw_addr	 addr;		/* client_address */
	bool		 has_addr;	/* false: empty or "unknown" */
	uint16_t	 port;		/* server_port; 0 when empty */

	/* Parser state. */
	size_t		 nattrs;	/* lines so far, the empty one excluded */
	size_t		 total_len;	/* bytes so far, LFs included */
};

/* Prepares req for a new request (every string ""). */
void	policy_req_init(struct policy_req *req);

/* Adds one line (LF removed) to req. Returns 1 when it was the empty line
   ending a non-empty, valid request, 0 when more lines are needed, -1 on
   malformed input with *error_r set (static text or allocated in arena;
   peer bytes in it are sanitized). Values stored in req are copies in
   arena: the caller may reuse line. After -1 req is unusable until
   policy_req_init. */
int	policy_parse_line(struct policy_req *req, struct mw_slice line,
	    struct mw_arena *arena, const char **error_r) MW_MUST_CHECK;

/* The line splitter the daemon uses: parses the complete lines at the
   start of data (len bytes) into req and stops after the empty line that
   ends a request. *used_r is the number of bytes consumed (whole lines
   only; the caller drops them and keeps the rest for the next call).
   Returns 1 when a request is complete, 0 when more bytes are needed,
   -1 on malformed input (also: POLICY_MAX_LINE bytes without a LF), with
   *error_r as for policy_parse_line. */
int	policy_parse_feed(struct policy_req *req, const char *data, size_t len,
	    struct mw_arena *arena, size_t *used_r, const char **error_r)
	    MW_MUST_CHECK;

/* The answer to a request (protocols.md 1.4), "\n\n" included, into out
   (size >= POLICY_REPLY_MAX); returns its length. DUNNO: "action=DUNNO";
   REJECT: "action=REJECT <status> <text>" (status 5.7.1 unless v->status
   is a valid 5.x.y); DEFER: "action=DEFER_IF_PERMIT <status> <text>"
   (4.7.1 unless a valid 4.x.y; DEFER_IF_PERMIT so that a later reject
   still wins); WARN: "action=WARN <reason>". Texts become one printable
   line (control characters as '?'), cut at POLICY_MAX_TEXT bytes. */
size_t	policy_reply_format(const struct verdict *v, char *out, size_t size);

#endif
