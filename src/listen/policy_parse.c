/*
 * policy_parse - Postfix policy delegation request parser and answer
 * formatter; see policy_parse.h. One pass over the bytes, 64 at a time:
 * LFs, '=' and control characters become bit masks (mw_slice_classify64,
 * SSE2), and each line is then a few bit operations, whatever its
 * length. Limits are checked on each line before it is kept, in the
 * order the errors are reported; the request as a whole is validated at
 * its empty line. Kept names are found with a perfect hash and compared
 * once.
 * UNSAFE: raw memory (offsets into the caller's buffer, word loads of
 * names); every access is bounded by len or by a line already found.
 */
#include "listen/policy_parse.h"

#include <string.h>

#define POLICY_ERR_TEXT	40	/* bytes of a peer value quoted in an error */
#define POLICY_NO_EQ	SIZE_MAX	/* a line without '=' */
#define POLICY_REQUEST_LEN	(sizeof("smtpd_access_policy") - 1)

static int
policy_fail(const char **error_r, const char *error)
{
	*error_r = error;
	return -1;
}

static const char **
policy_attr_slot(struct policy_req *req, enum policy_attr_id id)
{
	switch (id) {
	case PA_REQUEST:		return &req->request;
	case PA_PROTOCOL_STATE:		return &req->protocol_state;
	case PA_CLIENT_ADDRESS:		return &req->client_address;
	case PA_CLIENT_NAME:		return &req->client_name;
	case PA_REVERSE_CLIENT_NAME:	return &req->reverse_client_name;
	case PA_HELO_NAME:		return &req->helo_name;
	case PA_SENDER:			return &req->sender;
	case PA_RECIPIENT:		return &req->recipient;
	case PA_RECIPIENT_COUNT:	return &req->recipient_count;
	case PA_INSTANCE:		return &req->instance;
	case PA_SASL_USERNAME:		return &req->sasl_username;
	case PA_SASL_METHOD:		return &req->sasl_method;
	case PA_SERVER_ADDRESS:		return &req->server_address;
	case PA_SERVER_PORT:		return &req->server_port;
	case PA_POLICY_CONTEXT:		return &req->policy_context;
	case PA_QUEUE_ID:		return &req->queue_id;
	case PA_SIZE:			return &req->size;
	case PA_COUNT:			break;
	}
	mw_panic("policy_attr_slot: attribute %d", (int)id);
}

void
policy_req_init(struct policy_req *req)
{
	*req = (struct policy_req){ 0 };
	for (int id = 0; id < PA_COUNT; id++)
		*policy_attr_slot(req, (enum policy_attr_id)id) = "";
}

/* The attributes kept, by a perfect hash of their length, first and
   fourth bytes (every kept name has four or more): one probe and one
   memcmp per line, whatever the order of the lines. A collision would be
   a compile error (-Woverride-init). */
#define POLICY_HASH(len, c0, c3) \
	((((size_t)(len) * 2) + (size_t)(c0) * 4 + (size_t)(c3)) & 31)

static const struct policy_attr {
	const char	*name;
	size_t		 len;	/* 0: empty slot */
	int		 id;
} policy_attrs[32] = {
#define A(n, c0, c3, id) \
	[POLICY_HASH(sizeof(n) - 1, c0, c3)] = { n, sizeof(n) - 1, id }
	A("request", 'r', 'u', PA_REQUEST),
	A("protocol_state", 'p', 't', PA_PROTOCOL_STATE),
	A("client_address", 'c', 'e', PA_CLIENT_ADDRESS),
	A("client_name", 'c', 'e', PA_CLIENT_NAME),
	A("reverse_client_name", 'r', 'e', PA_REVERSE_CLIENT_NAME),
	A("helo_name", 'h', 'o', PA_HELO_NAME),
	A("sender", 's', 'd', PA_SENDER),
	A("recipient", 'r', 'i', PA_RECIPIENT),
	A("recipient_count", 'r', 'i', PA_RECIPIENT_COUNT),
	A("instance", 'i', 't', PA_INSTANCE),
	A("sasl_username", 's', 'l', PA_SASL_USERNAME),
	A("sasl_method", 's', 'l', PA_SASL_METHOD),
	A("server_address", 's', 'v', PA_SERVER_ADDRESS),
	A("server_port", 's', 'v', PA_SERVER_PORT),
	A("policy_context", 'p', 'i', PA_POLICY_CONTEXT),
	A("queue_id", 'q', 'u', PA_QUEUE_ID),
	A("size", 's', 'e', PA_SIZE),
#undef A
};

/* a and b (len bytes, 4 to 24) are equal: two or three loads of 4 or 8
   bytes each, overlapping, all inside [0, len). Cheaper than a memcmp
   call for names this short. */
