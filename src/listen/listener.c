/*
 * listener - accept plumbing and connection I/O for the protocol
 * listeners; see listener.h. Sockets are bound here (not by libevent) so
 * a unix socket gets its mode and group before anyone can connect through
 * a wider window than the umask's, and a non-socket file is never removed.
 *
 * A connection is two persistent events on its socket: reading, added
 * for as long as the input buffer has room (level-triggered: no epoll_ctl
 * per request), and writing, added only while output waits for the
 * socket. The idle timeout rides on them as a libevent common timeout
 * (all connections of a listener share one duration: O(1) re-arming).
 * Hot path: epoll_wait, one recv, on_read, one send.
 * UNSAFE: raw memory (the input and output buffers).
 */
#include "listen/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/log.h"
#include "core/slice.h"

#define LISTENER_WARN_INTERVAL	10	/* seconds between "limit reached" warnings */
#define LISTENER_GRBUF		16384	/* getgrnam_r buffer */
#define LISTENER_MIN_READ	1024	/* free bytes below which input is moved
					   to the start of its buffer */
#define LISTENER_OUT_SIZE	1024	/* first output buffer */

enum listener_conn_state {
	LISTENER_CONN_OPEN,
	LISTENER_CONN_FLUSHING,	/* close_after_write: output not yet sent */
	LISTENER_CONN_LINGER,	/* half-closed, discarding input */
};

struct listener_conn {
	TAILQ_ENTRY(listener_conn) entry;
	struct listener		*l;
	evutil_socket_t		 fd;
	struct event		*rev, *wev;	/* EV_PERSIST read, write */
	listener_conn_fn	*on_read, *on_close;
	void			*ctx;
	enum listener_conn_state state;
	/* Input: [in_start, in_end) unconsumed; NULL until the first read. */
	char			*in;
	size_t			 in_start, in_end, in_cap;
	/* Output: [out_start, out_end) not yet sent. */
	char			*out;
	size_t			 out_start, out_end, out_cap;
	bool			 reading;	/* rev added */
	bool			 writing;	/* wev added: the socket is full */
	bool			 idle_on;	/* rev's timeout closes */
	bool			 in_cb;		/* inside on_read */
	bool			 dead;		/* closed inside on_read */
	bool			 broken;	/* send failed: freed from the loop */
	int			 send_errno;
	struct event		*linger_timer;
	size_t			 linger_bytes;
	char			 text[LISTENER_CTX_LEN];
};

TAILQ_HEAD(listener_conn_list, listener_conn);

struct listener {
	struct event_base	*base;
	struct evconnlistener	*evl;
	char			 name[LISTENER_MAX_NAME];
	char			*unix_path;	/* NULL for TCP */
	dev_t			 unix_dev;	/* to remove only our own file */
	ino_t			 unix_ino;
	uint16_t		 port;
	struct listener_limits	 limits;
	struct timeval		 idle_tv;	/* a common timeout of base */
	listener_accept_fn	*accept_fn;
	void			*accept_ctx;
	struct listener_conn_list conns;
	size_t			 nconns;
	uint64_t		 serial;	/* unix connections are numbered */
	uint64_t		 refused;
	time_t			 last_warn;
	struct listener_io_stats io;
};

static char *
listener_error(const char *fmt, ...) MW_PRINTF(1, 2);

static char *
listener_error(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		mw_panic("vasprintf: out of memory");
	va_end(ap);
	return s;
}

static void
listener_apply_limits(struct listener *l, const struct listener_limits *lim)
{
	struct timeval		 tv = { .tv_sec = (time_t)lim->idle_timeout };
	const struct timeval	*common;

	l->limits = *lim;
	if (l->limits.max_input == 0)
		l->limits.max_input = LISTENER_IN_SIZE;
	l->idle_tv = tv;
	if (lim->idle_timeout != 0 &&
	    (common = event_base_init_common_timeout(l->base, &tv)) != NULL)
		l->idle_tv = *common;
}

static const struct timeval *
listener_idle_tv(const struct listener *l)
{
	return l->limits.idle_timeout != 0 ? &l->idle_tv : NULL;
}

/* --- connections ------------------------------------------------------ */

/*
 * recv and send as bare system calls. glibc's wrappers are cancellation
 * points: in a process with a second thread (the store's writer) each
 * call switches the thread to asynchronous cancellation and back, about
 * 35 ns a request on the policy path (perf), and no thread of this
 * program is ever cancelled. Same arguments, result and errno.
 */
