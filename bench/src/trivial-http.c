/*
 * trivial-http - the least work that still answers Dovecot's auth policy
 * requests: one thread, epoll, HTTP/1.1 keep-alive, and the fixed answer
 * 200 {"status":0,"msg":""} (allow) for every request. A request is a head
 * ended by an empty line and Content-Length bytes of body; the head is
 * searched for the end and for Content-Length only, the body is skipped.
 * Its rate is the HTTP limit of the machine for the auth policy workload.
 *
 *   trivial-http -l tcp:127.0.0.1:PORT [-l unix:PATH] ...
 *
 * Listens on loopback addresses and unix sockets only. Stops on SIGTERM
 * or SIGINT (removing its unix sockets). Prints "ready" on stderr once
 * every socket listens. Pipelined requests are answered in order.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TRIVIAL_MAX_LISTEN	8	/* -l options */
#define TRIVIAL_MAX_FDS		65536	/* fd numbers tracked */
#define TRIVIAL_READ		65536	/* bytes per read */
#define TRIVIAL_MAX_HEAD	16384	/* bytes of one request head */
#define TRIVIAL_MAX_BODY	(1 << 20)	/* bytes of one request body */
#define TRIVIAL_MAX_OWED	4096	/* answers queued per connection */

static const char answer[] = "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 21\r\n\r\n"
    "{\"status\":0,\"msg\":\"\"}";
#define ANSWER_LEN	(sizeof(answer) - 1)

struct tconn {
	bool		 used;
	bool		 listener;
	bool		 wait_out;	/* EPOLLOUT registered */
	char		*head;		/* TRIVIAL_MAX_HEAD bytes; NULL for listeners */
	size_t		 head_len;	/* bytes of the current head so far */
	size_t		 body_need;	/* body bytes still to skip */
	bool		 in_body;
	size_t		 owed;		/* answers not yet written */
	size_t		 partial;	/* bytes of the first owed answer written */
};

static struct tconn	*conns;
static char		*unix_paths[TRIVIAL_MAX_LISTEN];
static size_t		 nunix;
static volatile sig_atomic_t stop_flag;
static int		 epfd;

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("trivial-http: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
watch(int fd, uint32_t events, int op)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(epfd, op, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

static int
listen_on(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *su = (struct sockaddr_un *)&ss;

		if (strlen(spec + 5) >= sizeof(su->sun_path))
			die("unix socket path too long: %s", spec + 5);
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, spec + 5, strlen(spec + 5) + 1);
		len = sizeof(*su);
		unlink(su->sun_path);
		if (nunix < TRIVIAL_MAX_LISTEN)
			unix_paths[nunix++] = strdup(su->sun_path);
	} else if (strncmp(spec, "tcp:", 4) == 0) {
		char host[128];
		const char *h = spec + 4, *colon = strrchr(h, ':');
		unsigned long port;
		char *end;

		if (colon == NULL)
			die("bad listen spec %s (tcp:127.0.0.1:PORT)", spec);
		if (*h == '[')
			snprintf(host, sizeof(host), "%.*s",
			    (int)(colon - h - 2), h + 1);
		else
			snprintf(host, sizeof(host), "%.*s", (int)(colon - h), h);
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || port == 0 || port > 65535)
			die("bad port in %s", spec);
		if (strchr(host, ':') != NULL) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1 ||
			    !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
				die("%s: loopback addresses only", spec);
			len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 ||
			    (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
				die("%s: loopback addresses only", spec);
			len = sizeof(*s4);
		}
	} else
		die("listen spec must be tcp:HOST:PORT or unix:PATH: %s", spec);

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (ss.ss_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die("bind %s: %s", spec, strerror(errno));
	if (listen(fd, 1024) < 0)
		die("listen %s: %s", spec, strerror(errno));
	return fd;
}

static void
conn_close(int fd)
{
	free(conns[fd].head);
	conns[fd].head = NULL;
	conns[fd].used = false;
	close(fd);
}

