/*
 * test_listen_policy_io - the policy server over real sockets with a real
 * engine (SQLite store in a temp dir; DNSBL pointed at a UDP socket that
 * never answers, so decisions that need it stay pending until the DNSBL
 * timeout fails open). Client and server share one thread: the client
 * uses non-blocking sockets and turns the event loop while it waits.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/log.h"
#include "dnsbl/dnsbl.h"
#include "engine/engine.h"
#include "listen/listener.h"
#include "listen/policy.h"
#include "store/store.h"

#define MALFORMED	"action=DEFER_IF_PERMIT 4.3.0 malformed policy request\n\n"
#define REQ(addr)	"request=smtpd_access_policy\nprotocol_state=RCPT\n" \
			"client_address=" addr "\nserver_port=25\n\n"
#define REQ_SASL(addr)	"request=smtpd_access_policy\nprotocol_state=RCPT\n" \
			"client_address=" addr "\nserver_port=587\n" \
			"sasl_username=alice@example.org\n\n"
#define DENY_REPLY(addr) "action=REJECT 5.7.1 Access denied: client " addr \
			" is on this server's deny list\n\n"

struct fixture {
	char			 dir[64];
	char			 sock[128];
	struct event_base	*base;
	struct cfg		*cfg;
	struct store		*st;
	struct dnsbl		*dnsbl;
	struct engine		*engine;
	struct policy_server	*ps;
	int			 blackhole;	/* UDP socket that never answers */
	char			 warnings[8][256];
	size_t			 nwarnings;
};

static void
capture_log(void *ctx, enum log_level level, const char *line)
{
	struct fixture *f = ctx;

	/* The listener's warnings only (not the DNSBL health check's). */
	if (level == LOG_LEVEL_WARN && strstr(line, "policy") != NULL &&
	    f->nwarnings < MW_N_ELEMENTS(f->warnings))
		snprintf(f->warnings[f->nwarnings++], sizeof(f->warnings[0]),
		    "%s", line);
}

static int
fixture_setup2(void **state, const char *extra_policy, const char *dnsbl_timeout)
{
	struct fixture		*f = calloc(1, sizeof(*f));
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 sl = sizeof(sin);
	char			 conf[1024];
	char			*error = NULL;
	int			 n;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mw-policy-io.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/policy.sock", f->dir);

	f->blackhole = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(f->blackhole >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->blackhole, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(getsockname(f->blackhole, (struct sockaddr *)&sin,
	    &sl), 0);

	n = snprintf(conf, sizeof(conf),
	    "[daemon]\nstate_dir = %s\nuser =\n"
	    "[policy]\nlisten =\nunix_socket = %s\n"
	    "reject_text = Access denied: %%s\n%s\n"
	    "[dnsbl]\nresolver = 127.0.0.1:%u\ntimeout = %s\n"
	    "[dnsbl:zen]\npreset = spamhaus-zen\nzone = zen.dnsbl.test\n"
	    "[lists]\ndeny = 198.51.100.0/24\n",
	    f->dir, f->sock, extra_policy, (unsigned)ntohs(sin.sin_port),
	    dnsbl_timeout);
	assert_true(n > 0 && (size_t)n < sizeof(conf));
	if (cfg_load_string(conf, strlen(conf), "test.conf", &f->cfg,
	    &error) < 0)
		fail_msg("config: %s", error);

	log_open("test", LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	log_set_capture(capture_log, f);
	f->base = event_base_new();
	assert_non_null(f->base);
	if (store_open(f->cfg, &f->st, &error) < 0)
		fail_msg("store: %s", error);
	if (dnsbl_new(f->base, f->cfg, &f->dnsbl, &error) < 0)
		fail_msg("dnsbl: %s", error);
	if (engine_new(f->base, f->cfg, f->st, f->dnsbl, &f->engine,
	    &error) < 0)
		fail_msg("engine: %s", error);
	if (policy_server_new(f->base, f->cfg, f->engine, &f->ps, &error) < 0)
		fail_msg("policy: %s", error);
	*state = f;
	return 0;
}

static int
fixture_setup(void **state, const char *extra_policy)
{
	return fixture_setup2(state, extra_policy, "300ms");
}

static int
setup(void **state)
{
	return fixture_setup(state, "");
}

/* Idle connections closed after 1 s; the DNSBL takes 2 s to fail open. */
static int
setup_idle(void **state)
{
	return fixture_setup2(state, "idle_timeout = 1s", "2s");
}

static int
setup_limit2(void **state)
{
	return fixture_setup(state, "max_connections = 2");
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 path[160];

	log_set_capture(NULL, NULL);
	policy_server_free(&f->ps);
	assert_null(f->ps);
	engine_free(&f->engine);
	dnsbl_free(&f->dnsbl);
	/* evdns frees its requests on the next loop turn. */
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	store_close(&f->st);
	event_base_free(f->base);
	cfg_free(&f->cfg);
	close(f->blackhole);
	/* The socket file is gone with the server. */
	assert_int_equal(access(f->sock, F_OK), -1);
	snprintf(path, sizeof(path), "rm -rf '%s'", f->dir);
	assert_int_equal(system(path), 0);
	free(f);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
client_connect(struct fixture *f)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	int			 fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    f->sock) < (int)sizeof(sun.sun_path));
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	/* Let the server accept it. */
	for (int i = 0; i < 5; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	return fd;
}

static void
client_send(struct fixture *f, int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			event_base_loop(f->base, EVLOOP_NONBLOCK);
			continue;
		}
		if (n < 0)
			return;	/* the server closed: the reply says why */
		off += (size_t)n;
	}
}