static ssize_t
listener_recv(int fd, void *buf, size_t len)
{
	return (ssize_t)syscall(SYS_recvfrom, fd, buf, len, 0, NULL, NULL);
}

static ssize_t
listener_send(int fd, const void *buf, size_t len)
{
	return (ssize_t)syscall(SYS_sendto, fd, buf, len,
	    MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0);
}

static void
listener_conn_destroy(struct listener_conn *c)
{
	struct listener *l = c->l;

	TAILQ_REMOVE(&l->conns, c, entry);
	l->nconns--;
	if (c->linger_timer != NULL)
		event_free(c->linger_timer);
	event_free(c->rev);
	event_free(c->wev);
	evutil_closesocket(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* on_close, then the memory (later when inside on_read). */
static void
listener_conn_free(struct listener_conn *c)
{
	listener_conn_fn *on_close = c->on_close;

	c->on_read = NULL;
	c->on_close = NULL;
	if (on_close != NULL)
		on_close(c, c->ctx);
	if (c->in_cb)
		c->dead = true;
	else
		listener_conn_destroy(c);
}

static void
listener_conn_add(struct event *ev, const struct timeval *tv)
{
	if (event_add(ev, tv) < 0)
		mw_panic("event_add: %s", strerror(errno));
}

/* Reading on (with the idle timeout when it applies) or off. */
static void
listener_conn_want_read(struct listener_conn *c, bool want)
{
	if (want == c->reading)
		return;
	if (want)
		listener_conn_add(c->rev, c->state == LISTENER_CONN_OPEN ?
		    listener_idle_tv(c->l) : NULL);
	else
		(void)event_del(c->rev);
	c->reading = want;
}

static bool
listener_conn_has_room(const struct listener_conn *c)
{
	return c->in_end - c->in_start < c->l->limits.max_input;
}

/* Free space after in_end for the next recv: allocates, moves the
   unconsumed bytes to the start, grows up to max_input. */
static void
listener_conn_make_room(struct listener_conn *c)
{
	size_t used = c->in_end - c->in_start, max = c->l->limits.max_input;

	if (c->in == NULL) {
		c->in_cap = max < LISTENER_IN_SIZE ? max : LISTENER_IN_SIZE;
		c->in = mw_malloc(c->in_cap);
	}
	if (used == 0)
		c->in_start = c->in_end = 0;
	else if (c->in_start > 0 && c->in_cap - c->in_end < LISTENER_MIN_READ) {
		memmove(c->in, c->in + c->in_start, used);
		c->in_start = 0;
		c->in_end = used;
	}
	if (c->in_end == c->in_cap && c->in_cap < max) {
		c->in_cap = c->in_cap > max / 2 ? max : c->in_cap * 2;
		c->in = mw_realloc(c->in, c->in_cap);
	}
}

/* Sends what is queued; on EAGAIN waits for the socket (writing). */
static void
listener_conn_flush(struct listener_conn *c)
{
	while (c->out_end > c->out_start) {
		ssize_t n = listener_send(c->fd, c->out + c->out_start,
		    c->out_end - c->out_start);

		if (n > 0) {
			c->out_start += (size_t)n;
			c->l->io.writes++;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->writing) {
				listener_conn_add(c->wev, listener_idle_tv(c->l));
				c->writing = true;
			}
			return;
		}
		/* The peer is gone: freed from the loop, not from under the
		   caller (an engine callback, on_read). */
		c->broken = true;
		c->send_errno = n < 0 ? errno : EPIPE;
		c->out_start = c->out_end = 0;
		event_active(c->wev, EV_WRITE, 0);
		return;
	}
	c->out_start = c->out_end = 0;
	if (c->writing) {
		(void)event_del(c->wev);
		c->writing = false;
	}
}

static void
listener_conn_log_error(const struct listener_conn *c, int err)
{
	if (err != 0 && err != ECONNRESET && err != EPIPE)
		log_debug("%s: %s; closing", c->text, strerror(err));
}

/* on_read for the unconsumed input, then one send for its answers. */
static void
listener_conn_dispatch(struct listener_conn *c)
{
	if (c->in_end > c->in_start && c->on_read != NULL && !c->writing &&
	    !c->broken) {
		c->in_cb = true;
		c->on_read(c, c->ctx);
		c->in_cb = false;
		if (c->dead) {
			listener_conn_destroy(c);
			return;
		}
	}
	if (c->state != LISTENER_CONN_OPEN)
		return;
	listener_conn_flush(c);
	if (c->in_start == c->in_end) {
		c->in_start = c->in_end = 0;
		if (c->in_cap > LISTENER_IN_SIZE) {
			/* A big request is over: back to the usual size. */
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
	}
	listener_conn_want_read(c, listener_conn_has_room(c));
}

/* Lingering: what the peer still sends is read and dropped. */
static void
listener_conn_discard(struct listener_conn *c)
{
	char	 buf[4096];
	ssize_t	 n = recv(c->fd, buf, sizeof(buf), 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			listener_conn_log_error(c, errno);
		listener_conn_free(c);
		return;
	}
	c->linger_bytes += (size_t)n;
	if (c->linger_bytes > LISTENER_LINGER_BYTES)
		listener_conn_free(c);
}

static void
listener_conn_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener_conn	*c = arg;
	ssize_t			 n;

	if (what & EV_TIMEOUT) {
		/* Off while the protocol waits for an answer of its own. */
		if (!c->idle_on || c->state != LISTENER_CONN_OPEN)
			return;
		log_debug("%s: idle for %llu s; closing", c->text,
		    (unsigned long long)c->l->limits.idle_timeout);
		listener_conn_free(c);
		return;
	}
	if (c->state != LISTENER_CONN_OPEN) {
		listener_conn_discard(c);
		return;
	}
	if (listener_conn_has_room(c)) {
		listener_conn_make_room(c);
		n = listener_recv(fd, c->in + c->in_end,
		    c->in_cap - c->in_end);
		if (n > 0) {
			c->in_end += (size_t)n;
			c->l->io.reads++;
		} else if (n == 0) {
			listener_conn_free(c);
			return;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			listener_conn_log_error(c, errno);
			listener_conn_free(c);
			return;
		}
	}
	listener_conn_dispatch(c);
}

/* The reply is out: half-close so the peer sees EOF, keep reading. */
static void
listener_conn_linger(struct listener_conn *c)
{
	c->state = LISTENER_CONN_LINGER;
	(void)shutdown(c->fd, SHUT_WR);
}

static void
listener_conn_on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct listener_conn *c = arg;

	(void)fd;
	if (c->broken) {
		listener_conn_log_error(c, c->send_errno);
		listener_conn_free(c);
		return;
	}
	if (what & EV_TIMEOUT) {
		log_debug("%s: peer has not read its answers for %llu s; "
		    "closing", c->text,
		    (unsigned long long)c->l->limits.idle_timeout);
		listener_conn_free(c);
		return;
	}
	listener_conn_flush(c);
	if (c->writing || c->broken)
		return;
	if (c->state == LISTENER_CONN_FLUSHING)
		listener_conn_linger(c);
	else if (c->state == LISTENER_CONN_OPEN)
		listener_conn_dispatch(c);	/* what waited for the socket */
}

