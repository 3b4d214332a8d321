/*
 * listener - accept plumbing and connection I/O shared by the protocol
 * listeners: binds a TCP endpoint ("127.0.0.1:10045", "[::1]:10045") or a
 * unix socket (mode, group; a stale socket file is replaced, any other
 * file is refused), caps the connections per listener, and gives each
 * accepted connection an input buffer, an output queue, an idle timeout
 * and a log context such as "policy[127.0.0.1:41822]" (nginx's "while
 * ..." context, rspamd's tag).
 *
 * I/O is a plain persistent read event and our own recv()/send(): one
 * recv into the connection's input buffer per readiness, then on_read,
 * then whatever the protocol wrote during on_read goes out in one send
 * (so pipelined requests of one read cost one write). Output is queued
 * only while the socket is full; the protocol checks
 * listener_conn_write_blocked and stops producing, and input is no longer
 * read once the buffer holds limits.max_input unconsumed bytes: a peer
 * that does not read its answers cannot make us buffer more.
 *
 * The protocol side (policy.c) owns what it hangs on a connection and is
 * told through on_close when the connection goes away for any reason
 * (peer close, error, idle timeout, listener freed). Connections over the
 * limit are closed at once and counted; the warning about it is rate
 * limited. Loop thread only.
 */
#ifndef MW_LISTEN_LISTENER_H
#define MW_LISTEN_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct event_base;

#define LISTENER_MAX_NAME	16	/* bytes of a listener name ("policy") */
#define LISTENER_CTX_LEN	80	/* "policy[<IPv6>:<port>]" and NUL */
#define LISTENER_BACKLOG	511	/* listen(2) queue, as nginx and Redis */
#define LISTENER_LINGER_SECS	2	/* reading after a protocol error */
#define LISTENER_LINGER_BYTES	(1024 * 1024)	/* discarded before giving up */
#define LISTENER_IN_SIZE	4096	/* first input buffer; grows to max_input */
#define LISTENER_OUT_BATCH	16384	/* output queued in on_read before a send */

struct listener;
struct listener_conn;

/* A new connection. The callee sets its callbacks with
   listener_conn_set_cb (nothing is read before that) or closes it. */
typedef void listener_accept_fn(void *ctx, struct listener_conn *c);
/* Unconsumed input (on_read), or the connection is about to be freed
   (on_close: the last call; nothing may be written from it). */
typedef void listener_conn_fn(struct listener_conn *c, void *ctx);

struct listener_limits {
	uint32_t	 max_connections;	/* 0: no limit */
	uint64_t	 idle_timeout;		/* seconds a read or write may wait;
						   0: none */
	size_t		 max_input;		/* bytes of unconsumed input per
						   connection; 0: LISTENER_IN_SIZE */
};

/* System calls on a listener's connections, for tests and the status. */
struct listener_io_stats {
	uint64_t	 reads;		/* recv() calls that returned data */
	uint64_t	 writes;	/* send() calls that sent data */
};

/* Binds and listens on endpoint ("IPv4:port", "[IPv6]:port"; port 0
   picks a free one, see listener_port). name ("policy") prefixes every
   log context; it is copied. 0, or -1 with *error_r (malloc'd). */
int	 listener_new_tcp(struct event_base *base, const char *name,
	    const char *endpoint, const struct listener_limits *limits,
	    listener_accept_fn *fn, void *ctx, struct listener **l_r,
	    char **error_r) MW_MUST_CHECK;
/* Binds a unix socket at path with mode; group "" keeps the process's
   group. A stale socket file at path is removed first; a path that is
   not a socket is refused. The socket file is removed by listener_free. */
int	 listener_new_unix(struct event_base *base, const char *name,
	    const char *path, uint32_t mode, const char *group,
	    const struct listener_limits *limits, listener_accept_fn *fn,
	    void *ctx, struct listener **l_r, char **error_r) MW_MUST_CHECK;