/* Turns the loop until want bytes arrived, the peer closed, or seconds
   passed. Returns the bytes received (NUL-terminated in buf); *closed_r
   tells whether EOF was seen. */
static size_t
client_recv(struct fixture *f, int fd, char *buf, size_t size, size_t want,
    double seconds, bool *closed_r)
{
	double	 deadline = now_s() + seconds;
	size_t	 len = 0;

	*closed_r = false;
	while (now_s() < deadline && len < size - 1) {
		ssize_t n;

		event_base_loop(f->base, EVLOOP_NONBLOCK);
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n == 0) {
			*closed_r = true;
			break;
		}
		if (n < 0 && errno != EAGAIN) {
			*closed_r = true;
			break;
		}
		if (n > 0)
			len += (size_t)n;
		if (want > 0 && len >= want)
			break;
		if (n < 0)
			usleep(1000);
	}
	buf[len] = '\0';
	return len;
}

static void
test_policy_io_pipelined(void **state)
{
	struct fixture		*f = *state;
	static const char	 two[] = REQ("198.51.100.7") REQ_SASL("192.0.2.1");
	static const char	 want[] = DENY_REPLY("198.51.100.7")
	    "action=DUNNO\n\n";
	char			 buf[1024];
	bool			 closed;
	struct policy_stats	 s;
	int			 fd = client_connect(f);

	client_send(f, fd, two, sizeof(two) - 1);
	client_recv(f, fd, buf, sizeof(buf), sizeof(want) - 1, 5, &closed);
	assert_string_equal(buf, want);
	assert_false(closed);
	/* Nothing more, and the connection stays open. */
	assert_int_equal(client_recv(f, fd, buf, sizeof(buf), 0, 0.2, &closed),
	    0);
	assert_false(closed);
	/* The same connection serves the next request. */
	client_send(f, fd, REQ("198.51.100.8"), sizeof(REQ("198.51.100.8")) - 1);
	client_recv(f, fd, buf, sizeof(buf), sizeof(DENY_REPLY("198.51.100.8")) - 1,
	    5, &closed);
	assert_string_equal(buf, DENY_REPLY("198.51.100.8"));
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.connections, 1);
	assert_int_equal(s.connections_total, 1);
	assert_int_equal(s.requests, 3);
	assert_int_equal(s.malformed, 0);
	assert_int_equal(s.verdicts[VERDICT_REJECT], 2);
	assert_int_equal(s.verdicts[VERDICT_DUNNO], 1);
	assert_int_equal(f->nwarnings, 0);
	close(fd);
	for (int i = 0; i < 5; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.connections, 0);
}

/* Each malformed input: the DEFER_IF_PERMIT reply, then EOF, one warning
   naming the connection and the reason, and the counter. */