static void
listener_conn_linger_on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	listener_conn_free(arg);
}

void
listener_conn_set_cb(struct listener_conn *c, listener_conn_fn *on_read,
    listener_conn_fn *on_close, void *ctx)
{
	c->on_read = on_read;
	c->on_close = on_close;
	c->ctx = ctx;
	listener_conn_want_read(c, true);
}

const char *
listener_conn_ctx(const struct listener_conn *c)
{
	return c->text;
}

char *
listener_conn_input(struct listener_conn *c, size_t *len_r)
{
	*len_r = c->in_end - c->in_start;
	return c->in != NULL ? c->in + c->in_start : NULL;
}

void
listener_conn_consume(struct listener_conn *c, size_t n)
{
	MW_ASSERT(n <= c->in_end - c->in_start);
	c->in_start += n;
}

void
listener_conn_write(struct listener_conn *c, const void *data, size_t len)
{
	size_t queued = c->out_end - c->out_start;

	if (c->dead || c->broken || c->state == LISTENER_CONN_LINGER ||
	    len == 0)
		return;
	if (c->out_cap - c->out_end < len) {
		if (c->out_start > 0) {
			memmove(c->out, c->out + c->out_start, queued);
			c->out_start = 0;
			c->out_end = queued;
		}
		if (c->out_cap - c->out_end < len) {
			size_t cap = c->out_cap == 0 ? LISTENER_OUT_SIZE :
			    c->out_cap;

			while (cap - c->out_end < len)
				cap = mw_mul_size(cap, 2);
			c->out = mw_realloc(c->out, cap);
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_end, data, len);
	c->out_end += len;
	if (c->writing)
		return;	/* the write event sends it, in order */
	if (!c->in_cb || c->out_end - c->out_start >= LISTENER_OUT_BATCH)
		listener_conn_flush(c);
}

bool
listener_conn_write_blocked(const struct listener_conn *c)
{
	return c->writing || c->broken || c->dead;
}

void
listener_conn_resume(struct listener_conn *c)
{
	if (c->state == LISTENER_CONN_OPEN && !c->dead)
		event_active(c->rev, EV_READ, 0);
}

void
listener_conn_set_idle_timer(struct listener_conn *c, bool on)
{
	if (c->state != LISTENER_CONN_OPEN || c->idle_on == on)
		return;
	c->idle_on = on;
	/* Off: the timeout stays armed but is ignored. On: re-adding the
	   (added) event restarts it from now, without a system call. */
	if (on && c->reading)
		listener_conn_add(c->rev, listener_idle_tv(c->l));
}

void
listener_conn_close(struct listener_conn *c)
{
	listener_conn_free(c);
}

void
listener_conn_close_after_write(struct listener_conn *c)
{
	struct timeval		 tv = { .tv_sec = LISTENER_LINGER_SECS };
	listener_conn_fn	*on_close = c->on_close;

	if (c->state != LISTENER_CONN_OPEN || c->dead)
		return;
	c->on_read = NULL;
	c->on_close = NULL;
	if (on_close != NULL)
		on_close(c, c->ctx);
	c->state = LISTENER_CONN_FLUSHING;
	/* Input already buffered is discarded now. */
	c->linger_bytes = c->in_end - c->in_start;
	c->in_start = c->in_end = 0;
	c->linger_timer = evtimer_new(c->l->base, listener_conn_linger_on_timer,
	    c);
	if (c->linger_timer == NULL)
		mw_panic("evtimer_new: out of memory");
	listener_conn_add(c->linger_timer, &tv);
	/* Reading goes on, without the idle timeout. */
	(void)event_del(c->rev);
	listener_conn_add(c->rev, NULL);
	c->reading = true;
	listener_conn_flush(c);
	if (!c->writing && !c->broken)
		listener_conn_linger(c);
}

/* --- accepting -------------------------------------------------------- */

static void
listener_conn_text(struct listener *l, struct listener_conn *c,
    const struct sockaddr *sa)
{
	struct mw_addr	 a;
	char		 addr[MW_ADDR_STRLEN];
	unsigned	 port = 0;
	int		 n;

	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	if ((sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
	    mw_addr_from_sockaddr(sa, &a) == 0) {
		mw_addr_format(&a, addr, sizeof(addr));
		n = snprintf(c->text, sizeof(c->text),
		    mw_addr_is_v4(&a) ? "%s[%s:%u]" : "%s[[%s]:%u]",
		    l->name, addr, port);
	} else
		n = snprintf(c->text, sizeof(c->text), "%s[unix:%llu]",
		    l->name, (unsigned long long)++l->serial);
	MW_ASSERT(n > 0 && (size_t)n < sizeof(c->text));
}

static void
listener_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener		*l = arg;
	struct listener_conn	*c;
	int			 one = 1;

	(void)evl;
	(void)salen;
	if (l->limits.max_connections != 0 &&
	    l->nconns >= l->limits.max_connections) {
		time_t now = time(NULL);

		l->refused++;
		if (now - l->last_warn >= LISTENER_WARN_INTERVAL) {
			l->last_warn = now;
			log_warn("%s: %zu connections, the limit; refusing new "
			    "ones (%llu so far; raise max_connections?)",
			    l->name, l->nconns,
			    (unsigned long long)l->refused);
		}
		evutil_closesocket(fd);
		return;
	}
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	c = mw_calloc(1, sizeof(*c));
	c->l = l;
	c->fd = fd;
	c->state = LISTENER_CONN_OPEN;
	c->idle_on = true;
	listener_conn_text(l, c, sa);
	c->rev = event_new(l->base, fd, EV_READ | EV_PERSIST,
	    listener_conn_on_readable, c);
	c->wev = event_new(l->base, fd, EV_WRITE | EV_PERSIST,
	    listener_conn_on_writable, c);
	if (c->rev == NULL || c->wev == NULL)
		mw_panic("event_new: out of memory");
	TAILQ_INSERT_TAIL(&l->conns, c, entry);
	l->nconns++;
	l->accept_fn(l->accept_ctx, c);
}

static void
listener_on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;

	(void)evl;
	/* EMFILE and friends: libevent retries on the next readiness. */
	log_warn_errno("%s: accept", l->name);
}