static bool
policy_name_eq(const char *a, const char *b, size_t len)
{
	uint64_t	 x, y;
	uint32_t	 u, v;

	if (len < 8) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return false;
		memcpy(&u, a + len - 4, 4);
		memcpy(&v, b + len - 4, 4);
		return u == v;
	}
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	if (x != y)
		return false;
	if (len > 16) {
		memcpy(&x, a + 8, 8);
		memcpy(&y, b + 8, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, a + len - 8, 8);
	memcpy(&y, b + len - 8, 8);
	return x == y;
}

/* The attribute called name (len bytes), or -1 for the names we ignore
   (most of the 29 Postfix sends). */
static int
policy_attr_find(const char *name, size_t len)
{
	const struct policy_attr *pa;

	if (len < 4)
		return -1;
	pa = &policy_attrs[POLICY_HASH(len, (unsigned char)name[0],
	    (unsigned char)name[3])];
	/* Kept names are 4 to 19 bytes. */
	return pa->len == len && policy_name_eq(name, pa->name, len) ?
	    pa->id : -1;
}

/* The empty line: is the request usable? data is the request's start. */
static int
policy_req_finish(struct policy_req *req, const char *data,
    struct mw_arena *arena, const char **error_r)
{
	uint32_t port;

	for (int id = 0; id < PA_COUNT; id++)
		if (req->value_off[id] != 0)
			*policy_attr_slot(req, (enum policy_attr_id)id) =
			    data + req->value_off[id];
	if (req->request[0] == '\0')
		return policy_fail(error_r, "no request attribute");
	if (req->value_len[PA_REQUEST] != POLICY_REQUEST_LEN ||
	    memcmp(req->request, "smtpd_access_policy", POLICY_REQUEST_LEN) != 0) {
		*error_r = mw_arena_printf(arena,
		    "request \"%s\" is not smtpd_access_policy",
		    mw_sanitize(arena, mw_slice_from_cstr(req->request),
		    POLICY_ERR_TEXT));
		return -1;
	}
	req->has_addr = false;
	if (req->client_address[0] != '\0' &&
	    (req->value_len[PA_CLIENT_ADDRESS] != 7 ||
	    memcmp(req->client_address, "unknown", 7) != 0)) {
		if (mw_addr_parse_len(req->client_address,
		    req->value_len[PA_CLIENT_ADDRESS], &req->addr) < 0) {
			*error_r = mw_arena_printf(arena,
			    "client_address \"%s\" is not an IP address",
			    mw_sanitize(arena,
			    mw_slice_from_cstr(req->client_address),
			    POLICY_ERR_TEXT));
			return -1;
		}
		req->has_addr = true;
	}
	req->port = 0;
	if (req->server_port[0] != '\0') {
		if (mw_parse_u32(req->server_port, 65535, &port) < 0) {
			*error_r = mw_arena_printf(arena,
			    "server_port \"%s\" is not a port number",
			    mw_sanitize(arena,
			    mw_slice_from_cstr(req->server_port),
			    POLICY_ERR_TEXT));
			return -1;
		}
		req->port = (uint16_t)port;
	}
	return 1;
}

/* The complete line at data[line], len bytes (its LF at data[line + len]),
   with the offset of its first '=' (POLICY_NO_EQ: none) and whether a
   control character came before it or after it. 1: the empty line ended
   the request, 0: next line, -1: malformed. */
static int
policy_line(struct policy_req *req, char *data, size_t line, size_t len,
    size_t eq, bool ctl_name, bool ctl_value, struct mw_arena *arena,
    const char **error_r)
{
	int id;

	if (len > POLICY_MAX_LINE)
		return policy_fail(error_r, "line longer than 4096 bytes");
	req->total_len += len + 1;
	if (req->total_len > POLICY_MAX_REQUEST)
		return policy_fail(error_r, "request larger than 32768 bytes");
	if (len == 0) {
		if (req->nattrs == 0)
			return policy_fail(error_r, "empty request");
		return policy_req_finish(req, data, arena, error_r);
	}
	if (++req->nattrs > POLICY_MAX_ATTRS)
		return policy_fail(error_r, "more than 64 attributes");
	if (eq == POLICY_NO_EQ || eq == 0)
		return policy_fail(error_r, "line is not name=value");
	if (ctl_name)
		return policy_fail(error_r, "control character in a name");
	if (ctl_value) {
		*error_r = mw_arena_printf(arena, "control character in %s",
		    mw_sanitize(arena, (struct mw_slice){ data + line, eq },
		    POLICY_ERR_TEXT));
		return -1;
	}
	data[line + len] = '\0';
	if ((id = policy_attr_find(data + line, eq)) >= 0) {
		req->value_off[id] = (uint16_t)(line + eq + 1);
		req->value_len[id] = (uint16_t)(len - eq - 1);
	}
	return 0;
}