static void
test_policy_io_malformed(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*why;
	} rows[] = {
#define R(in, why)	{ in, sizeof(in) - 1, why }
		R("hello world\n\n", "line is not name=value"),
		R("\n", "empty request"),
		R("request=smtpd_access_policy\nhelo_name=a\001b\n\n",
		    "control character in helo_name"),
		R("request=nope\n\n",
		    "request \"nope\" is not smtpd_access_policy"),
		R("request=smtpd_access_policy\nclient_address=999.1.1.1\n\n",
		    "client_address \"999.1.1.1\" is not an IP address"),
		/* a valid request answered first, then the bad one */
		R(REQ("192.0.2.9") "x\n\n", "line is not name=value"),
#undef R
	};
	struct fixture		*f = *state;
	struct policy_stats	 s;
	char			 buf[1024], want[256];
	bool			 closed;

	for (size_t i = 0; i < MW_N_ELEMENTS(rows); i++) {
		int fd = client_connect(f);

		f->nwarnings = 0;
		client_send(f, fd, rows[i].in, rows[i].len);
		client_recv(f, fd, buf, sizeof(buf), 0, 5, &closed);
		assert_true(closed);
		snprintf(want, sizeof(want), "%s" MALFORMED,
		    i == 5 ? "action=DUNNO\n\n" : "");
		assert_string_equal(buf, want);
		assert_int_equal(f->nwarnings, 1);
		snprintf(want, sizeof(want), "policy[unix:%zu]: malformed "
		    "request: %s; closing", i + 1, rows[i].why);
		assert_non_null(strstr(f->warnings[0], want));
		close(fd);
	}
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.malformed, MW_N_ELEMENTS(rows));
	assert_int_equal(s.requests, 1);
}

/* A line that never ends: refused once the cap is reached, even though the
   peer keeps sending (the reply still arrives: lingering close). */
static void
test_policy_io_long_line(void **state)
{
	struct fixture	*f = *state;
	size_t		 big = 256 * 1024;
	char		*junk = malloc(big), buf[1024];
	bool		 closed;
	int		 fd = client_connect(f);

	assert_non_null(junk);
	memset(junk, 'A', big);
	client_send(f, fd, junk, big);
	client_recv(f, fd, buf, sizeof(buf), 0, 5, &closed);
	assert_true(closed);
	assert_string_equal(buf, MALFORMED);
	assert_non_null(strstr(f->warnings[0],
	    "malformed request: line longer than 4096 bytes; closing"));
	free(junk);
	close(fd);
}

/* A request delivered one byte per loop turn. */
static void
test_policy_io_trickle(void **state)
{
	struct fixture		*f = *state;
	static const char	 req[] = REQ("2001:db8::1");
	char			 buf[256];
	bool			 closed;
	int			 fd = client_connect(f);

	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		client_send(f, fd, req + i, 1);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	/* Not listed, DNSBL silent: fails open after its 300 ms timeout. */
	client_recv(f, fd, buf, sizeof(buf), 14, 5, &closed);
	assert_string_equal(buf, "action=DUNNO\n\n");
	assert_false(closed);
	close(fd);
}

/* Decisions waiting for the (silent) DNSBL: pipelined requests are
   answered in order once each fails open; a peer leaving while one is
   pending cancels it (ASan checks nothing is called back). */
static void
test_policy_io_pending(void **state)
{
	struct fixture		*f = *state;
	static const char	 three[] = REQ("203.0.113.1") REQ("198.51.100.3")
	    REQ("203.0.113.2");
	static const char	 want[] = "action=DUNNO\n\n"
	    DENY_REPLY("198.51.100.3") "action=DUNNO\n\n";
	char			 buf[1024];
	bool			 closed;
	double			 t0;
	struct policy_stats	 s;
	int			 fd = client_connect(f);

	client_send(f, fd, three, sizeof(three) - 1);
	/* The first waits for the DNSBL: nothing yet. */
	assert_int_equal(client_recv(f, fd, buf, sizeof(buf), 0, 0.1,
	    &closed), 0);
	t0 = now_s();
	client_recv(f, fd, buf, sizeof(buf), sizeof(want) - 1, 5, &closed);
	assert_string_equal(buf, want);
	assert_false(closed);
	assert_true(now_s() - t0 < 3);

	/* Leave while a decision is pending. */
	client_send(f, fd, REQ("203.0.113.3"), sizeof(REQ("203.0.113.3")) - 1);
	assert_int_equal(client_recv(f, fd, buf, sizeof(buf), 0, 0.05,
	    &closed), 0);
	close(fd);
	for (int i = 0; i < 10; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.connections, 0);
	assert_int_equal(s.requests, 4);
	/* The cancelled decision's timeout passes without a callback. */
	t0 = now_s();
	while (now_s() - t0 < 0.5) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(5000);
	}
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.verdicts[VERDICT_DUNNO] + s.verdicts[VERDICT_REJECT],
	    3);
}

