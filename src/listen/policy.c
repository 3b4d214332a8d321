/*
 * policy - the Postfix policy delegation server; see policy.h.
 *
 * Per connection: an arena for what the engine and the error texts
 * allocate (reset after each answer) and at most one decision in flight.
 * Requests are parsed in place in the listener's input buffer
 * (policy_parse_request: no copies); a complete request is consumed before
 * the engine sees it, and the engine copies what it keeps when it has to
 * wait (a DNSBL lookup). While it waits, nothing more is parsed, so
 * pipelined requests stay in the input buffer and are answered in order;
 * reading itself stays on (up to max_input) so a peer that leaves cancels
 * its decision. The input buffer is capped at POLICY_MAX_PENDING + 1
 * bytes, enough for any request the parser can still accept.
 * Hot path (cached verdict): one recv, the parse, the engine, one send for
 * all the answers of that read; nothing is allocated.
 */
#include "listen/policy.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/slice.h"
#include "engine/engine.h"
#include "listen/listener.h"
#include "listen/policy_parse.h"

#define POLICY_MALFORMED_REPLY \
	"action=DEFER_IF_PERMIT 4.3.0 malformed policy request\n\n"

struct policy_server {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct engine		*engine;
	struct listener		*tcp, *unix_l;
	struct policy_stats	 stats;
};

struct policy_conn {
	struct policy_server	*ps;
	struct listener_conn	*c;
	struct mw_arena		*arena;
	struct policy_req	 req;
	struct engine_pending	*pending;	/* an asynchronous decision */
	bool			 deciding;	/* inside engine_decide */
};

static void
policy_conn_reset(struct policy_conn *pc)
{
	mw_arena_reset(pc->arena);
	policy_req_init(&pc->req);
}

static void
policy_conn_on_verdict(void *ctx, const struct verdict *v)
{
	struct policy_conn	*pc = ctx;
	char			 reply[POLICY_REPLY_MAX];
	char			 addr[MW_ADDR_STRLEN];
	size_t			 len;

	len = policy_reply_format(v, reply, sizeof(reply));
	listener_conn_write(pc->c, reply, len);
	if ((size_t)v->kind < MW_N_ELEMENTS(pc->ps->stats.verdicts))
		pc->ps->stats.verdicts[v->kind]++;
	/* From req's own fields: its strings are gone when this runs
	   asynchronously. */
	if (log_is_debug())
		log_debug("%s: client %s: %.*s", listener_conn_ctx(pc->c),
		    pc->req.has_addr ? mw_addr_format(&pc->req.addr, addr,
		    sizeof(addr)) : "unknown", (int)(len - 2), reply);
	if (pc->deciding)
		return;	/* synchronous: policy_conn_process carries on */
	/* Asynchronous (the engine's DNSBL callback): pc->pending is about
	   to be freed by the engine. What is already buffered is parsed
	   from the loop, not from inside the engine. */
	pc->pending = NULL;
	policy_conn_reset(pc);
	listener_conn_set_idle_timer(pc->c, true);
	listener_conn_resume(pc->c);
}

/* req is complete; its strings point into the input buffer, which stays
   put until on_read returns. */
static void
policy_conn_decide(struct policy_conn *pc)
{
	struct observation	 obs = {
		.listener = "policy",
		.addr = pc->req.addr,
		.has_addr = pc->req.has_addr,
		.server_port = pc->req.port,
		.protocol_state = pc->req.protocol_state,
		.client_name = pc->req.client_name,
		.helo = pc->req.helo_name,
		.sender = pc->req.sender,
		.recipient = pc->req.recipient,
		.sasl_username = pc->req.sasl_username,
		.policy_context = pc->req.policy_context,
		.instance = pc->req.instance,
	};
	struct engine_pending	*p;

	pc->ps->stats.requests++;
	pc->deciding = true;
	p = engine_decide(pc->ps->engine, &obs, pc->arena,
	    policy_conn_on_verdict, pc);
	pc->deciding = false;
	if (p == NULL) {
		policy_conn_reset(pc);
		return;
	}
	/* Reading stays on, so a peer that leaves is noticed (and the
	   decision cancelled), but nothing more is parsed until the answer
	   is out: policy_conn_process stops while pc->pending is set, and
	   max_input bounds what waits in the input buffer. The idle timer
	   is off meanwhile: the wait is the engine's, not the peer's. */
	pc->pending = p;
	listener_conn_set_idle_timer(pc->c, false);
}

static void
policy_conn_malformed(struct policy_conn *pc, const char *error)
{
	pc->ps->stats.malformed++;
	log_warn("%s: malformed request: %s; closing",
	    listener_conn_ctx(pc->c), error);
	listener_conn_write(pc->c, POLICY_MALFORMED_REPLY,
	    sizeof(POLICY_MALFORMED_REPLY) - 1);
	/* Runs policy_conn_on_close: pc is gone after this. */
	listener_conn_close_after_write(pc->c);
}

/* Every complete request in the input, in order, until one has to wait
   for the engine or the peer stops reading its answers. */
