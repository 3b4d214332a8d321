/*
 * firewall - the daemon's side of the nftables helper; see firewall.h.
 */
#include "enforce/firewall.h"

#include <errno.h>
#include <event2/event.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "engine/engine.h"
#include "enforce/helper.h"
#include "enforce/helper_msg.h"

#define FW_ALLOW_CHECK_MS	1000	/* allow list compared with the sets */
#define FW_REAP_WAIT_MS		3000	/* helper's time to exit at shutdown */
#define FW_TRIM_AFTER		10000	/* bans in a load: trim the heap after it */

struct fw_msg {
	size_t		 len;
	uint8_t		 data[];
};

enum fw_tag_kind { FW_TAG_RESYNC, FW_TAG_CHANGES, FW_TAG_ALLOW };

/* A transaction sent, waiting for its STATUS. */
struct fw_tag {
	enum fw_tag_kind	 kind;
	double			 started;	/* monotonic seconds */
	size_t			 elems;
};

struct fw_change {
	enum helper_msg_type	 op;	/* SET or DEL */
	struct helper_elem	 e;
};

struct firewall {
	struct firewall_status	 st;
	uint64_t		 cfg_fp;	/* [firewall] as started */
	bool			 trim_when_sent;	/* after a large load */
	bool			 resync_pending;	/* a full reload at the next flush */
	struct mw_cidr		*nets;		/* network bans (few), any order */
	size_t			 nnets, nets_cap;
	size_t			 nested;	/* networks left out of the sets */
	char			 reason[320];
	char			 last_error[HELPER_MSG_MAX_ERROR + 1];
	char			 table[CFG_MAX_FW_TABLE + 8];
	struct event_base	*base;
	struct engine		*engine;
	int			 fd;
	pid_t			 helper_pid;
	uint32_t		 worker_pid;
	struct event		*ev_read, *ev_write, *ev_flush, *ev_allow;
	struct fw_msg		**out;		/* FIFO: out[out_head..out_n) */
	size_t			 out_head, out_n, out_cap;
	struct fw_change	*pend;
	size_t			 npend, pend_cap;
	struct fw_tag		*tags;		/* FIFO: tags[tag_head..ntags) */
	size_t			 tag_head, ntags, tag_cap;
	uint64_t		 allow_fp;
	uint8_t			*rbuf;		/* HELPER_MSG_MAX + 1 */
	struct helper_msg	*msg;
	uint8_t			*wbuf;		/* HELPER_MSG_MAX */
};

static const char *const state_names[] = { "disabled", "starting", "running",
	"unavailable" };

const char *
firewall_state_name(enum firewall_state s)
{
	return (size_t)s < MW_N_ELEMENTS(state_names) ? state_names[s] : "?";
}

static double
fw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fw_set_error(struct firewall *fw, const char *error)
{
	(void)snprintf(fw->last_error, sizeof(fw->last_error), "%s", error);
	fw->st.last_error_time = (int64_t)time(NULL);
}

/* --- the outgoing queue ------------------------------------------------- */

static void
fw_queue(struct firewall *fw, size_t len)
{
	struct fw_msg *m = mw_malloc(mw_add_size(sizeof(*m), len));

	m->len = len;
	memcpy(m->data, fw->wbuf, len);
	if (fw->out_n == fw->out_cap) {
		fw->out_cap = fw->out_cap == 0 ? 64 : mw_mul_size(fw->out_cap, 2);
		fw->out = mw_realloc(fw->out, mw_mul_size(fw->out_cap,
		    sizeof(*fw->out)));
	}
	fw->out[fw->out_n++] = m;
	fw->st.queued_bytes += len;
}

static void
fw_queue_clear(struct firewall *fw)
{
	for (size_t i = fw->out_head; i < fw->out_n; i++)
		free(fw->out[i]);
	fw->out_head = fw->out_n = 0;
	fw->st.queued_bytes = 0;
}

static void
fw_queue_simple(struct firewall *fw, enum helper_msg_type t, uint32_t arg)
{
	fw_queue(fw, helper_msg_encode(fw->wbuf, HELPER_MSG_MAX, t, arg));
}