/* Turns the loop until the server has read more than it had (at most 2
   s): the bytes sent so far arrived in a read of their own. */
static void
wait_server_read(struct fixture *f, uint64_t reads_before)
{
	struct policy_stats	 s;
	double			 deadline = now_s() + 2;

	do {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		policy_server_get_stats(f->ps, &s);
	} while (s.reads == reads_before && now_s() < deadline);
	assert_true(s.reads > reads_before);
}

/* A request split across two reads at every byte boundary, on one
   persistent connection: each split gets exactly its answer. */
static void
test_policy_io_split_every_byte(void **state)
{
	struct fixture		*f = *state;
	static const char	 req[] = "request=smtpd_access_policy\n"
	    "protocol_state=RCPT\nprotocol_name=ESMTP\n"
	    "client_address=198.51.100.77\nclient_name=unknown\n"
	    "helo_name=mx.example.net\nsender=a@example.net\n"
	    "recipient=b@example.org\nserver_port=25\n\n";
	static const char	 want[] = DENY_REPLY("198.51.100.77");
	char			 buf[512];
	bool			 closed;
	struct policy_stats	 s;
	int			 fd = client_connect(f);

	for (size_t cut = 1; cut < sizeof(req) - 1; cut++) {
		policy_server_get_stats(f->ps, &s);
		client_send(f, fd, req, cut);
		wait_server_read(f, s.reads);
		/* Nothing is answered before the request is complete. */
		assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
		client_send(f, fd, req + cut, sizeof(req) - 1 - cut);
		client_recv(f, fd, buf, sizeof(buf), sizeof(want) - 1, 5,
		    &closed);
		assert_string_equal(buf, want);
		assert_false(closed);
	}
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.requests, sizeof(req) - 2);
	assert_int_equal(s.malformed, 0);
	close(fd);
}

#define NPIPE	200

/* 198.51.100.<i % 250 + 1>: deny-listed, answered at once, each answer
   naming its client (so the order shows). */
static size_t
deny_req(unsigned i, char *buf, size_t size)
{
	int n = snprintf(buf, size, REQ("198.51.100.%u"), i % 250 + 1);

	assert_true(n > 0 && (size_t)n < size);
	return (size_t)n;
}

static size_t
deny_reply(unsigned i, char *buf, size_t size)
{
	int n = snprintf(buf, size, DENY_REPLY("198.51.100.%u"), i % 250 + 1);

	assert_true(n > 0 && (size_t)n < size);
	return (size_t)n;
}

/* Many requests in one send: all answered, in order, and the answers to
   the requests of one read leave in one write. */
static void
test_policy_io_pipelined_many(void **state)
{
	struct fixture		*f = *state;
	char			*in = malloc(NPIPE * 128), *want = malloc(NPIPE * 128);
	char			*got = malloc(NPIPE * 128);
	size_t			 in_len = 0, want_len = 0, got_len;
	bool			 closed;
	struct policy_stats	 s;
	int			 fd = client_connect(f);

	assert_non_null(in);
	assert_non_null(want);
	assert_non_null(got);
	for (unsigned i = 0; i < NPIPE; i++) {
		in_len += deny_req(i, in + in_len, 128);
		want_len += deny_reply(i, want + want_len, 128);
	}
	client_send(f, fd, in, in_len);
	got_len = client_recv(f, fd, got, NPIPE * 128, want_len, 5, &closed);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_false(closed);
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.requests, NPIPE);
	assert_int_equal(s.verdicts[VERDICT_REJECT], NPIPE);
	/* One send per read at most (each read's answers fit one batch),
	   and far fewer sends than answers. */
	assert_true(s.writes <= s.reads);
	assert_true(s.writes < NPIPE / 4);
	free(in);
	free(want);
	free(got);
	close(fd);
}

