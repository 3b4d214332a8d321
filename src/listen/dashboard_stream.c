/*
 * dashboard_stream - GET /api/v1/events/stream: new events as they are
 * recorded, as text/event-stream (server-sent events), with filters on
 * address, verdict and listener.
 *
 * The store calls dash_on_event for every event appended (on the loop
 * thread); matching streams get one "event: event" message each, sent
 * as an HTTP chunk. Bounded: at most [dashboard] max_streams streams; a
 * client that does not read is dropped once DASH_STREAM_BACKLOG bytes
 * wait for it; a heartbeat comment every DASHBOARD_HEARTBEAT_S seconds
 * keeps proxies from closing an idle stream and finds dead clients. A
 * stream ends with its session (logout, expiry, admin deleted).
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "listen/admin_int.h"
#include "listen/dashboard_int.h"

#define DASH_STREAM_BACKLOG	(1u << 20)	/* bytes unsent before a drop */

struct dash_stream {
	struct dashboard		*db;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	struct mw_arena			*a;	/* the filter's strings */
	struct dashboard_stream_filter	 f;
	uint8_t				 session_id[DASHBOARD_SESSION_ID_LEN];
	char				 name[STORE_ADMIN_MAX_NAME + 1];
	struct dash_stream		*prev, *next;
};

static void dash_streams_end_id(struct dashboard *db,
    const uint8_t id[DASHBOARD_SESSION_ID_LEN]);

static void
dash_stream_unlink(struct dash_stream *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->db->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->db->nstreams--;
}

static void
dash_stream_free(struct dash_stream *s)
{
	dash_stream_unlink(s);
	mw_arena_free(&s->a);
	free(s);
}

/* Ends the reply (the client sees the stream close) and frees s. */
static void
dash_stream_end(struct dash_stream *s, const char *why)
{
	log_info("dashboard: event stream of %s ended: %s", s->name, why);
	evhttp_connection_set_closecb(s->evcon, NULL, NULL);
	evhttp_send_reply_end(s->req);
	dash_stream_free(s);
}

static void
dash_stream_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct dash_stream *s = arg;

	(void)evcon;
	log_debug("dashboard: event stream of %s: the client went away",
	    s->name);
	/* libevent 2.1 detaches a request the user has not finished (a
	   stream is never finished) from a failed connection and leaves it
	   to us; one still attached goes with the connection. */
	if (evhttp_request_get_connection(s->req) == NULL)
		evhttp_request_free(s->req);
	dash_stream_free(s);
}

/* Sends text; false when the client is too far behind (s is then freed). */
static bool
dash_stream_send(struct dash_stream *s, const char *text, size_t len)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(s->evcon);
	struct evbuffer		*buf;

	if (bev != NULL && evbuffer_get_length(bufferevent_get_output(bev)) >
	    DASH_STREAM_BACKLOG) {
		dash_stream_end(s, "the client does not read");
		return false;
	}
	if ((buf = evbuffer_new()) == NULL)
		mw_panic("evbuffer_new: out of memory");
	evbuffer_add(buf, text, len);
	evhttp_send_reply_chunk(s->req, buf);
	evbuffer_free(buf);
	return true;
}

static void
dash_on_event(void *ctx, const struct store_event *ev)
{
	struct dashboard	*db = ctx;
	struct dash_stream	*s, *next;
	char			 addr[MW_ADDR_STRLEN], *json = NULL, *msg;
	json_t			*o;
	int			 len;

	for (s = db->streams; s != NULL; s = next) {
		next = s->next;
		if (!dashboard_stream_match(&s->f, ev))
			continue;
		if (json == NULL) {
			o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
			    "s:I}",
			    "time_ms", (json_int_t)ev->time_ms,
			    "address", mw_addr_format(&ev->addr, addr,
				sizeof(addr)),
			    "listener", admin_json_text(ev->listener),
			    "verdict", admin_json_text(ev->verdict),
			    "reason", admin_json_text(ev->reason),
			    "account", admin_json_text(ev->account),
			    "sender", admin_json_text(ev->sender),
			    "recipient", admin_json_text(ev->recipient),
			    "count", (json_int_t)(ev->count > 0 ? ev->count :
				1));
			json = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
			json_decref(o);
			if (json == NULL)
				return;
		}
		/* JSON_COMPACT has no newline: one data line */
		if ((len = asprintf(&msg, "event: event\nid: %lld\ndata: %s\n\n",
		    (long long)ev->time_ms, json)) < 0)
			mw_panic("asprintf: out of memory");
		(void)dash_stream_send(s, msg, (size_t)len);
		free(msg);
	}
	free(json);
}