static void
fw_queue_elems(struct firewall *fw, enum helper_msg_type t,
    const struct helper_elem *e, size_t n)
{
	while (n > 0) {
		size_t k = n < HELPER_MSG_MAX_RECORDS ? n : HELPER_MSG_MAX_RECORDS;

		fw_queue(fw, helper_msg_encode_elems(fw->wbuf, HELPER_MSG_MAX, t,
		    e, k));
		e += k;
		n -= k;
	}
}

static void
fw_push_tag(struct firewall *fw, enum fw_tag_kind kind, double started,
    size_t elems)
{
	if (fw->tag_head > 0 && fw->tag_head == fw->ntags)
		fw->tag_head = fw->ntags = 0;
	if (fw->ntags == fw->tag_cap) {
		fw->tag_cap = fw->tag_cap == 0 ? 16 : mw_mul_size(fw->tag_cap, 2);
		fw->tags = mw_realloc(fw->tags, mw_mul_size(fw->tag_cap,
		    sizeof(*fw->tags)));
	}
	fw->tags[fw->ntags++] = (struct fw_tag){ kind, started, elems };
}

static void fw_lost(struct firewall *fw, const char *why);

static void
fw_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct firewall *fw = arg;

	(void)what;
	while (fw->out_head < fw->out_n) {
		struct fw_msg	*m = fw->out[fw->out_head];
		ssize_t		 n = send(fd, m->data, m->len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(fw->ev_write, NULL);
			return;
		}
		if (n < 0) {
			char why[128];

			(void)snprintf(why, sizeof(why), "writing to the helper: "
			    "%s", strerror(errno));
			fw_lost(fw, why);
			return;
		}
		fw->st.queued_bytes -= m->len;
		free(m);
		fw->out_head++;
	}
	fw->out_head = fw->out_n = 0;
	event_del(fw->ev_write);
	if (fw->trim_when_sent) {
		/* a full load queued tens of MB: give them back */
		fw->trim_when_sent = false;
		(void)malloc_trim(0);
	}
}

static void
fw_kick(struct firewall *fw)
{
	if (fw->fd >= 0)
		fw_on_write(fw->fd, EV_WRITE, fw);
}

/* --- what the sets should hold ------------------------------------------ */

/* The element for a ban: its remaining time (capped), 0 for permanent.
   False when the ban has expired already. */
static bool
fw_ban_elem(const struct store_ban *b, int64_t now, struct helper_elem *e)
{
	int64_t left = b->expires - now;

	*e = (struct helper_elem){ .net = b->net, .set = HELPER_SET_BAN };
	if (b->expires == 0)
		return true;
	if (left <= 0)
		return false;
	e->timeout = left > (int64_t)HELPER_MSG_MAX_TIMEOUT ?
	    HELPER_MSG_MAX_TIMEOUT : (uint32_t)left;
	return true;
}

struct fw_elems {
	struct helper_elem	*v;
	size_t			 n, cap;
	int64_t			 now;
	uint64_t		 fp;	/* allow: FNV-1a of the entries */
};

static void
fw_elems_push(struct fw_elems *l, const struct helper_elem *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 1024 : mw_mul_size(l->cap, 2);
		l->v = mw_realloc(l->v, mw_mul_size(l->cap, sizeof(*l->v)));
	}
	l->v[l->n++] = *e;
}

static bool
fw_collect_ban(void *ctx, const struct store_ban *b)
{
	struct fw_elems		*l = ctx;
	struct helper_elem	 e;

	/* hosts (hash sets) in l[0], prefixes (interval sets) in l[1] */
	if (fw_ban_elem(b, l[0].now, &e))
		fw_elems_push(&l[mw_cidr_is_host(&b->net) ? 0 : 1], &e);
	return true;
}