#define NFLOOD	20000

/* A peer that sends and sends but does not read its answers: once the
   socket is full the server stops parsing and then stops reading (memory
   stays bounded, the loop does not spin); when the peer reads again,
   every answer arrives, in order. */
static void
test_policy_io_backpressure(void **state)
{
	struct fixture		*f = *state;
	char			 req[128], want[128], got[128];
	char			*rbuf = malloc(1 << 16);
	size_t			 sent_reqs = 0, req_off = 0, req_len = 0;
	size_t			 checked = 0, want_off = 0, rlen = 0;
	struct policy_stats	 s1, s2;
	int			 fd = client_connect(f), idle_turns = 0;
	double			 deadline = now_s() + 20;

	assert_non_null(rbuf);
	/* Phase 1: send without reading until nothing moves any more. */
	while (sent_reqs < NFLOOD && idle_turns < 200) {
		ssize_t n;

		if (req_off == req_len) {
			req_len = deny_req((unsigned)sent_reqs, req, sizeof(req));
			req_off = 0;
		}
		n = send(fd, req + req_off, req_len - req_off, MSG_NOSIGNAL);
		if (n > 0) {
			req_off += (size_t)n;
			if (req_off == req_len)
				sent_reqs++;
			idle_turns = 0;
		} else {
			assert_true(n < 0 && errno == EAGAIN);
			idle_turns++;
		}
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	assert_true(sent_reqs < NFLOOD);	/* the peer was stopped */
	policy_server_get_stats(f->ps, &s1);
	assert_true(s1.requests < sent_reqs);
	/* More loop turns change nothing: no parsing, no reading. */
	for (int i = 0; i < 200; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	policy_server_get_stats(f->ps, &s2);
	assert_int_equal(s2.requests, s1.requests);
	assert_int_equal(s2.reads, s1.reads);
	assert_int_equal(s2.writes, s1.writes);
	/* What the server holds unparsed is at most its input buffer
	   (POLICY_MAX_PENDING + 1 bytes) plus the kernel's socket buffers;
	   answers are held at most one batch past the socket's. */
	assert_int_equal(s2.connections, 1);

	/* Phase 2: read everything, sending the rest. */
	while (checked < NFLOOD && now_s() < deadline) {
		ssize_t n;

		if (sent_reqs < NFLOOD) {
			if (req_off == req_len) {
				req_len = deny_req((unsigned)sent_reqs, req,
				    sizeof(req));
				req_off = 0;
			}
			n = send(fd, req + req_off, req_len - req_off,
			    MSG_NOSIGNAL);
			if (n > 0 && (req_off += (size_t)n) == req_len)
				sent_reqs++;
		}
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		n = recv(fd, rbuf + rlen, (1 << 16) - rlen, 0);
		assert_true(n != 0);
		if (n < 0) {
			assert_true(errno == EAGAIN);
			continue;
		}
		rlen += (size_t)n;
		/* Compare whole answers as they complete. */
		for (;;) {
			size_t wl = deny_reply((unsigned)checked, want,
			    sizeof(want));

			if (rlen - want_off < wl)
				break;
			memcpy(got, rbuf + want_off, wl);
			assert_memory_equal(got, want, wl);
			want_off += wl;
			checked++;
		}
		memmove(rbuf, rbuf + want_off, rlen - want_off);
		rlen -= want_off;
		want_off = 0;
	}
	assert_int_equal(checked, NFLOOD);
	assert_int_equal(rlen, 0);
	policy_server_get_stats(f->ps, &s2);
	assert_int_equal(s2.requests, NFLOOD);
	assert_int_equal(s2.malformed, 0);
	assert_int_equal(f->nwarnings, 0);
	free(rbuf);
	close(fd);
}

/* The peer leaves while a decision waits for the DNSBL, with more
   requests pipelined behind it and half of another one: nothing is
   called back (ASan), nothing more is decided. */
static void
test_policy_io_close_pending(void **state)
{
	struct fixture		*f = *state;
	static const char	 in[] = REQ("203.0.113.40") REQ("198.51.100.40")
	    REQ("203.0.113.41") "request=smtpd_access_policy\nclient_add";
	char			 buf[256];
	bool			 closed;
	double			 t0;
	struct policy_stats	 s;
	int			 fd = client_connect(f);

	client_send(f, fd, in, sizeof(in) - 1);
	assert_int_equal(client_recv(f, fd, buf, sizeof(buf), 0, 0.05,
	    &closed), 0);
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.requests, 1);	/* the rest waits behind it */
	close(fd);
	for (int i = 0; i < 10; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.connections, 0);
	/* Past the DNSBL timeout: no verdict for the cancelled decision,
	   and the requests behind it were never decided. */
	t0 = now_s();
	while (now_s() - t0 < 0.5) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(5000);
	}
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.requests, 1);
	assert_int_equal(s.verdicts[VERDICT_DUNNO] + s.verdicts[VERDICT_REJECT],
	    0);
}