static struct listener *
listener_alloc(struct event_base *base, const char *name,
    const struct listener_limits *limits, listener_accept_fn *fn, void *ctx)
{
	struct listener *l = mw_calloc(1, sizeof(*l));

	l->base = base;
	listener_apply_limits(l, limits);
	if (snprintf(l->name, sizeof(l->name), "%s", name) >=
	    (int)sizeof(l->name))
		mw_panic("listener name too long: %s", name);
	l->accept_fn = fn;
	l->accept_ctx = ctx;
	TAILQ_INIT(&l->conns);
	return l;
}

static int
listener_start(struct listener *l, evutil_socket_t fd, char **error_r)
{
	l->evl = evconnlistener_new(l->base, listener_on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, LISTENER_BACKLOG,
	    fd);
	if (l->evl == NULL) {
		*error_r = listener_error("%s: listen: %s", l->name,
		    strerror(errno));
		evutil_closesocket(fd);
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, listener_on_accept_error);
	return 0;
}

/* "IPv4:port" or "[IPv6]:port" (numeric only: no resolver at start-up). */
static int
listener_parse_endpoint(const char *endpoint, struct sockaddr_storage *ss,
    socklen_t *len_r, char **error_r)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;
	const char		*colon;
	char			 host[MW_ADDR_STRLEN];
	size_t			 host_len;
	uint32_t		 port;
	bool			 v6 = endpoint[0] == '[';

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		const char *end = strchr(endpoint, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		colon = end + 1;
		host_len = (size_t)(end - endpoint - 1);
		if (host_len >= sizeof(host))
			goto bad;
		memcpy(host, endpoint + 1, host_len);
	} else {
		if ((colon = strchr(endpoint, ':')) == NULL ||
		    strchr(colon + 1, ':') != NULL)
			goto bad;
		host_len = (size_t)(colon - endpoint);
		if (host_len >= sizeof(host))
			goto bad;
		memcpy(host, endpoint, host_len);
	}
	host[host_len] = '\0';
	if (mw_parse_u32(colon + 1, 65535, &port) < 0)
		goto bad;
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		*len_r = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		*len_r = sizeof(*sin);
	}
	return 0;