static bool
fw_collect_allow(void *ctx, const struct engine_list_entry *le)
{
	struct fw_elems		*l = ctx;
	struct helper_elem	 e = { .net = le->e.net, .set = HELPER_SET_ALLOW };

	fw_elems_push(l, &e);
	for (size_t i = 0; i < sizeof(e.net.addr.b); i++)
		l->fp = (l->fp ^ e.net.addr.b[i]) * 0x100000001b3ULL;
	l->fp = (l->fp ^ e.net.bits) * 0x100000001b3ULL;
	return true;
}

static void
fw_collect_allow_list(struct firewall *fw, struct fw_elems *l)
{
	*l = (struct fw_elems){ .fp = 0xcbf29ce484222325ULL };
	engine_list_walk(fw->engine, STORE_LIST_ALLOW, fw_collect_allow, l);
	l->fp ^= l->n;
}

/*
 * Network bans share an interval set, where the kernel refuses a network
 * inside another one (and with it the whole transaction). A reload keeps
 * the outer network and leaves the inner ones out (the outer drops their
 * clients); when a network ban later ends while some were left out, the
 * sets are reloaded. A new network overlapping another one also goes in
 * through a reload. The daemon keeps the list of network bans for that.
 */
static bool
fw_nets_overlap(const struct mw_cidr *a, const struct mw_cidr *b)
{
	if (mw_cidr_is_v4(a) != mw_cidr_is_v4(b))
		return false;	/* different sets */
	return a->bits <= b->bits ? mw_cidr_contains(a, &b->addr) :
	    mw_cidr_contains(b, &a->addr);
}

static void
fw_nets_add(struct firewall *fw, const struct mw_cidr *net)
{
	if (fw->nnets == fw->nets_cap) {
		fw->nets_cap = fw->nets_cap == 0 ? 64 : mw_mul_size(fw->nets_cap, 2);
		fw->nets = mw_realloc(fw->nets, mw_mul_size(fw->nets_cap,
		    sizeof(*fw->nets)));
	}
	fw->nets[fw->nnets++] = *net;
}

/* nets in address order (engine_ban_walk's): drops those inside the last
   kept network of their family (only that one can contain them). */
static void
fw_drop_nested(struct firewall *fw, struct fw_elems *nets)
{
	const struct mw_cidr	*last[2] = { NULL, NULL };
	size_t			 kept = 0;

	fw->nnets = 0;
	fw->nested = 0;
	for (size_t i = 0; i < nets->n; i++) {
		const struct mw_cidr	*c = &nets->v[i].net;
		int			 f = mw_cidr_is_v4(c) ? 0 : 1;

		fw_nets_add(fw, c);
		if (last[f] != NULL && mw_cidr_contains(last[f], &c->addr)) {
			fw->nested++;
			continue;
		}
		nets->v[kept] = nets->v[i];
		last[f] = &nets->v[kept].net;
		kept++;
	}
	nets->n = kept;
	if (fw->nested > 0)
		log_info("firewall: %zu banned networks lie inside other banned "
		    "networks: the outer ones drop their clients", fw->nested);
}

/* One transaction: flush everything, load every active ban and allow
   entry. Changes not yet sent are covered by it. */
static void
fw_resync(struct firewall *fw)
{
	struct fw_elems	 bans[2] = { { .now = (int64_t)time(NULL) } };
	struct fw_elems	 allow;
	double		 started = fw_now();

	fw->npend = 0;
	fw_queue_clear(fw);
	fw->tag_head = fw->ntags = 0;
	fw->resync_pending = false;
	engine_ban_walk(fw->engine, fw_collect_ban, bans);
	fw_drop_nested(fw, &bans[1]);
	fw_collect_allow_list(fw, &allow);
	fw_queue_simple(fw, HELPER_MSG_BEGIN, fw->worker_pid);
	fw_queue_simple(fw, HELPER_MSG_FLUSH, HELPER_FLUSH_BANS |
	    HELPER_FLUSH_ALLOW);
	fw_queue_elems(fw, HELPER_MSG_LOAD, bans[0].v, bans[0].n);
	fw_queue_elems(fw, HELPER_MSG_LOAD, bans[1].v, bans[1].n);
	fw_queue_elems(fw, HELPER_MSG_LOAD, allow.v, allow.n);
	fw_queue_simple(fw, HELPER_MSG_END, 0);
	fw_push_tag(fw, FW_TAG_RESYNC, started, bans[0].n + bans[1].n + allow.n);
	fw->st.elements = bans[0].n + bans[1].n + fw->nested;
	fw->st.allow_elements = allow.n;
	fw->allow_fp = allow.fp;
	fw->trim_when_sent = bans[0].n + bans[1].n > FW_TRIM_AFTER;
	log_info("firewall: loading %zu bans (%zu addresses, %zu networks) and "
	    "%zu allow entries into table %s", bans[0].n + bans[1].n, bans[0].n,
	    bans[1].n, allow.n, fw->table);
	free(bans[0].v);
	free(bans[1].v);
	free(allow.v);
	fw_kick(fw);
}