/* idle_timeout: a silent connection is closed after it; one whose
   decision waits longer than that for the DNSBL is not. */
static void
test_policy_io_idle(void **state)
{
	struct fixture	*f = *state;
	char		 buf[256];
	bool		 closed;
	double		 t0 = now_s();
	int		 idle = client_connect(f), busy = client_connect(f);

	client_send(f, busy, REQ("203.0.113.50"), sizeof(REQ("203.0.113.50")) - 1);
	/* The idle one goes after about 1 s. */
	assert_int_equal(client_recv(f, idle, buf, sizeof(buf), 0, 5, &closed),
	    0);
	assert_true(closed);
	assert_true(now_s() - t0 > 0.8 && now_s() - t0 < 3);
	/* The busy one gets its (fail-open) answer after the DNSBL's 2 s,
	   and stays open. */
	client_recv(f, busy, buf, sizeof(buf), 14, 5, &closed);
	assert_string_equal(buf, "action=DUNNO\n\n");
	assert_false(closed);
	assert_true(now_s() - t0 > 1.8);
	/* Its idle timer runs again from the answer. */
	t0 = now_s();
	assert_int_equal(client_recv(f, busy, buf, sizeof(buf), 0, 5, &closed),
	    0);
	assert_true(closed);
	assert_true(now_s() - t0 > 0.8 && now_s() - t0 < 3);
	close(idle);
	close(busy);
}

/* Builds a request of exactly size bytes (final empty line included):
   deny-listed client, padded with an ignored attribute in lines of at
   most POLICY_MAX_LINE bytes. */
static char *
big_request(size_t size)
{
	static const char	 head[] = "request=smtpd_access_policy\n"
	    "client_address=198.51.100.99\n";
	char			*buf = malloc(size + 1);
	size_t			 off = sizeof(head) - 1, left;

	assert_non_null(buf);
	memcpy(buf, head, off);
	left = size - off - 1;	/* the final LF */
	while (left > 0) {
		/* "x=" value LF, at most 4096 bytes before the LF */
		size_t n = left > 4097 ? 4097 : left;

		if (left - n > 0 && left - n < 4)
			n -= 4;
		memcpy(buf + off, "x=", 2);
		memset(buf + off + 2, 'a', n - 3);
		buf[off + n - 1] = '\n';
		off += n;
		left -= n;
	}
	buf[off++] = '\n';
	assert_int_equal(off, size);
	return buf;
}

/* The largest request (32 KiB) over the socket: the input buffer grows
   for it and the connection then serves small requests as before; one
   byte more is refused. */
