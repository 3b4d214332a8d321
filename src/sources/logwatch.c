/*
 * logwatch - the file follower and the daemon's watcher; see logwatch.h.
 *
 * A file's state: the open fd and its (dev, inode), the offset of the
 * last whole line handed on, and the bytes of a line not yet ended
 * (carry). A poll reads to EOF (bounded), then stats the path: another
 * inode there means the file was rotated, and since the old fd is at its
 * end, the new file is opened and read from 0. A size below the offset
 * means it was truncated in place (copytruncate): read again from 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#ifdef MW_HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "core/log.h"
#include "engine/engine.h"
#include "sources/logpat.h"
#include "sources/logwatch.h"
#include "store/store.h"

#define LOGWATCH_BUF		(LOGWATCH_READ_CHUNK + LOGPAT_MAX_LINE + 1)
#define LOGWATCH_DEDUP_SLOTS	16384
#define LOGWATCH_JOURNAL_BATCH	1024	/* journal entries per poll */
#define LOGWATCH_JOURNAL_NAME	"journal"	/* its name in the store */

struct logwatch_file {
	char		*path;
	int		 fd;
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 offset;	/* bytes of whole lines handed on */
	bool		 opened_once;	/* later opens start at 0 (rotation) */
	bool		 have_resume;
	struct logwatch_pos resume;
	uint64_t	 head;		/* hash of the first bytes; 0 = not yet */
	bool		 skipping;	/* inside an overlong line */
	bool		 was_missing;	/* absent at the first try: new when it appears */
	int		 last_errno;	/* of the last failed open (warn once) */
	char		*buf;
	size_t		 carry;		/* bytes of an unfinished line in buf */
	struct logwatch_file_stats stats;
};

struct logwatch_file *
logwatch_file_new(const char *path, const struct logwatch_pos *resume)
{
	struct logwatch_file *f = mw_calloc(1, sizeof(*f));

	f->path = mw_strdup(path);
	f->fd = -1;
	f->have_resume = resume != NULL;
	if (resume != NULL)
		f->resume = *resume;
	f->buf = mw_malloc(LOGWATCH_BUF);
	return f;
}

static void
lwf_close(struct logwatch_file *f)
{
	if (f->fd >= 0)
		(void)close(f->fd);
	f->fd = -1;
	f->carry = 0;
	f->skipping = false;
	f->head = 0;
	f->stats.open = false;
}

/* FNV-1a of the first LOGWATCH_HEAD_BYTES bytes of fd; 0 when shorter
   (or unreadable). */