/* --- changes ---------------------------------------------------------- */

static void
fw_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct firewall	*fw = arg;
	size_t		 i = 0;

	(void)fd;
	(void)what;
	if (fw->st.state != FIREWALL_RUNNING) {
		fw->npend = 0;
		return;
	}
	if (fw->resync_pending) {
		fw_resync(fw);
		return;
	}
	if (fw->npend == 0)
		return;
	fw_queue_simple(fw, HELPER_MSG_BEGIN, fw->worker_pid);
	while (i < fw->npend) {
		size_t j = i;
		struct helper_elem chunk[64];

		/* runs of one operation, in order (add then del must stay so) */
		while (j < fw->npend && j - i < MW_N_ELEMENTS(chunk) &&
		    fw->pend[j].op == fw->pend[i].op) {
			chunk[j - i] = fw->pend[j].e;
			j++;
		}
		fw_queue_elems(fw, fw->pend[i].op, chunk, j - i);
		i = j;
	}
	fw_queue_simple(fw, HELPER_MSG_END, 0);
	fw_push_tag(fw, FW_TAG_CHANGES, fw_now(), fw->npend);
	fw->npend = 0;
	fw_kick(fw);
}

/* Keeps fw->nets in step; true when the change needs a full reload. */
static bool
fw_net_needs_reload(struct firewall *fw, enum engine_ban_change what,
    const struct mw_cidr *net)
{
	size_t	i;
	bool	overlap = false;

	for (i = 0; i < fw->nnets; i++)
		if (fw->nets[i].bits == net->bits &&
		    memcmp(&fw->nets[i].addr, &net->addr, sizeof(net->addr)) == 0)
			break;
	if (what == ENGINE_BAN_REMOVED) {
		if (i < fw->nnets)
			fw->nets[i] = fw->nets[--fw->nnets];
		return fw->nested > 0;	/* one left out may be uncovered now */
	}
	if (i < fw->nnets)		/* a refresh */
		return fw->nested > 0;	/* it may be one left out */
	for (size_t k = 0; k < fw->nnets && !overlap; k++)
		overlap = fw_nets_overlap(&fw->nets[k], net);
	fw_nets_add(fw, net);
	return overlap;
}

static void
fw_on_ban(void *ctx, enum engine_ban_change what, const struct store_ban *b)
{
	struct firewall		*fw = ctx;
	struct helper_elem	 e;

	if (fw->st.state != FIREWALL_RUNNING)
		return;		/* the resync after HELLO will have it */
	if (!mw_cidr_is_host(&b->net) && fw_net_needs_reload(fw, what, &b->net)) {
		if (!fw->resync_pending) {
			fw->resync_pending = true;
			event_active(fw->ev_flush, EV_TIMEOUT, 0);
		}
		return;
	}
	if (what == ENGINE_BAN_ADDED) {
		if (!fw_ban_elem(b, (int64_t)time(NULL), &e))
			return;
		if (b->count == 1)	/* not banned before: a new element */
			fw->st.elements++;
	} else {
		e = (struct helper_elem){ .net = b->net, .set = HELPER_SET_BAN };
		if (fw->st.elements > 0)
			fw->st.elements--;
	}
	if (fw->npend == fw->pend_cap) {
		fw->pend_cap = fw->pend_cap == 0 ? 64 : mw_mul_size(fw->pend_cap, 2);
		fw->pend = mw_realloc(fw->pend, mw_mul_size(fw->pend_cap,
		    sizeof(*fw->pend)));
	}
	fw->pend[fw->npend++] = (struct fw_change){
		.op = what == ENGINE_BAN_ADDED ? HELPER_MSG_SET : HELPER_MSG_DEL,
		.e = e };
	if (fw->npend == 1)
		event_active(fw->ev_flush, EV_TIMEOUT, 0);
}