static void
test_policy_io_big_request(void **state)
{
	struct fixture		*f = *state;
	char			*req = big_request(32768), *over = big_request(32769);
	char			 buf[512];
	bool			 closed;
	struct policy_stats	 s;
	int			 fd = client_connect(f);

	client_send(f, fd, req, 32768);
	client_recv(f, fd, buf, sizeof(buf), sizeof(DENY_REPLY("198.51.100.99")) - 1,
	    5, &closed);
	assert_string_equal(buf, DENY_REPLY("198.51.100.99"));
	assert_false(closed);
	client_send(f, fd, REQ("198.51.100.5"), sizeof(REQ("198.51.100.5")) - 1);
	client_recv(f, fd, buf, sizeof(buf), sizeof(DENY_REPLY("198.51.100.5")) - 1,
	    5, &closed);
	assert_string_equal(buf, DENY_REPLY("198.51.100.5"));
	close(fd);

	fd = client_connect(f);
	client_send(f, fd, over, 32769);
	client_recv(f, fd, buf, sizeof(buf), 0, 5, &closed);
	assert_true(closed);
	assert_string_equal(buf, MALFORMED);
	assert_non_null(strstr(f->warnings[0], "malformed request: request "
	    "larger than 32768 bytes; closing"));
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.requests, 2);
	assert_int_equal(s.malformed, 1);
	close(fd);
	free(req);
	free(over);
}

static void
test_policy_io_limit(void **state)
{
	struct fixture		*f = *state;
	char			 buf[256];
	bool			 closed;
	int			 a = client_connect(f), b = client_connect(f);
	int			 c = client_connect(f);
	struct policy_stats	 s;

	/* The third is over max_connections = 2: closed without a word. */
	assert_int_equal(client_recv(f, c, buf, sizeof(buf), 0, 1, &closed), 0);
	assert_true(closed);
	assert_int_equal(f->nwarnings, 1);
	assert_non_null(strstr(f->warnings[0], "policy: 2 connections, the "
	    "limit; refusing new ones (1 so far; raise max_connections?)"));
	/* The first two are served. */
	client_send(f, b, REQ("198.51.100.1"), sizeof(REQ("198.51.100.1")) - 1);
	client_recv(f, b, buf, sizeof(buf), sizeof(DENY_REPLY("198.51.100.1")) - 1,
	    5, &closed);
	assert_string_equal(buf, DENY_REPLY("198.51.100.1"));
	policy_server_get_stats(f->ps, &s);
	assert_int_equal(s.connections, 2);
	close(a);
	close(b);
	close(c);
}

/* Reload: new limits apply to new connections; open ones keep running. */
static void
test_policy_io_reload(void **state)
{
	struct fixture		*f = *state;
	struct cfg		*cfg = NULL;
	char			 conf[512], buf[256];
	char			*error = NULL;
	bool			 closed;
	int			 a = client_connect(f), b;

	snprintf(conf, sizeof(conf), "[daemon]\nstate_dir = %s\nuser =\n"
	    "[policy]\nlisten =\nunix_socket = %s\nmax_connections = 1\n"
	    "[dnsbl]\nenabled = no\n", f->dir, f->sock);
	assert_int_equal(cfg_load_string(conf, strlen(conf), "t.conf", &cfg,
	    &error), 0);
	policy_server_reload(f->ps, cfg);
	b = client_connect(f);
	assert_int_equal(client_recv(f, b, buf, sizeof(buf), 0, 1, &closed), 0);
	assert_true(closed);
	client_send(f, a, REQ("198.51.100.4"), sizeof(REQ("198.51.100.4")) - 1);
	client_recv(f, a, buf, sizeof(buf), sizeof(DENY_REPLY("198.51.100.4")) - 1,
	    5, &closed);
	assert_string_equal(buf, DENY_REPLY("198.51.100.4"));
	close(a);
	close(b);
	/* Back to the fixture's cfg before the test's one is freed. */
	policy_server_reload(f->ps, f->cfg);
	cfg_free(&cfg);
}