/* --- bound sockets, for a server that accepts through another library ---

   What listener_new_tcp/_unix bind with (numeric endpoint; unix socket
   with mode and group set before anyone connects, a stale socket
   replaced, any other file refused), handing over the listening fd. */
struct listener_sock {
	int		 fd;		/* non-blocking, close-on-exec, bound */
	uint16_t	 port;		/* TCP port bound; 0 for unix */
	char		*unix_path;	/* malloc'd; NULL for TCP */
	uint64_t	 unix_dev, unix_ino;	/* to remove only our own file */
};

int	 listener_bind_tcp(const char *name, const char *endpoint,
	    struct listener_sock *s_r, char **error_r) MW_MUST_CHECK;
int	 listener_bind_unix(const char *name, const char *path, uint32_t mode,
	    const char *group, struct listener_sock *s_r, char **error_r)
	    MW_MUST_CHECK;
/* Removes the unix socket file if it is still the one bound, and frees
   unix_path. The fd is not closed (its new owner closes it). NULL-safe. */
void	 listener_sock_release(struct listener_sock *s);

/* New limits; connections already open keep running (a lower
   max_connections only refuses new ones). */
void	 listener_set_limits(struct listener *l,
	    const struct listener_limits *limits);
/* Stops listening, closes every connection (on_close runs for each) and
   removes a unix socket file. NULL-safe; clears *l. */
void	 listener_free(struct listener **l);

/* The TCP port actually bound (0 for unix sockets). */
uint16_t listener_port(const struct listener *l);
size_t	 listener_nconns(const struct listener *l);
uint64_t listener_refused(const struct listener *l);
void	 listener_get_io_stats(const struct listener *l,
	    struct listener_io_stats *s_r);

/* --- connections ------------------------------------------------------ */

/* Starts reading: on_read runs whenever input is buffered and not yet
   consumed (after each read, and after listener_conn_resume). */
void	 listener_conn_set_cb(struct listener_conn *c, listener_conn_fn *on_read,
	    listener_conn_fn *on_close, void *ctx);
/* "policy[127.0.0.1:41822]", "policy[unix:3]". */
const char *listener_conn_ctx(const struct listener_conn *c);
/* The unconsumed input: *len_r bytes, writable (a parser may work in
   place). The bytes stay where they are until on_read returns (or, outside
   on_read, until the loop runs again); consumed or not, they may then be
   moved, so keep offsets, not pointers, across calls. */
char	*listener_conn_input(struct listener_conn *c, size_t *len_r);
/* Marks the first n bytes of the input consumed. */
void	 listener_conn_consume(struct listener_conn *c, size_t n);
/* Queues data. Inside on_read it goes out in one send after on_read
   returns (or earlier, once LISTENER_OUT_BATCH bytes are queued);
   elsewhere at once. What the socket does not take waits for it to
   drain, in order. */
void	 listener_conn_write(struct listener_conn *c, const void *data,
	    size_t len);
/* True while output waits for the peer to read: stop producing more
   (stop parsing); on_read runs again once the queue is sent. */
bool	 listener_conn_write_blocked(const struct listener_conn *c);
/* The protocol stopped consuming for a while (an asynchronous answer) and
   can take input again: on_read runs from the loop soon if input is
   buffered (never from inside this call). */
void	 listener_conn_resume(struct listener_conn *c);
/* Turns the idle timeout off (while the server, not the peer, is the one
   being slow) or back on. */
void	 listener_conn_set_idle_timer(struct listener_conn *c, bool on);
/* Frees the connection (on_close runs first; inside on_read the memory
   goes when on_read returns). Unsent output is lost. */
void	 listener_conn_close(struct listener_conn *c);
/* After a protocol error: sends what is queued, then half-closes, reads
   and discards what the peer still sends (at most LISTENER_LINGER_BYTES
   for LISTENER_LINGER_SECS) and closes. Without this, unread input makes
   the kernel answer with a RST that can destroy the error reply before
   the peer reads it. on_read is not called any more; on_close runs
   now. */
void	 listener_conn_close_after_write(struct listener_conn *c);

#endif