static void
fw_on_allow_check(evutil_socket_t fd, short what, void *arg)
{
	struct firewall	*fw = arg;
	struct fw_elems	 allow;

	(void)fd;
	(void)what;
	if (fw->st.state != FIREWALL_RUNNING)
		return;
	fw_collect_allow_list(fw, &allow);
	if (allow.fp != fw->allow_fp) {
		fw_queue_simple(fw, HELPER_MSG_BEGIN, fw->worker_pid);
		fw_queue_simple(fw, HELPER_MSG_FLUSH, HELPER_FLUSH_ALLOW);
		fw_queue_elems(fw, HELPER_MSG_LOAD, allow.v, allow.n);
		fw_queue_simple(fw, HELPER_MSG_END, 0);
		fw_push_tag(fw, FW_TAG_ALLOW, fw_now(), allow.n);
		fw->allow_fp = allow.fp;
		fw->st.allow_elements = allow.n;
		log_info("firewall: allow list changed; %zu entries sent to the "
		    "allow sets", allow.n);
		fw_kick(fw);
	}
	free(allow.v);
}

/* --- what the helper says ------------------------------------------------ */

static void
fw_on_status(struct firewall *fw, const struct helper_msg *m)
{
	struct fw_tag	 tag;
	double		 took;

	if (fw->tag_head == fw->ntags) {
		/* no transaction of ours: the worker could not set up */
		fw_set_error(fw, m->error);
		log_error("firewall: the helper cannot create table %s: %s; it "
		    "retries with backoff (is the nf_tables module available?)",
		    fw->table, m->error);
		return;
	}
	tag = fw->tags[fw->tag_head++];
	took = fw_now() - tag.started;
	fw->st.transactions++;
	if (!m->ok) {
		fw->st.transaction_errors++;
		if (tag.elems > m->applied)
			fw->st.elements_failed += tag.elems - m->applied;
		fw_set_error(fw, m->error);
		log_warn("firewall: %zu of %zu elements not applied: %s",
		    tag.elems > m->applied ? tag.elems - m->applied : 0,
		    tag.elems, m->error);
	}
	if (tag.kind == FW_TAG_RESYNC) {
		fw->st.resyncs++;
		fw->st.last_resync_elements = m->applied;
		fw->st.last_resync_s = took;
		log_info("firewall: table %s loaded: %u elements in %.2f s",
		    fw->table, m->applied, took);
	}
}

static void
fw_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct firewall	*fw = arg;
	const char	*error;
	char		 why[HELPER_MSG_MAX_ERROR + 64];

	(void)what;
	while (fw->fd >= 0) {	/* a failed write may have closed it */
		ssize_t n = recv(fd, fw->rbuf, HELPER_MSG_MAX + 1, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			(void)snprintf(why, sizeof(why), "the helper (pid %ld) "
			    "exited%s%s", (long)fw->helper_pid, n < 0 ? ": " : "",
			    n < 0 ? strerror(errno) : "");
			fw_lost(fw, why);
			return;
		}
		if (helper_msg_decode(fw->rbuf, (size_t)n, fw->msg, &error) < 0) {
			(void)snprintf(why, sizeof(why), "malformed message from "
			    "the helper: %s", error);
			fw_lost(fw, why);
			return;
		}
		switch (fw->msg->type) {
		case HELPER_MSG_HELLO:
			fw->worker_pid = fw->msg->arg;
			fw->st.worker_pid = (long)fw->msg->arg;
			fw->st.worker_starts++;
			fw->st.state = FIREWALL_RUNNING;
			if (fw->st.worker_starts > 1)
				log_warn("firewall: helper worker restarted (pid "
				    "%u, start %llu); reloading the sets",
				    fw->msg->arg,
				    (unsigned long long)fw->st.worker_starts);
			else
				log_info("firewall: helper ready (pid %ld, worker "
				    "%u), table %s", (long)fw->helper_pid,
				    fw->msg->arg, fw->table);
			fw_resync(fw);
			break;
		case HELPER_MSG_STATUS:
			fw_on_status(fw, fw->msg);
			break;
		default:
			(void)snprintf(why, sizeof(why), "unexpected %s message "
			    "from the helper", helper_msg_type_name(fw->msg->type));
			fw_lost(fw, why);
			return;
		}
	}
}

