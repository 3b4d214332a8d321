/*
 * policy_parse - Postfix policy delegation request parser and answer
 * formatter; see policy_parse.h. One pass over each line: the name is
 * scanned byte by byte up to its '=', the value eight bytes at a time for
 * its LF and any other control character (mw_slice_find_ctl). Limits are
 * checked on each line before it is kept, in the order the errors are
 * reported; the request as a whole is validated at its empty line. Names
 * are told apart by length, then compared once.
 */
#include "listen/policy_parse.h"

#include <string.h>

#define POLICY_ERR_TEXT	40	/* bytes of a peer value quoted in an error */
#define POLICY_NO_EQ	SIZE_MAX	/* a line without '=' */

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

/* The attribute called name (len bytes), or -1 for the names we ignore
   (most of the 29 Postfix sends): the length selects one to four
   candidates, the first byte then at most two. */
static int
policy_attr_find(const char *name, size_t len)
{
#define IS(lit)	(memcmp(name, lit, sizeof(lit) - 1) == 0)
	switch (len) {
	case 4:
		return IS("size") ? PA_SIZE : -1;
	case 6:
		return IS("sender") ? PA_SENDER : -1;
	case 7:
		return IS("request") ? PA_REQUEST : -1;
	case 8:
		return name[0] == 'i' ? (IS("instance") ? PA_INSTANCE : -1) :
		    IS("queue_id") ? PA_QUEUE_ID : -1;
	case 9:
		return name[0] == 'h' ? (IS("helo_name") ? PA_HELO_NAME : -1) :
		    IS("recipient") ? PA_RECIPIENT : -1;
	case 11:
		switch (name[0]) {
		case 'c': return IS("client_name") ? PA_CLIENT_NAME : -1;
		case 's': return IS("server_port") ? PA_SERVER_PORT :
			      IS("sasl_method") ? PA_SASL_METHOD : -1;
		}
		return -1;
	case 13:
		return IS("sasl_username") ? PA_SASL_USERNAME : -1;
	case 14:
		switch (name[0]) {
		case 'c': return IS("client_address") ? PA_CLIENT_ADDRESS : -1;
		case 'p': return IS("protocol_state") ? PA_PROTOCOL_STATE :
			      IS("policy_context") ? PA_POLICY_CONTEXT : -1;
		case 's': return IS("server_address") ? PA_SERVER_ADDRESS : -1;
		}
		return -1;
	case 15:
		return IS("recipient_count") ? PA_RECIPIENT_COUNT : -1;
	case 19:
		return IS("reverse_client_name") ? PA_REVERSE_CLIENT_NAME : -1;
	}
	return -1;
#undef IS
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
	if (strcmp(req->request, "smtpd_access_policy") != 0) {
		*error_r = mw_arena_printf(arena,
		    "request \"%s\" is not smtpd_access_policy",
		    mw_sanitize(arena, mw_slice_from_cstr(req->request),
		    POLICY_ERR_TEXT));
		return -1;
	}
	req->has_addr = false;
	if (req->client_address[0] != '\0' &&
	    strcmp(req->client_address, "unknown") != 0) {
		if (mw_addr_parse(req->client_address, &req->addr) < 0) {
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

/* One line at data[pos], avail bytes from there to the end of the input.
   1: the request ended (empty line), 0: line done or incomplete (*lf_r
   SIZE_MAX when its LF has not arrived), -1: malformed. */
static int
policy_parse_one(struct policy_req *req, char *data, size_t pos,
    size_t avail, struct mw_arena *arena, size_t *lf_r, const char **error_r)
{
	const char	*line = data + pos;
	size_t		 i, eq = POLICY_NO_EQ, lf, ctl_value = SIZE_MAX;
	bool		 ctl_name = false;
	int		 id;

	*lf_r = SIZE_MAX;
	/* The name, up to '=' (names are short). */
	for (i = 0; i < avail; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == '=') {
			eq = i;
			break;
		}
		if (ch < 0x20 || ch == 0x7f) {
			if (ch == '\n')
				break;
			ctl_name = true;
		}
	}
	if (eq == POLICY_NO_EQ)
		lf = i;		/* avail: no LF yet */
	else {
		/* The value: its LF, noting any other control character. */
		lf = eq + 1 + mw_slice_find_ctl((struct mw_slice){
		    line + eq + 1, avail - eq - 1 });
		if (lf < avail && line[lf] != '\n') {
			const char *nl = memchr(line + lf, '\n', avail - lf);

			ctl_value = lf;
			lf = nl != NULL ? (size_t)(nl - line) : avail;
		}
	}
	if (lf == avail) {
		/* Partial: it may not grow past the cap. */
		if (avail > POLICY_MAX_LINE)
			return policy_fail(error_r, "line longer than 4096 bytes");
		return 0;
	}
	*lf_r = lf;
	if (lf > POLICY_MAX_LINE)
		return policy_fail(error_r, "line longer than 4096 bytes");
	req->total_len += lf + 1;
	if (req->total_len > POLICY_MAX_REQUEST)
		return policy_fail(error_r, "request larger than 32768 bytes");
	if (lf == 0) {
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
	if (ctl_value != SIZE_MAX) {
		*error_r = mw_arena_printf(arena, "control character in %s",
		    mw_sanitize(arena, (struct mw_slice){ line, eq },
		    POLICY_ERR_TEXT));
		return -1;
	}
	data[pos + lf] = '\0';
	if ((id = policy_attr_find(line, eq)) >= 0)
		req->value_off[id] = (uint16_t)(pos + eq + 1);
	return 0;
}

int
policy_parse_request(struct policy_req *req, char *data, size_t len,
    struct mw_arena *arena, size_t *used_r, const char **error_r)
{
	size_t	 lf;
	int	 ret;

	*used_r = 0;
	/* total_len: where the first line not parsed yet starts. */
	while (req->total_len < len) {
		size_t pos = req->total_len;

		ret = policy_parse_one(req, data, pos, len - pos, arena, &lf,
		    error_r);
		if (ret < 0)
			return -1;
		if (ret == 1) {
			*used_r = req->total_len;
			return 1;
		}
		if (lf == SIZE_MAX)
			break;	/* the rest is a partial line */
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