bad:
	*error_r = listener_error("\"%s\" is not an endpoint (expected "
	    "127.0.0.1:10045 or [::1]:10045)", endpoint);
	return -1;
}

int
listener_bind_tcp(const char *name, const char *endpoint,
    struct listener_sock *s_r, char **error_r)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	evutil_socket_t		 fd;
	int			 one = 1;

	*s_r = (struct listener_sock){ .fd = -1 };
	if (listener_parse_endpoint(endpoint, &ss, &sslen, error_r) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = listener_error("%s: %s: socket: %s", name, endpoint,
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		*error_r = listener_error("%s: bind %s: %s", name, endpoint,
		    strerror(errno));
		close(fd);
		return -1;
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		s_r->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port :
		    ((struct sockaddr_in *)(void *)&ss)->sin_port);
	s_r->fd = fd;
	return 0;
}

int
listener_new_tcp(struct event_base *base, const char *name,
    const char *endpoint, const struct listener_limits *limits,
    listener_accept_fn *fn, void *ctx, struct listener **l_r, char **error_r)
{
	struct listener_sock	 s;
	struct listener		*l;

	*l_r = NULL;
	if (listener_bind_tcp(name, endpoint, &s, error_r) < 0)
		return -1;
	l = listener_alloc(base, name, limits, fn, ctx);
	l->port = s.port;
	if (listener_start(l, s.fd, error_r) < 0) {
		free(l);
		return -1;
	}
	*l_r = l;
	return 0;
}

static int
listener_group(const char *group, gid_t *gid_r, char **error_r)
{
	struct group	 gr, *res = NULL;
	char		*buf = mw_malloc(LISTENER_GRBUF);
	int		 rc;

	rc = getgrnam_r(group, &gr, buf, LISTENER_GRBUF, &res);
	if (res != NULL)
		*gid_r = res->gr_gid;
	free(buf);
	if (res == NULL) {
		*error_r = listener_error("no such group \"%s\"%s%s", group,
		    rc != 0 ? ": " : "", rc != 0 ? strerror(rc) : "");
		return -1;
	}
	return 0;
}