/* --- life cycle ---------------------------------------------------------- */

static void
fw_reap(struct firewall *fw, int wait_ms)
{
	int status;

	if (fw->helper_pid <= 0)
		return;
	for (int i = 0; i <= wait_ms / 10; i++) {
		pid_t w = waitpid(fw->helper_pid, &status, WNOHANG);

		if (w == fw->helper_pid || (w < 0 && errno == ECHILD)) {
			fw->helper_pid = 0;
			return;
		}
		if (wait_ms == 0)
			return;
		if (i == wait_ms / 20)	/* half the time: ask it */
			(void)kill(fw->helper_pid, SIGTERM);
		usleep(10000);
	}
	log_warn("firewall: helper (pid %ld) did not exit; killing it",
	    (long)fw->helper_pid);
	(void)kill(fw->helper_pid, SIGKILL);
	(void)waitpid(fw->helper_pid, &status, 0);
	fw->helper_pid = 0;
}

static void
fw_close(struct firewall *fw)
{
	if (fw->ev_read != NULL)
		event_free(fw->ev_read);
	if (fw->ev_write != NULL)
		event_free(fw->ev_write);
	fw->ev_read = fw->ev_write = NULL;
	if (fw->fd >= 0)
		close(fw->fd);
	fw->fd = -1;
	fw_queue_clear(fw);
	fw->npend = 0;
}

static void
fw_lost(struct firewall *fw, const char *why)
{
	fw->st.state = FIREWALL_UNAVAILABLE;
	(void)snprintf(fw->reason, sizeof(fw->reason), "%s", why);
	fw_set_error(fw, why);
	log_error("firewall unavailable: %s; banned clients are still refused "
	    "by the policy answers, and the table keeps its elements until "
	    "their timeouts; restart mailwardd to restore the firewall", why);
	fw_close(fw);
	fw_reap(fw, 0);
	fw->st.worker_pid = 0;
}