int
policy_parse_request(struct policy_req *req, char *data, size_t len,
    struct mw_arena *arena, size_t *used_r, const char **error_r)
{
	size_t	 line = req->total_len;	/* where the current line starts */
	size_t	 eq = POLICY_NO_EQ;	/* its first '=', from line */
	size_t	 lf;
	bool	 ctl_name = false, ctl_value = false;
	int	 ret;

	*used_r = 0;
	/* 64 bytes at a time: LFs, '=' and control characters as bit masks
	   (mw_slice_classify64), then each line ending in the block. A
	   block starts at or after the current line's start. */
	for (size_t base = line; base < len; base += 64) {
		size_t		 n = len - base < 64 ? len - base : 64;
		uint64_t	 lfm, eqm, ctlm, from = ~0ULL;

		mw_slice_classify64(data + base, n, '=', &lfm, &eqm, &ctlm);
		for (;;) {
			/* The current line's bytes in this block (from), up
			   to its LF if that is here (l). */
			uint64_t l = lfm & from;
			uint64_t seg = (l != 0 ? (l & (0 - l)) - 1 : ~0ULL) & from;
			uint64_t c = ctlm & seg;

			if (eq == POLICY_NO_EQ && (eqm & seg) != 0)
				eq = base + (size_t)__builtin_ctzll(eqm & seg) -
				    line;
			if (c != 0 && eq == POLICY_NO_EQ)
				ctl_name = true;
			else if (c != 0 && line + eq < base)
				ctl_value = true;	/* '=' in an earlier block */
			else if (c != 0) {
				uint64_t below = (1ULL << (line + eq - base)) - 1;

				ctl_name |= (c & below) != 0;
				ctl_value |= (c & ~below) != 0;
			}
			if (l == 0)
				break;
			lf = base + (size_t)__builtin_ctzll(l);
			ret = policy_line(req, data, line, lf - line, eq,
			    ctl_name, ctl_value, arena, error_r);
			if (ret != 0) {
				if (ret > 0)
					*used_r = req->total_len;
				return ret;
			}
			line = lf + 1;
			eq = POLICY_NO_EQ;
			ctl_name = ctl_value = false;
			if (line - base >= 64)
				break;
			from = ~0ULL << (line - base);
		}
		/* A line that has not ended may not grow past the cap. */
		if (base + n - line > POLICY_MAX_LINE)
			return policy_fail(error_r, "line longer than 4096 bytes");
	}
	return 0;
}

/* --- answers ---------------------------------------------------------- */

/* Appends s to out (at *len, capacity cap), control characters as '?',
   cut at max bytes. Peer or admin text becomes one printable line. */
static void
policy_put_text(char *out, size_t *len, size_t cap, const char *s, size_t max)
{
	for (size_t i = 0; s[i] != '\0' && i < max && *len < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[(*len)++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
}

/* "5.7.1"-like: digit '.' 1-3 digits '.' 1-3 digits, first digit class. */
static bool
policy_status_ok(const char *s, char klass)
{
	size_t i = 0;

	if (s == NULL || s[0] != klass || s[1] != '.')
		return false;
	for (int part = 0; part < 2; part++) {
		size_t n = 0;

		i = part == 0 ? 2 : i + 1;
		while (s[i] >= '0' && s[i] <= '9' && n < 4) {
			i++;
			n++;
		}
		if (n == 0 || n > 3 || s[i] != (part == 0 ? '.' : '\0'))
			return false;
	}
	return true;
}

size_t
policy_reply_format(const struct verdict *v, char *out, size_t cap)
{
	const char	*action, *status, *text;
	size_t		 len = 0;
	char		 klass;

	MW_ASSERT(cap >= POLICY_REPLY_MAX);
	switch (v->kind) {
	case VERDICT_REJECT:
		action = "action=REJECT ";
		klass = '5';
		status = "5.7.1";
		text = v->text;
		break;
	case VERDICT_DEFER:
		/* DEFER_IF_PERMIT: a later restriction's reject still wins. */
		action = "action=DEFER_IF_PERMIT ";
		klass = '4';
		status = "4.7.1";
		text = v->text;
		break;
	case VERDICT_WARN:
		action = "action=WARN ";
		klass = 0;
		status = NULL;
		text = v->reason;
		break;
	case VERDICT_DUNNO:
	default:
		memcpy(out, "action=DUNNO\n\n", 14);
		return 14;
	}
	if (klass != 0 && policy_status_ok(v->status, klass))
		status = v->status;
	len = strlen(action);
	memcpy(out, action, len);
	if (status != NULL) {
		memcpy(&out[len], status, strlen(status));
		len += strlen(status);
		if (text != NULL && text[0] != '\0')
			out[len++] = ' ';
	}
	if (text != NULL)
		policy_put_text(out, &len, cap - 2, text, POLICY_MAX_TEXT);
	while (len > 0 && out[len - 1] == ' ')
		len--;	/* "action=WARN" when there is no reason */
	out[len++] = '\n';
	out[len++] = '\n';
	return len;
}