int
listener_bind_unix(const char *name, const char *path, uint32_t mode,
    const char *group, struct listener_sock *s_r, char **error_r)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 st;
	evutil_socket_t		 fd;
	gid_t			 gid = (gid_t)-1;

	*s_r = (struct listener_sock){ .fd = -1 };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = listener_error("%s: %s: path longer than %zu bytes",
		    name, path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (group[0] != '\0' && listener_group(group, &gid, error_r) < 0) {
		char *e = *error_r;

		*error_r = listener_error("%s: %s: %s", name, path, e);
		free(e);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*error_r = listener_error("%s: %s exists and is not a "
			    "socket; not removing it (choose another path)",
			    name, path);
			return -1;
		}
		/* A socket left by a previous run (kill -9). */
		if (unlink(path) < 0) {
			*error_r = listener_error("%s: removing stale socket "
			    "%s: %s", name, path, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = listener_error("%s: %s: socket: %s", name, path,
		    strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*error_r = listener_error("%s: bind %s: %s", name, path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, (mode_t)(mode & 07777)) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    lstat(path, &st) < 0) {
		*error_r = listener_error("%s: %s: setting mode %04o%s%s: %s",
		    name, path, (unsigned)mode, group[0] != '\0' ?
		    " and group " : "", group, strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	s_r->fd = fd;
	s_r->unix_path = mw_strdup(path);
	s_r->unix_dev = (uint64_t)st.st_dev;
	s_r->unix_ino = (uint64_t)st.st_ino;
	return 0;
}

void
listener_sock_release(struct listener_sock *s)
{
	struct stat st;

	if (s == NULL || s->unix_path == NULL)
		return;
	/* Remove the socket file only if it is still the one we made. */
	if (lstat(s->unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (uint64_t)st.st_dev == s->unix_dev &&
	    (uint64_t)st.st_ino == s->unix_ino)
		(void)unlink(s->unix_path);
	free(s->unix_path);
	s->unix_path = NULL;
}

int
listener_new_unix(struct event_base *base, const char *name,
    const char *path, uint32_t mode, const char *group,
    const struct listener_limits *limits, listener_accept_fn *fn, void *ctx,
    struct listener **l_r, char **error_r)
{
	struct listener_sock	 s;
	struct listener		*l;

	*l_r = NULL;
	if (listener_bind_unix(name, path, mode, group, &s, error_r) < 0)
		return -1;
	l = listener_alloc(base, name, limits, fn, ctx);
	l->unix_path = s.unix_path;
	l->unix_dev = (dev_t)s.unix_dev;
	l->unix_ino = (ino_t)s.unix_ino;
	if (listener_start(l, s.fd, error_r) < 0) {
		(void)unlink(path);
		free(l->unix_path);
		free(l);
		return -1;
	}
	*l_r = l;
	return 0;
}

void
listener_set_limits(struct listener *l, const struct listener_limits *limits)
{
	struct listener_conn *c;

	listener_apply_limits(l, limits);
	TAILQ_FOREACH(c, &l->conns, entry) {
		if (c->state != LISTENER_CONN_OPEN || !c->reading)
			continue;
		/* event_add with no timeout keeps the old one: delete first. */
		(void)event_del(c->rev);
		listener_conn_add(c->rev, listener_idle_tv(l));
	}
}

void
listener_free(struct listener **lp)
{
	struct listener	*l = *lp;
	struct stat	 st;

	if (l == NULL)
		return;
	*lp = NULL;
	evconnlistener_free(l->evl);
	while (!TAILQ_EMPTY(&l->conns))
		listener_conn_free(TAILQ_FIRST(&l->conns));
	/* Remove the socket file only if it is still the one we made. */
	if (l->unix_path != NULL && lstat(l->unix_path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == l->unix_dev &&
	    st.st_ino == l->unix_ino)
		(void)unlink(l->unix_path);
	free(l->unix_path);
	free(l);
}

uint16_t
listener_port(const struct listener *l)
{
	return l->port;
}

size_t
listener_nconns(const struct listener *l)
{
	return l->nconns;
}

uint64_t
listener_refused(const struct listener *l)
{
	return l->refused;
}

void
listener_get_io_stats(const struct listener *l, struct listener_io_stats *s_r)
{
	*s_r = l->io;
}