static void
dash_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct dashboard	*db = arg;
	struct dash_stream	*s, *next;
	static const char	 ping[] = ": keep-alive\n\n";

	(void)fd;
	(void)what;
	/* An expired session ends all its streams (maybe next too): start
	   over after each end. */
again:
	for (s = db->streams; s != NULL; s = s->next) {
		uint8_t id[DASHBOARD_SESSION_ID_LEN];

		memcpy(id, s->session_id, sizeof(id));
		if (dash_session_find(db, id) == NULL) {	/* may free s */
			dash_streams_end_id(db, id);
			goto again;
		}
	}
	for (s = db->streams; s != NULL; s = next) {
		next = s->next;
		(void)dash_stream_send(s, ping, sizeof(ping) - 1);
	}
}

void
dash_stream_start(struct dashboard *db, struct dash_req *r)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(r->req);
	struct dash_stream	*s;
	const char		*error;
	static const char	 hello[] = "retry: 3000\n: mailward events\n\n";

	if (r->method != EVHTTP_REQ_GET) {
		evhttp_add_header(out, "Allow", "GET");
		admin_reply_error(r->req, 405, "the event stream is read with GET");
		return;
	}
	s = mw_calloc(1, sizeof(*s));
	s->a = mw_arena_new(512);
	if (dashboard_parse_stream_query(r->query, s->a, &s->f, &error) < 0) {
		admin_reply_error(r->req, 400, error);
		mw_arena_free(&s->a);
		free(s);
		return;
	}
	if (db->nstreams >= db->cfg->dashboard.max_streams) {
		mw_arena_free(&s->a);
		free(s);
		log_warn("dashboard: %zu event streams open ([dashboard] "
		    "max_streams); one more refused", db->nstreams);
		evhttp_add_header(out, "Retry-After", "30");
		admin_reply_error(r->req, 503, "too many event streams are open: "
		    "close another dashboard tab or raise [dashboard] "
		    "max_streams");
		return;
	}
	s->db = db;
	s->req = r->req;
	s->evcon = evhttp_request_get_connection(r->req);
	memcpy(s->session_id, r->session->id, sizeof(s->session_id));
	memcpy(s->name, r->session->name, sizeof(s->name));
	s->next = db->streams;
	if (s->next != NULL)
		s->next->prev = s;
	db->streams = s;
	db->nstreams++;
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Accel-Buffering", "no");	/* nginx */
	evhttp_send_reply_start(r->req, 200, "OK");
	evhttp_connection_set_closecb(s->evcon, dash_stream_on_close, s);
	log_info("dashboard: event stream opened by %s from %s", s->name,
	    r->client.text);
	(void)dash_stream_send(s, hello, sizeof(hello) - 1);
}

static void
dash_streams_end_id(struct dashboard *db,
    const uint8_t id[DASHBOARD_SESSION_ID_LEN])
{
	struct dash_stream *s, *next;

	for (s = db->streams; s != NULL; s = next) {
		next = s->next;
		if (memcmp(s->session_id, id, sizeof(s->session_id)) == 0)
			dash_stream_end(s, "the session ended");
	}
}

void
dash_streams_end_session(struct dashboard *db, const struct dash_session *ses)
{
	dash_streams_end_id(db, ses->id);
}

int
dash_streams_init(struct dashboard *db)
{
	struct timeval tv = { DASHBOARD_HEARTBEAT_S, 0 };

	db->heartbeat = event_new(db->base, -1, EV_PERSIST, dash_on_heartbeat,
	    db);
	if (db->heartbeat == NULL || event_add(db->heartbeat, &tv) < 0)
		return -1;
	store_set_event_hook(engine_store(db->e), dash_on_event, db);
	return 0;
}

void
dash_streams_free(struct dashboard *db)
{
	if (db->heartbeat != NULL) {
		store_set_event_hook(engine_store(db->e), NULL, NULL);
		event_free(db->heartbeat);
		db->heartbeat = NULL;
	}
	while (db->streams != NULL)
		dash_stream_end(db->streams, "mailwardd stops");
}