static void
policy_conn_process(struct policy_conn *pc)
{
	while (pc->pending == NULL && !listener_conn_write_blocked(pc->c)) {
		const char	*error = NULL;
		size_t		 len, used;
		char		*data = listener_conn_input(pc->c, &len);
		int		 ret;

		if (len == 0)
			break;
		ret = policy_parse_request(&pc->req, data, len, pc->arena,
		    &used, &error);
		if (ret < 0) {
			policy_conn_malformed(pc, error);
			return;
		}
		if (ret == 0)
			break;	/* the listener keeps the partial request */
		listener_conn_consume(pc->c, used);
		policy_conn_decide(pc);
	}
}

static void
policy_conn_on_read(struct listener_conn *c, void *ctx)
{
	(void)c;
	policy_conn_process(ctx);
}

static void
policy_conn_on_close(struct listener_conn *c, void *ctx)
{
	struct policy_conn *pc = ctx;

	(void)c;
	/* A decision in flight for a peer that left: its verdict is not
	   wanted, and pc must not be called back. */
	engine_cancel(&pc->pending);
	pc->ps->stats.connections--;
	mw_arena_free(&pc->arena);
	free(pc);
}

static void
policy_on_accept(void *ctx, struct listener_conn *c)
{
	struct policy_server	*ps = ctx;
	struct policy_conn	*pc = mw_calloc(1, sizeof(*pc));

	pc->ps = ps;
	pc->c = c;
	pc->arena = mw_arena_new(POLICY_ARENA_CHUNK);
	policy_req_init(&pc->req);
	ps->stats.connections++;
	ps->stats.connections_total++;
	listener_conn_set_cb(c, policy_conn_on_read, policy_conn_on_close, pc);
}

static void
policy_limits(const struct cfg *cfg, struct listener_limits *lim)
{
	*lim = (struct listener_limits){
		.max_connections = cfg->policy.max_connections,
		.idle_timeout = cfg->policy.idle_timeout,
		/* Any request the parser may still accept, and one byte. */
		.max_input = POLICY_MAX_PENDING + 1,
	};
}

int
policy_server_new(struct event_base *base, const struct cfg *cfg,
    struct engine *e, struct policy_server **ps_r, char **error_r)
{
	struct policy_server	*ps = mw_calloc(1, sizeof(*ps));
	struct listener_limits	 lim;

	*ps_r = NULL;
	ps->base = base;
	ps->cfg = cfg;
	ps->engine = e;
	policy_limits(cfg, &lim);
	if (cfg->policy.listen[0] != '\0' &&
	    listener_new_tcp(base, "policy", cfg->policy.listen, &lim,
	    policy_on_accept, ps, &ps->tcp, error_r) < 0)
		goto fail;
	if (cfg->policy.unix_socket[0] != '\0' &&
	    listener_new_unix(base, "policy", cfg->policy.unix_socket,
	    cfg->policy.unix_socket_mode, cfg->policy.unix_socket_group, &lim,
	    policy_on_accept, ps, &ps->unix_l, error_r) < 0)
		goto fail;
	if (ps->tcp == NULL && ps->unix_l == NULL) {
		*error_r = mw_strdup("policy: neither listen nor unix_socket "
		    "is set; nothing to serve (set [policy] listen)");
		goto fail;
	}
	if (ps->tcp != NULL)
		log_info("policy: listening on %s", cfg->policy.listen);
	if (ps->unix_l != NULL)
		log_info("policy: listening on %s", cfg->policy.unix_socket);
	*ps_r = ps;
	return 0;
fail:
	policy_server_free(&ps);
	return -1;
}

static bool
policy_str_changed(const char *a, const char *b)
{
	return strcmp(a, b) != 0;
}

void
policy_server_reload(struct policy_server *ps, const struct cfg *cfg)
{
	const struct cfg	*old = ps->cfg;
	struct listener_limits	 lim;

	if (policy_str_changed(old->policy.listen, cfg->policy.listen) ||
	    policy_str_changed(old->policy.unix_socket,
	    cfg->policy.unix_socket) ||
	    policy_str_changed(old->policy.unix_socket_group,
	    cfg->policy.unix_socket_group) ||
	    old->policy.unix_socket_mode != cfg->policy.unix_socket_mode)
		log_warn("policy: listen, unix_socket, unix_socket_mode or "
		    "unix_socket_group changed; keeping the current sockets "
		    "until a restart");
	ps->cfg = cfg;
	policy_limits(cfg, &lim);
	if (ps->tcp != NULL)
		listener_set_limits(ps->tcp, &lim);
	if (ps->unix_l != NULL)
		listener_set_limits(ps->unix_l, &lim);
}

void
policy_server_free(struct policy_server **psp)
{
	struct policy_server *ps = *psp;

	if (ps == NULL)
		return;
	*psp = NULL;
	listener_free(&ps->tcp);
	listener_free(&ps->unix_l);
	free(ps);
}

void
policy_server_get_stats(const struct policy_server *ps,
    struct policy_stats *s_r)
{
	struct listener_io_stats io;

	*s_r = ps->stats;
	if (ps->tcp != NULL) {
		listener_get_io_stats(ps->tcp, &io);
		s_r->reads += io.reads;
		s_r->writes += io.writes;
	}
	if (ps->unix_l != NULL) {
		listener_get_io_stats(ps->unix_l, &io);
		s_r->reads += io.reads;
		s_r->writes += io.writes;
	}
}

uint16_t
policy_server_port(const struct policy_server *ps)
{
	return ps->tcp != NULL ? listener_port(ps->tcp) : 0;
}
