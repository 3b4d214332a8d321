/*
 * policy_parse - Postfix policy delegation request parser.
 *
 * "name=value" lines (LF only), ended by an empty line, become a struct
 * policy_req (protocols.md 1.1, 1.2); a verdict becomes the one-line
 * answer (1.4). Pure: no I/O, no globals; the unit
 * test and tests/fuzz/fuzz_listen_policy.c drive it without a socket.
 * Postfix sends the request, but helo_name, sender, recipient and most
 * other values are chosen by the SMTP client: every limit is checked as
 * the bytes arrive, control characters are refused, and unknown names
 * are ignored (Postfix adds attributes over time).
 * The request is parsed in place, in the caller's (writable) buffer: each
 * line's LF becomes a NUL and the values are pointers into the buffer, so
 * the hot path copies nothing and allocates nothing.
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

/* Bytes of an unfinished request the parser may ask the caller to keep
   (it returns 0, "more bytes needed"): POLICY_MAX_REQUEST bytes of
   complete lines and a partial line of POLICY_MAX_LINE bytes. An input
   buffer of POLICY_MAX_PENDING + 1 bytes therefore always has room for
   the byte that completes the request or makes it malformed. */
#define POLICY_MAX_PENDING	(POLICY_MAX_REQUEST + POLICY_MAX_LINE)

enum policy_attr_id {
	PA_REQUEST, PA_PROTOCOL_STATE, PA_CLIENT_ADDRESS, PA_CLIENT_NAME,
	PA_REVERSE_CLIENT_NAME, PA_HELO_NAME, PA_SENDER, PA_RECIPIENT,
	PA_RECIPIENT_COUNT, PA_INSTANCE, PA_SASL_USERNAME, PA_SASL_METHOD,
	PA_SERVER_ADDRESS, PA_SERVER_PORT, PA_POLICY_CONTEXT, PA_QUEUE_ID,
	PA_SIZE,
	PA_COUNT
};

/* One request. Once policy_parse_request returned 1, the strings are
   NUL-terminated values inside the buffer given to the parser ("" when
   the attribute was absent): they live as long as those bytes stay where
   they are. A duplicated name: the last value wins. */
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

	/* Set when the request is complete. */
	struct mw_addr	 addr;		/* client_address */
	bool		 has_addr;	/* false: empty or "unknown" */
	uint16_t	 port;		/* server_port; 0 when empty */

	/* Parser state, kept between calls: offsets from the start of the
	   request, so the caller may move its bytes between calls. */
	size_t		 nattrs;	/* lines so far, the empty one excluded */
	size_t		 total_len;	/* bytes of complete lines, LFs included */
	uint16_t	 value_off[PA_COUNT];	/* 0: attribute absent */
	uint16_t	 value_len[PA_COUNT];
};

/* Prepares req for a new request (every string ""). */
void	policy_req_init(struct policy_req *req);

/* Parses the request at the start of data (len bytes; the request's first
   byte is data[0]), continuing where the previous call on req stopped:
   data must start with the same bytes as before (moved, perhaps), plus
   whatever arrived since. Returns
     1  the request is complete and valid: its strings point into data
        (LFs replaced by NULs); *used_r is its length, the bytes after it
        belong to the next request;
     0  more bytes are needed (*used_r 0): keep all len bytes, at most
        POLICY_MAX_PENDING, and call again when more arrived;
    -1  malformed (also: a line longer than POLICY_MAX_LINE, even before
        its LF arrives), with *error_r set (static text or allocated in
        arena; peer bytes in it are sanitized); req is unusable until
        policy_req_init.
   The outcome never depends on how the bytes were split between calls. */
int	policy_parse_request(struct policy_req *req, char *data, size_t len,
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