/* Writes what is owed; false when the connection must be closed. */
static bool
conn_flush(int fd)
{
	struct tconn *c = &conns[fd];
	static char many[ANSWER_LEN * 64];
	static bool filled;

	if (!filled) {
		for (size_t i = 0; i < 64; i++)
			memcpy(many + i * ANSWER_LEN, answer, ANSWER_LEN);
		filled = true;
	}
	while (c->owed > 0) {
		size_t n = c->owed > 64 ? 64 : c->owed;
		size_t want = n * ANSWER_LEN - c->partial;
		ssize_t w = send(fd, many + c->partial, want, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return false;
		}
		c->partial += (size_t)w;
		c->owed -= c->partial / ANSWER_LEN;
		c->partial %= ANSWER_LEN;
	}
	if (c->owed > 0 && !c->wait_out) {
		watch(fd, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
		c->wait_out = true;
	} else if (c->owed == 0 && c->wait_out) {
		watch(fd, EPOLLIN, EPOLL_CTL_MOD);
		c->wait_out = false;
	}
	return true;
}

/* Content-Length of a complete head (0 when absent); -1 when invalid. */
static long
head_content_length(const char *head, size_t len)
{
	const char *p = head, *end = head + len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = nl + 1;
		if ((size_t)(end - p) > 15 &&
		    strncasecmp(p, "content-length:", 15) == 0) {
			const char *v = p + 15;
			long n = 0;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			if (v == end || !isdigit((unsigned char)*v))
				return -1;
			while (v < end && isdigit((unsigned char)*v)) {
				n = n * 10 + (*v++ - '0');
				if (n > TRIVIAL_MAX_BODY)
					return -1;
			}
			return n;
		}
	}
	return 0;
}

/* Counts the requests ended in buf; false on a protocol violation. */
static bool
conn_scan(struct tconn *c, const char *buf, size_t len)
{
	while (len > 0) {
		if (c->in_body) {
			size_t n = len < c->body_need ? len : c->body_need;

			c->body_need -= n;
			buf += n;
			len -= n;
			if (c->body_need == 0) {
				c->in_body = false;
				c->owed++;
			}
			continue;
		}
		/* Head: copy up to the end of the blank line. */
		size_t take = 0;
		bool done = false;

		while (take < len && !done) {
			if (c->head_len == TRIVIAL_MAX_HEAD)
				return false;
			c->head[c->head_len++] = buf[take++];
			done = c->head_len >= 4 &&
			    memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4) == 0;
		}
		buf += take;
		len -= take;
		if (done) {
			long cl = head_content_length(c->head, c->head_len);

			if (cl < 0)
				return false;
			c->head_len = 0;
			if (cl == 0)
				c->owed++;
			else {
				c->in_body = true;
				c->body_need = (size_t)cl;
			}
		}
	}
	return c->owed <= TRIVIAL_MAX_OWED;
}

int
main(int argc, char **argv)
{
	static char buf[TRIVIAL_READ];
	struct epoll_event evs[256];
	size_t nl = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 && i + 1 < argc) {
			if (nl >= TRIVIAL_MAX_LISTEN)
				die("at most %d -l", TRIVIAL_MAX_LISTEN);
			nl++;
			i++;
		} else {
			fputs("usage: trivial-http -l tcp:127.0.0.1:PORT|"
			    "unix:PATH ...\n", stderr);
			return 2;
		}
	}
	if (nl == 0)
		die("nothing to listen on (-l)");
	conns = calloc(TRIVIAL_MAX_FDS, sizeof(*conns));
	if (conns == NULL)
		die("out of memory");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	for (int i = 1; i < argc; i += 2) {
		int fd = listen_on(argv[i + 1]);

		if (fd >= TRIVIAL_MAX_FDS)
			die("fd %d too large", fd);
		conns[fd].used = true;
		conns[fd].listener = true;
		watch(fd, EPOLLIN, EPOLL_CTL_ADD);
	}
	fprintf(stderr, "trivial-http: ready\n");

	while (!stop_flag) {
		int n = epoll_wait(epfd, evs, 256, 500);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (int k = 0; k < n; k++) {
			int fd = evs[k].data.fd;
			struct tconn *c = &conns[fd];

			if (c->listener) {
				int cfd;

				while ((cfd = accept4(fd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					int one = 1;

					if (cfd >= TRIVIAL_MAX_FDS) {
						close(cfd);
						continue;
					}
					setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					memset(&conns[cfd], 0, sizeof(conns[cfd]));
					conns[cfd].used = true;
					if ((conns[cfd].head =
					    malloc(TRIVIAL_MAX_HEAD)) == NULL)
						die("out of memory");
					watch(cfd, EPOLLIN, EPOLL_CTL_ADD);
				}
				continue;
			}
			if (!c->used)
				continue;
			if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				ssize_t r = recv(fd, buf, sizeof(buf), 0);

				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				if (r <= 0 || !conn_scan(c, buf, (size_t)r)) {
					conn_close(fd);
					continue;
				}
			}
			if (c->owed > 0 && !conn_flush(fd))
				conn_close(fd);
		}
	}
	for (size_t i = 0; i < nunix; i++)
		unlink(unix_paths[i]);
	return 0;
}