/* A stale socket file is replaced; any other file is left alone. */
static void
test_policy_io_socket_file(void **state)
{
	struct fixture		*f = *state;
	struct policy_server	*ps2 = NULL;
	struct cfg		*cfg = NULL;
	char			 conf[512], path[160], want[256];
	char			*error = NULL;
	struct stat		 st;
	int			 fd;

	/* The fixture's socket: mode 0660 by default. */
	assert_int_equal(stat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* A plain file where the socket should go. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(conf, sizeof(conf), "[daemon]\nstate_dir = %s\nuser =\n"
	    "[policy]\nlisten =\nunix_socket = %s\nunix_socket_mode = 0600\n",
	    f->dir, path);
	assert_int_equal(cfg_load_string(conf, strlen(conf), "t.conf", &cfg,
	    &error), 0);
	assert_int_equal(policy_server_new(f->base, cfg, f->engine, &ps2,
	    &error), -1);
	assert_null(ps2);
	snprintf(want, sizeof(want), "policy: %s exists and is not a socket; "
	    "not removing it (choose another path)", path);
	assert_string_equal(error, want);
	free(error);
	assert_int_equal(access(path, F_OK), 0);
	cfg_free(&cfg);

	/* A socket nobody listens on (left by kill -9): replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	{
		struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
		int			 s = socket(AF_UNIX, SOCK_STREAM, 0);

		assert_true(snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		    path) < (int)sizeof(sun.sun_path));
		assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)),
		    0);
		close(s);
	}
	snprintf(conf, sizeof(conf), "[daemon]\nstate_dir = %s\nuser =\n"
	    "[policy]\nlisten =\nunix_socket = %s\nunix_socket_mode = 0600\n",
	    f->dir, path);
	assert_int_equal(cfg_load_string(conf, strlen(conf), "t.conf", &cfg,
	    &error), 0);
	if (policy_server_new(f->base, cfg, f->engine, &ps2, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	policy_server_free(&ps2);
	assert_int_equal(access(path, F_OK), -1);
	cfg_free(&cfg);

	/* Nothing to listen on. */
	snprintf(conf, sizeof(conf), "[daemon]\nstate_dir = %s\nuser =\n"
	    "[policy]\nlisten =\n", f->dir);
	assert_int_equal(cfg_load_string(conf, strlen(conf), "t.conf", &cfg,
	    &error), 0);
	assert_int_equal(policy_server_new(f->base, cfg, f->engine, &ps2,
	    &error), -1);
	assert_string_equal(error, "policy: neither listen nor unix_socket is "
	    "set; nothing to serve (set [policy] listen)");
	free(error);
	cfg_free(&cfg);
}

/* TCP endpoints: IPv4 and IPv6 loopback with port 0, and bad ones. */
static void
test_policy_io_tcp(void **state)
{
	static const struct {
		const char	*endpoint;
		const char	*want_error;
	} rows[] = {
		{ "localhost:10045", "\"localhost:10045\" is not an endpoint "
		  "(expected 127.0.0.1:10045 or [::1]:10045)" },
		{ "::1:10045", "\"::1:10045\" is not an endpoint "
		  "(expected 127.0.0.1:10045 or [::1]:10045)" },
		{ "[::1]10045", "\"[::1]10045\" is not an endpoint "
		  "(expected 127.0.0.1:10045 or [::1]:10045)" },
		{ "127.0.0.1:65536", "\"127.0.0.1:65536\" is not an endpoint "
		  "(expected 127.0.0.1:10045 or [::1]:10045)" },
		{ "127.0.0.1:0", NULL },
		{ "[::1]:0", NULL },
	};
	struct fixture		*f = *state;
	struct listener_limits	 lim = { .max_connections = 10 };

	for (size_t i = 0; i < MW_N_ELEMENTS(rows); i++) {
		struct listener	*l = NULL;
		char		*error = NULL;
		int		 ret;

		ret = listener_new_tcp(f->base, "policy", rows[i].endpoint,
		    &lim, NULL, NULL, &l, &error);
		if (rows[i].want_error != NULL) {
			assert_int_equal(ret, -1);
			assert_string_equal(error, rows[i].want_error);
			free(error);
			continue;
		}
		if (ret < 0 && strncmp(rows[i].endpoint, "[::1]", 5) == 0) {
			free(error);	/* no IPv6 on this host */
			continue;
		}
		assert_int_equal(ret, 0);
		assert_true(listener_port(l) > 0);
		listener_free(&l);
		assert_null(l);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_io_pipelined,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_malformed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_long_line,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_trickle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_pending,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_split_every_byte,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_pipelined_many,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_backpressure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_close_pending,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_idle,
		    setup_idle, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_big_request,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_limit,
		    setup_limit2, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_reload,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_socket_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_io_tcp,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