static uint64_t
fw_cfg_fp(const struct cfg *cfg)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	char		 text[CFG_MAX_FW_TABLE + CFG_MAX_FW_PORTS * 6 + 32];
	int		 off;

	off = snprintf(text, sizeof(text), "%d %s %d", cfg->firewall.enabled,
	    cfg->firewall.table, cfg->firewall.priority);
	for (size_t i = 0; i < cfg->firewall.nports && off > 0 &&
	    (size_t)off < sizeof(text); i++)
		off += snprintf(text + off, sizeof(text) - (size_t)off, " %u",
		    cfg->firewall.ports[i]);
	for (const char *p = text; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

struct firewall *
firewall_start(const struct cfg *cfg, uid_t uid, gid_t gid,
    enum log_target log_target, enum log_level log_level)
{
	struct firewall		*fw = mw_calloc(1, sizeof(*fw));
	struct helper_spawn_args args = { .uid = uid, .gid = gid,
	    .log_target = log_target, .log_level = log_level };
	const char		*error;
	int			 fd;
	pid_t			 pid;

	fw->fd = -1;
	fw->cfg_fp = fw_cfg_fp(cfg);
	fw->st.state = FIREWALL_DISABLED;
	fw->st.reason = fw->reason;
	fw->st.last_error = fw->last_error;
	fw->st.table = fw->table;
	(void)snprintf(fw->table, sizeof(fw->table), "inet %s",
	    cfg->firewall.table);
	if (!cfg->firewall.enabled) {
		(void)snprintf(fw->reason, sizeof(fw->reason), "[firewall] "
		    "enabled = no; set enabled = yes (and start mailwardd as "
		    "root) to drop banned clients in the kernel");
		log_info("firewall disabled: %s", fw->reason);
		return fw;
	}
	if (geteuid() != 0) {
		(void)snprintf(fw->reason, sizeof(fw->reason), "mailwardd runs "
		    "as uid %ld, not root, so it cannot create the nftables "
		    "table; start it as root (it drops to [daemon] user by "
		    "itself) or set [firewall] enabled = no", (long)geteuid());
		log_warn("firewall disabled: %s", fw->reason);
		return fw;
	}
	(void)snprintf(args.nft.table, sizeof(args.nft.table), "%s",
	    cfg->firewall.table);
	args.nft.priority = cfg->firewall.priority;
	args.nft.nports = cfg->firewall.nports;
	memcpy(args.nft.ports, cfg->firewall.ports,
	    cfg->firewall.nports * sizeof(args.nft.ports[0]));
	if (helper_spawn(&args, &pid, &fd, &error) < 0) {
		fw->st.state = FIREWALL_UNAVAILABLE;
		(void)snprintf(fw->reason, sizeof(fw->reason), "%s", error);
		log_error("firewall unavailable: %s", error);
		return fw;
	}
	fw->fd = fd;
	fw->helper_pid = pid;
	fw->st.helper_pid = (long)pid;
	fw->st.state = FIREWALL_STARTING;
	log_info("firewall: helper started (pid %ld) for table %s", (long)pid,
	    fw->table);
	return fw;
}

void
firewall_attach(struct firewall *fw, struct event_base *base, struct engine *e)
{
	struct timeval tv = { FW_ALLOW_CHECK_MS / 1000,
	    (FW_ALLOW_CHECK_MS % 1000) * 1000 };

	if (fw->fd < 0)
		return;
	fw->base = base;
	fw->engine = e;
	fw->rbuf = mw_malloc(HELPER_MSG_MAX + 1);
	fw->wbuf = mw_malloc(HELPER_MSG_MAX);
	fw->msg = mw_malloc(sizeof(*fw->msg));
	fw->ev_read = event_new(base, fw->fd, EV_READ | EV_PERSIST, fw_on_read,
	    fw);
	fw->ev_write = event_new(base, fw->fd, EV_WRITE, fw_on_write, fw);
	fw->ev_flush = event_new(base, -1, 0, fw_on_flush, fw);
	fw->ev_allow = event_new(base, -1, EV_PERSIST, fw_on_allow_check, fw);
	event_add(fw->ev_read, NULL);
	event_add(fw->ev_allow, &tv);
	engine_set_ban_hook(e, fw_on_ban, fw);
}

void
firewall_reload(struct firewall *fw, const struct cfg *fresh)
{
	uint64_t fp;

	if (fw == NULL || (fp = fw_cfg_fp(fresh)) == fw->cfg_fp)
		return;
	log_warn("firewall: [firewall] changed; it is read at start only: "
	    "restart mailwardd to apply it (the running firewall stays as it "
	    "is)");
	fw->cfg_fp = fp;	/* said once per change */
}

void
firewall_get_status(struct firewall *fw, struct firewall_status *s_r)
{
	*s_r = fw->st;
}

void
firewall_free(struct firewall **fwp)
{
	struct firewall *fw = *fwp;

	if (fw == NULL)
		return;
	if (fw->engine != NULL)
		engine_set_ban_hook(fw->engine, NULL, NULL);
	fw_close(fw);
	if (fw->ev_flush != NULL)
		event_free(fw->ev_flush);
	if (fw->ev_allow != NULL)
		event_free(fw->ev_allow);
	fw_reap(fw, FW_REAP_WAIT_MS);
	free(fw->out);
	free(fw->pend);
	free(fw->nets);
	free(fw->tags);
	free(fw->rbuf);
	free(fw->wbuf);
	free(fw->msg);
	free(fw);
	*fwp = NULL;
}
