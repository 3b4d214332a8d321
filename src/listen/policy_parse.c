/*
 * policy_parse - Postfix policy delegation request parser and answer
 * formatter; see policy_parse.h. Limits are checked on each line before
 * its value is copied; the request as a whole is validated at its empty
 * line.
 */
#include "listen/policy_parse.h"

#include <string.h>

#define POLICY_ERR_TEXT	40	/* bytes of a peer value quoted in an error */

/* The attributes kept; every other name is ignored. */
enum policy_attr_id {
	PA_REQUEST, PA_PROTOCOL_STATE, PA_CLIENT_ADDRESS, PA_CLIENT_NAME,
	PA_REVERSE_CLIENT_NAME, PA_HELO_NAME, PA_SENDER, PA_RECIPIENT,
	PA_RECIPIENT_COUNT, PA_INSTANCE, PA_SASL_USERNAME, PA_SASL_METHOD,
	PA_SERVER_ADDRESS, PA_SERVER_PORT, PA_POLICY_CONTEXT, PA_QUEUE_ID,
	PA_SIZE,
};

static const struct policy_attr {
	struct mw_slice		 name;
	enum policy_attr_id	 id;
} policy_attrs[] = {
#define A(n, id)	{ { #n, sizeof(#n) - 1 }, id }
	A(request, PA_REQUEST), A(protocol_state, PA_PROTOCOL_STATE),
	A(client_address, PA_CLIENT_ADDRESS), A(client_name, PA_CLIENT_NAME),
	A(reverse_client_name, PA_REVERSE_CLIENT_NAME),
	A(helo_name, PA_HELO_NAME), A(sender, PA_SENDER),
	A(recipient, PA_RECIPIENT), A(recipient_count, PA_RECIPIENT_COUNT),
	A(instance, PA_INSTANCE), A(sasl_username, PA_SASL_USERNAME),
	A(sasl_method, PA_SASL_METHOD), A(server_address, PA_SERVER_ADDRESS),
	A(server_port, PA_SERVER_PORT), A(policy_context, PA_POLICY_CONTEXT),
	A(queue_id, PA_QUEUE_ID), A(size, PA_SIZE),
#undef A
};

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
	}
	mw_panic("policy_attr_slot: attribute %d", (int)id);
}

void
policy_req_init(struct policy_req *req)
{
	*req = (struct policy_req){ 0 };
	for (size_t i = 0; i < MW_N_ELEMENTS(policy_attrs); i++)
		*policy_attr_slot(req, policy_attrs[i].id) = "";
}

static const struct policy_attr *
policy_attr_find(struct mw_slice name)
{
	for (size_t i = 0; i < MW_N_ELEMENTS(policy_attrs); i++) {
		if (mw_slice_eq(policy_attrs[i].name, name))
			return &policy_attrs[i];
	}
	return NULL;
}

/* The empty line: is the request usable? */
static int
policy_req_finish(struct policy_req *req, struct mw_arena *arena,
    const char **error_r)
{
	uint32_t port;

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

int
policy_parse_line(struct policy_req *req, struct mw_slice line,
    struct mw_arena *arena, const char **error_r)
{
	const struct policy_attr	*pa;
	struct mw_slice			 name, value;

	if (line.len > POLICY_MAX_LINE)
		return policy_fail(error_r, "line longer than 4096 bytes");
	req->total_len += line.len + 1;
	if (req->total_len > POLICY_MAX_REQUEST)
		return policy_fail(error_r, "request larger than 32768 bytes");
	if (line.len == 0) {
		if (req->nattrs == 0)
			return policy_fail(error_r, "empty request");
		return policy_req_finish(req, arena, error_r);
	}
	if (++req->nattrs > POLICY_MAX_ATTRS)
		return policy_fail(error_r, "more than 64 attributes");
	if (!mw_slice_split(line, '=', &name, &value) || name.len == 0)
		return policy_fail(error_r, "line is not name=value");
	if (!mw_slice_is_printable(name))
		return policy_fail(error_r, "control character in a name");
	if (!mw_slice_is_printable(value)) {
		*error_r = mw_arena_printf(arena, "control character in %s",
		    mw_sanitize(arena, name, POLICY_ERR_TEXT));
		return -1;
	}
	if ((pa = policy_attr_find(name)) != NULL)
		*policy_attr_slot(req, pa->id) = mw_slice_dup(arena, value);
	return 0;
}

int
policy_parse_feed(struct policy_req *req, const char *data, size_t len,
    struct mw_arena *arena, size_t *used_r, const char **error_r)
{
	struct mw_slice	 rest = { data, len }, line;
	int		 ret;

	*used_r = 0;
	while (mw_slice_split(rest, '\n', &line, &rest)) {
		*used_r = len - rest.len;
		if ((ret = policy_parse_line(req, line, arena, error_r)) != 0)
			return ret;
	}
	/* What is left is a partial line: it may not grow past the cap. */
	if (rest.len > POLICY_MAX_LINE)
		return policy_fail(error_r, "line longer than 4096 bytes");
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