static uint64_t
lwf_head(int fd)
{
	unsigned char	 b[LOGWATCH_HEAD_BYTES];
	uint64_t	 h = 1469598103934665603ull;

	if (pread(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return 0;
	for (size_t i = 0; i < sizeof(b); i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h != 0 ? h : 1;
}

void
logwatch_file_free(struct logwatch_file **fp)
{
	struct logwatch_file *f = *fp;

	if (f == NULL)
		return;
	lwf_close(f);
	mw_free(&f->buf);
	mw_free(&f->path);
	mw_free(fp);
}

const char *
logwatch_file_path(const struct logwatch_file *f)
{
	return f->path;
}

void
logwatch_file_get_stats(const struct logwatch_file *f,
    struct logwatch_file_stats *s_r)
{
	*s_r = f->stats;
	s_r->inode = (uint64_t)f->ino;
	s_r->offset = f->offset;
}

static void
lwf_save(struct logwatch_file *f, logwatch_save_fn *save, void *ctx)
{
	struct logwatch_pos pos = { (uint64_t)f->ino, f->offset, f->head };

	if (save != NULL && save(ctx, f->path, &pos) < 0)
		log_warn("logwatch: %s: cannot save the read position; a restart "
		    "may read some lines again", f->path);
}

/* Opens the file and picks where to start. false: not there (yet). */
static bool
lwf_open(struct logwatch_file *f, logwatch_save_fn *save, void *ctx)
{
	struct stat	 st;
	uint64_t	 start, head;
	int		 fd;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 ||
	    fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = fd < 0 ? errno : EINVAL;

		if (fd >= 0)
			(void)close(fd);
		if (err == ENOENT && !f->opened_once)
			f->was_missing = true;
		if (err != f->last_errno) {
			if (err == EACCES)
				log_warn("logwatch: %s: cannot open: permission "
				    "denied; make it readable by mailwardd's user "
				    "(Debian: adduser mailward adm); retrying every "
				    "poll", f->path);
			else if (err == EINVAL)
				log_warn("logwatch: %s: not a regular file; "
				    "retrying every poll", f->path);
			else
				log_warn("logwatch: %s: cannot open: %s; retrying "
				    "every poll", f->path, strerror(err));
			f->last_errno = err;
		}
		return false;
	}
	f->last_errno = 0;
	head = lwf_head(fd);
	if (f->opened_once || (f->was_missing && !f->have_resume)) {
		start = 0;	/* replaced a rotated file, or created since */
		log_info("logwatch: %s: %s (inode %llu); reading from its start",
		    f->path, f->opened_once ? "reopened after rotation" :
		    "appeared", (unsigned long long)st.st_ino);
	} else if (f->have_resume && f->resume.inode == (uint64_t)st.st_ino &&
	    f->resume.offset <= (uint64_t)st.st_size &&
	    (f->resume.head == 0 || f->resume.head == head)) {
		start = f->resume.offset;
		log_info("logwatch: %s: resuming at offset %llu (inode %llu)",
		    f->path, (unsigned long long)start,
		    (unsigned long long)st.st_ino);
	} else if (f->have_resume) {
		start = 0;
		log_info("logwatch: %s: rotated or truncated while mailwardd was "
		    "not running; reading it from the start (inode %llu)",
		    f->path, (unsigned long long)st.st_ino);
	} else {
		start = (uint64_t)st.st_size;
		log_info("logwatch: %s: following from its end (offset %llu, "
		    "inode %llu)", f->path, (unsigned long long)start,
		    (unsigned long long)st.st_ino);
	}
	if (lseek(fd, (off_t)start, SEEK_SET) < 0) {
		log_warn_errno("logwatch: %s: lseek", f->path);
		(void)close(fd);
		return false;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->offset = start;
	f->carry = 0;
	f->skipping = false;
	f->head = head;
	f->opened_once = true;
	f->have_resume = false;
	f->stats.open = true;
	lwf_save(f, save, ctx);
	return true;
}

/* Hands on the whole lines in buf[0..len): saves the position after the
   last one first, keeps the unfinished rest as carry. */
static void
lwf_deliver(struct logwatch_file *f, size_t len, logwatch_save_fn *save,
    logwatch_line_fn *fn, void *ctx)
{
	char	*p = f->buf, *end = f->buf + len, *nl;
	char	*last = memrchr(f->buf, '\n', len);

	if (last == NULL) {
		f->carry = len;
		if (f->carry > LOGPAT_MAX_LINE) {
			/* a line longer than any pattern takes: skip to its end */
			f->offset += f->carry;
			f->carry = 0;
			if (!f->skipping)
				f->stats.overlong++;
			f->skipping = true;
		}
		return;
	}
	f->offset += (uint64_t)(last + 1 - f->buf);
	lwf_save(f, save, ctx);
	while (p <= last && (nl = memchr(p, '\n', (size_t)(last + 1 - p))) != NULL) {
		size_t n = (size_t)(nl - p);

		if (f->skipping) {
			f->skipping = false;	/* the end of the overlong line */
		} else if (n > LOGPAT_MAX_LINE) {
			f->stats.overlong++;
		} else {
			f->stats.lines++;
			fn(ctx, (struct mw_slice){ p, n });
		}
		p = nl + 1;
	}
	f->carry = (size_t)(end - (last + 1));
	memmove(f->buf, last + 1, f->carry);
}

bool
logwatch_file_poll(struct logwatch_file *f, size_t max_bytes,
    logwatch_save_fn *save, logwatch_line_fn *fn, void *ctx)
{
	size_t		 done = 0;
	struct stat	 st;
	ssize_t		 n;

	for (int reopen = 0; reopen < 2; reopen++) {
		if (f->fd < 0 && !lwf_open(f, save, ctx))
			return false;
		/* copytruncate: the file shrank below what we read, or was
		   written again past it (its first bytes changed) */
		if (fstat(f->fd, &st) == 0 &&
		    ((uint64_t)st.st_size < f->offset + f->carry ||
		    (f->head != 0 && lwf_head(f->fd) != f->head))) {
			log_info("logwatch: %s: truncated (size %llu, read %llu, "
			    "first bytes %s); reading from the start", f->path,
			    (unsigned long long)st.st_size,
			    (unsigned long long)(f->offset + f->carry),
			    (uint64_t)st.st_size < f->offset + f->carry ?
			    "not checked" : "changed");
			f->head = 0;
			f->stats.truncations++;
			f->offset = 0;
			f->carry = 0;
			f->skipping = false;
			if (lseek(f->fd, 0, SEEK_SET) < 0) {
				lwf_close(f);
				return false;
			}
			lwf_save(f, save, ctx);
		}
		while (done < max_bytes) {
			size_t room = LOGWATCH_BUF - f->carry;

			if (room > LOGWATCH_READ_CHUNK)
				room = LOGWATCH_READ_CHUNK;
			n = read(f->fd, f->buf + f->carry, room);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				log_warn_errno("logwatch: %s: read", f->path);
				lwf_close(f);
				return false;
			}
			if (n == 0)
				break;
			f->stats.bytes += (uint64_t)n;
			done += (size_t)n;
			if (f->head == 0)
				f->head = lwf_head(f->fd);
			lwf_deliver(f, f->carry + (size_t)n, save, fn, ctx);
		}
		if (done >= max_bytes)
			return true;
		/* at EOF: has the path moved on to another file? */
		if (stat(f->path, &st) < 0 ||
		    (st.st_ino == f->ino && st.st_dev == f->dev))
			return false;
		/* the old file ends here: its last line may lack a LF */
		if (f->carry > 0 && !f->skipping) {
			f->offset += f->carry;
			f->stats.lines++;
			fn(ctx, (struct mw_slice){ f->buf, f->carry });
		}
		log_info("logwatch: %s: rotated (inode %llu -> %llu) after "
		    "%llu bytes", f->path, (unsigned long long)f->ino,
		    (unsigned long long)st.st_ino, (unsigned long long)f->offset);
		f->stats.rotations++;
		lwf_close(f);
	}
	return false;
}

/* --- the daemon's watcher ------------------------------------------- */

struct logwatch {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct engine		*engine;
	struct store		*store;
	struct logpat		*lp;
	struct logpat_dedup	*dedup;
	struct logpat_clock	 clk;
	struct logwatch_file	**files;
	size_t			 nfiles;
	struct event		*timer;
	struct logwatch_stats	 stats;
	const char		*cur_path;	/* for debug lines */
#ifdef MW_HAVE_SYSTEMD
	sd_journal		*journal;
	char			*journal_dir;	/* what it was opened on ("" system) */
	struct lw_jentry	*jbatch;	/* LOGWATCH_JOURNAL_BATCH slots */
	char			*jbuf;		/* their lines */
#endif
};

static void lw_line_at(struct logwatch *lw, struct mw_slice line,
    bool has_time, int64_t time_ms);

/* Files keep their head hash in the cursor column ("head=HEX"). */
static int
lw_save(void *ctx, const char *path, const struct logwatch_pos *p)
{
	struct logwatch		*lw = ctx;
	struct store_logpos	 pos = { .inode = p->inode, .offset = p->offset,
				    .updated = (int64_t)time(NULL) };

	if (p->head != 0)
		(void)snprintf(pos.cursor, sizeof(pos.cursor), "head=%016llx",
		    (unsigned long long)p->head);
	if (store_logpos_put(lw->store, path, &pos) < 0) {
		log_warn("logwatch: store: %s", store_last_error(lw->store));
		return -1;
	}
	return 0;
}

static void
lw_line(void *ctx, struct mw_slice line)
{
	lw_line_at(ctx, line, false, 0);
}

/* A line; has_time: its time comes from elsewhere (the journal's). */
static void
lw_line_at(struct logwatch *lw, struct mw_slice line, bool has_time,
    int64_t time_ms)
{
	struct logpat_match	 m;
	struct auth_observation	 o;
	char			 account[LOGPAT_MAX_ACCOUNT + 1];
	uint32_t		 n;

	lw->stats.lines++;
	if (!logpat_match(lw->lp, line, &lw->clk, &m))
		return;
	lw->stats.failures++;
	if (has_time) {
		m.has_time = true;
		m.time_ms = time_ms;
	}
	n = logpat_dedup_attempts(lw->dedup, &m);
	if (n == 0) {
		lw->stats.repeats++;
		return;
	}
	/* The account is client text: printable bytes only reach the engine. */
	for (size_t i = 0; i < m.account.len; i++) {
		unsigned char c = (unsigned char)m.account.ptr[i];

		account[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	account[m.account.len] = '\0';
	o = (struct auth_observation){ .source = "logwatch",
	    .service = m.service, .addr = m.addr, .has_addr = true,
	    .account = account, .phase = AUTH_PHASE_FAILURE,
	    .time_ms = m.has_time ? m.time_ms : 0 };
	if (log_is_debug()) {
		char a[MW_ADDR_STRLEN];

		log_debug("logwatch: %s: %s failure from %s (%u attempt%s)",
		    lw->cur_path, m.rule, mw_addr_format(&m.addr, a, sizeof(a)),
		    n, n == 1 ? "" : "s");
	}
	for (uint32_t i = 0; i < n; i++) {
		lw->stats.reported++;
		engine_auth_report(lw->engine, &o);
	}
}

#ifdef MW_HAVE_SYSTEMD
/* --- the systemd journal ---------------------------------------------
   Entries of the mail facility (SYSLOG_FACILITY=2, where Postfix and
   Dovecot log) become "IDENTIFIER[PID]: MESSAGE" lines for the patterns,
   with the entry's own time. A batch is read, its last cursor saved, and
   only then are its lines handed on (as for files: never twice). */

struct lw_jentry {
	size_t		 off, len;
	int64_t		 time_ms;
};

static int
lw_jfield(sd_journal *j, const char *field, struct mw_slice *v_r)
{
	const void	*data;
	size_t		 len, flen = strlen(field);

	if (sd_journal_get_data(j, field, &data, &len) < 0 || len <= flen)
		return -1;
	*v_r = (struct mw_slice){ (const char *)data + flen + 1, len - flen - 1 };
	return 0;
}

static void
lw_journal_close(struct logwatch *lw)
{
	if (lw->journal != NULL)
		sd_journal_close(lw->journal);
	lw->journal = NULL;
	mw_free(&lw->journal_dir);
}

static void
lw_journal_open(struct logwatch *lw, const struct cfg *cfg)
{
	const char		*dir = cfg->logwatch.journal_directory;
	struct store_logpos	 pos;
	int			 r;

	if (lw->journal != NULL && strcmp(lw->journal_dir, dir) == 0)
		return;
	lw_journal_close(lw);
	r = dir[0] != '\0' ? sd_journal_open_directory(&lw->journal, dir, 0) :
	    sd_journal_open(&lw->journal, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		log_warn("logwatch: journal %s: cannot open: %s; journal not "
		    "followed", dir[0] != '\0' ? dir : "(system)", strerror(-r));
		lw->journal = NULL;
		return;
	}
	lw->journal_dir = mw_strdup(dir);
	if ((r = sd_journal_add_match(lw->journal, "SYSLOG_FACILITY=2", 0)) < 0)
		log_warn("logwatch: journal: match: %s", strerror(-r));
	(void)sd_journal_get_fd(lw->journal);	/* inotify, for process() */
	if (store_logpos_get(lw->store, LOGWATCH_JOURNAL_NAME, &pos) == 1 &&
	    pos.cursor[0] != '\0' &&
	    sd_journal_seek_cursor(lw->journal, pos.cursor) >= 0 &&
	    sd_journal_next(lw->journal) > 0) {
		/* on the entry of the cursor if it still exists: read after it */
		if (sd_journal_test_cursor(lw->journal, pos.cursor) <= 0)
			(void)sd_journal_previous(lw->journal);
		log_info("logwatch: journal %s: resuming after the saved cursor",
		    dir[0] != '\0' ? dir : "(system)");
		return;
	}
	(void)sd_journal_seek_tail(lw->journal);
	(void)sd_journal_previous(lw->journal);
	log_info("logwatch: journal %s: following from its end (mail facility)",
	    dir[0] != '\0' ? dir : "(system)");
}

static bool
lw_journal_poll(struct logwatch *lw)
{
	struct store_logpos	 pos = { .updated = (int64_t)time(NULL) };
	size_t			 n = 0, used = 0, cap = (size_t)LOGWATCH_JOURNAL_BATCH *
				    256;
	char			*cursor = NULL;
	int			 r;

	if (lw->journal == NULL)
		return false;
	(void)sd_journal_process(lw->journal);
	if (lw->jbatch == NULL) {
		lw->jbatch = mw_calloc(LOGWATCH_JOURNAL_BATCH, sizeof(*lw->jbatch));
		lw->jbuf = mw_malloc(cap);
	}
	while (n < LOGWATCH_JOURNAL_BATCH &&
	    (r = sd_journal_next(lw->journal)) > 0) {
		struct mw_slice	 msg, ident = MW_SLICE_LIT("-"), pid = { "", 0 };
		uint64_t	 usec = 0;
		int		 len;

		if (lw_jfield(lw->journal, "MESSAGE", &msg) < 0)
			continue;
		(void)lw_jfield(lw->journal, "SYSLOG_IDENTIFIER", &ident);
		if (lw_jfield(lw->journal, "SYSLOG_PID", &pid) < 0)
			(void)lw_jfield(lw->journal, "_PID", &pid);
		(void)sd_journal_get_realtime_usec(lw->journal, &usec);
		if (msg.len > LOGPAT_MAX_LINE || ident.len > 64 || pid.len > 20) {
			lw->stats.overlong++;
			continue;
		}
		if (cap - used < ident.len + pid.len + msg.len + 8) {
			cap = mw_mul_size(cap, 2);
			lw->jbuf = mw_realloc(lw->jbuf, cap);
		}
		len = pid.len > 0 ?
		    snprintf(lw->jbuf + used, cap - used, "%.*s[%.*s]: %.*s",
		    (int)ident.len, ident.ptr, (int)pid.len, pid.ptr, (int)msg.len,
		    msg.ptr) :
		    snprintf(lw->jbuf + used, cap - used, "%.*s: %.*s",
		    (int)ident.len, ident.ptr, (int)msg.len, msg.ptr);
		if (len < 0)
			continue;
		lw->jbatch[n++] = (struct lw_jentry){ used, (size_t)len,
		    (int64_t)(usec / 1000) };
		used += (size_t)len;
	}
	if (n == 0)
		return false;
	if (sd_journal_get_cursor(lw->journal, &cursor) >= 0 &&
	    strlen(cursor) < sizeof(pos.cursor)) {
		memcpy(pos.cursor, cursor, strlen(cursor) + 1);
		if (store_logpos_put(lw->store, LOGWATCH_JOURNAL_NAME, &pos) < 0)
			log_warn("logwatch: journal: cannot save the cursor (%s)",
			    store_last_error(lw->store));
	}
	free(cursor);
	lw->cur_path = "journal";
	for (size_t i = 0; i < n; i++)
		lw_line_at(lw, (struct mw_slice){ lw->jbuf + lw->jbatch[i].off,
		    lw->jbatch[i].len }, lw->jbatch[i].time_ms > 0,
		    lw->jbatch[i].time_ms);
	return n == LOGWATCH_JOURNAL_BATCH;
}
#endif

static void
lw_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct logwatch	*lw = arg;
	struct timeval	 tv;
	bool		 more = false;

	(void)fd;
	(void)what;
	lw->clk.ref_s = (int64_t)time(NULL);
	for (size_t i = 0; i < lw->nfiles; i++) {
		lw->cur_path = logwatch_file_path(lw->files[i]);
		more |= logwatch_file_poll(lw->files[i], LOGWATCH_POLL_BYTES,
		    lw_save, lw_line, lw);
	}
#ifdef MW_HAVE_SYSTEMD
	more |= lw_journal_poll(lw);
#endif
	/* a backlog is read on the next turn of the loop, not in this one */
	if (more) {
		tv = (struct timeval){ 0, 0 };
	} else {
		tv.tv_sec = (time_t)(lw->cfg->logwatch.poll_interval_ms / 1000);
		tv.tv_usec = (suseconds_t)(lw->cfg->logwatch.poll_interval_ms %
		    1000 * 1000);
	}
	event_add(lw->timer, &tv);
}

static int
lw_patterns(const struct cfg *cfg, unsigned *sets_r, char **error_r)
{
	const char	*p = cfg->logwatch.patterns;
	unsigned	 sets = 0;

	while (*p != '\0') {
		size_t n = strcspn(p, " ,\t");

		if (n > 0) {
			unsigned s = logpat_set_parse((struct mw_slice){ p, n });

			if (s == 0) {
				if (asprintf(error_r, "%s: logwatch: patterns: \"%.*s\" "
				    "is not a pattern set (%s)", cfg->path, (int)n,
				    p, logpat_set_names()) < 0)
					mw_panic("asprintf: out of memory");
				return -1;
			}
			sets |= s;
		}
		p += n;
		p += strspn(p, " ,\t");
	}
	*sets_r = sets != 0 ? sets : LOGPAT_SET_ALL;
	return 0;
}

int
logwatch_check_config(const struct cfg *cfg, char **error_r)
{
	unsigned sets;

	return lw_patterns(cfg, &sets, error_r);
}

static struct logwatch_file *
lw_file_new(struct logwatch *lw, const char *path)
{
	struct store_logpos	 pos;
	struct logwatch_pos	 resume = { 0 };
	unsigned long long	 head;
	int			 r = store_logpos_get(lw->store, path, &pos);

	if (r < 0)
		log_warn("logwatch: %s: cannot read the saved position (%s); "
		    "following from the end", path, store_last_error(lw->store));
	if (r != 1)
		return logwatch_file_new(path, NULL);
	resume.inode = pos.inode;
	resume.offset = pos.offset;
	if (sscanf(pos.cursor, "head=%16llx", &head) == 1)
		resume.head = head;
	return logwatch_file_new(path, &resume);
}

int
logwatch_reload(struct logwatch *lw, const struct cfg *cfg, char **error_r)
{
	struct logwatch_file	**files;
	struct logpat		*lp;
	const char		*perror;
	unsigned		 sets;
	size_t			 n = 0;

	if (lw_patterns(cfg, &sets, error_r) < 0)
		return -1;
	if (logpat_new(sets, &lp, &perror) < 0) {
		*error_r = mw_strdup(perror);
		return -1;
	}
	logpat_free(&lw->lp);
	lw->lp = lp;
	files = mw_calloc(CFG_MAX_LOGFILES, sizeof(*files));
	for (size_t i = 0; i < cfg->logwatch.nfiles; i++) {
		const char *path = cfg->logwatch.files[i];

		for (size_t j = 0; j < lw->nfiles && files[n] == NULL; j++)
			if (lw->files[j] != NULL &&
			    strcmp(logwatch_file_path(lw->files[j]), path) == 0) {
				files[n] = lw->files[j];	/* kept, with its position */
				lw->files[j] = NULL;
			}
		if (files[n] == NULL)
			files[n] = lw_file_new(lw, path);
		n++;
	}
	for (size_t j = 0; j < lw->nfiles; j++)
		logwatch_file_free(&lw->files[j]);
	free(lw->files);
	lw->files = files;
	lw->nfiles = n;
	lw->cfg = cfg;
#ifdef MW_HAVE_SYSTEMD
	if (cfg->logwatch.journal)
		lw_journal_open(lw, cfg);
	else
		lw_journal_close(lw);
#else
	if (cfg->logwatch.journal)
		log_warn("logwatch: journal = yes: this build reads files only "
		    "(built without libsystemd-dev; point [logwatch] files at the "
		    "log rsyslog writes)");
#endif
	return 0;
}

int
logwatch_new(struct event_base *base, const struct cfg *cfg, struct engine *e,
    struct store *st, struct logwatch **lw_r, char **error_r)
{
	struct logwatch	*lw = mw_calloc(1, sizeof(*lw));
	struct timeval	 now = { 0, 0 };

	lw->base = base;
	lw->engine = e;
	lw->store = st;
	lw->dedup = logpat_dedup_new(LOGWATCH_DEDUP_SLOTS);
	if (logwatch_reload(lw, cfg, error_r) < 0) {
		logwatch_free(&lw);
		return -1;
	}
	if ((lw->timer = evtimer_new(base, lw_on_timer, lw)) == NULL)
		mw_panic("evtimer_new: out of memory");
	event_add(lw->timer, &now);
	log_info("logwatch: following %zu file(s) every %llums, %zu patterns",
	    lw->nfiles, (unsigned long long)cfg->logwatch.poll_interval_ms,
	    logpat_rule_count(lw->lp));
	*lw_r = lw;
	return 0;
}

void
logwatch_free(struct logwatch **lwp)
{
	struct logwatch *lw = *lwp;

	if (lw == NULL)
		return;
	if (lw->timer != NULL)
		event_free(lw->timer);
	for (size_t i = 0; i < lw->nfiles; i++)
		logwatch_file_free(&lw->files[i]);
	free(lw->files);
	logpat_free(&lw->lp);
	logpat_dedup_free(&lw->dedup);
#ifdef MW_HAVE_SYSTEMD
	lw_journal_close(lw);
	free(lw->jbatch);
	free(lw->jbuf);
#endif
	mw_free(lwp);
}

void
logwatch_get_stats(const struct logwatch *lw, struct logwatch_stats *s_r)
{
	*s_r = lw->stats;
	s_r->files = lw->nfiles;
	s_r->files_open = 0;
	for (size_t i = 0; i < lw->nfiles; i++) {
		struct logwatch_file_stats fs;

		logwatch_file_get_stats(lw->files[i], &fs);
		s_r->files_open += fs.open;
		s_r->overlong += fs.overlong;
	}
}
