/*
 * logwatch - follow mail logs and turn the authentication failures in
 * them into login-guard observations (engine_auth_report, source
 * "logwatch", the line's own time).
 *
 * Files are polled every [logwatch] poll_interval (stat + read of what
 * was appended): rotation by rename (inode change: the rest of the old
 * file is read first, then the new one from its start) and copytruncate
 * (size below the position, or other first bytes: read from 0) are
 * followed. The position
 * (path, inode, offset of the last whole line) is written to the store
 * BEFORE the lines are handed on, so a restart resumes after them and
 * never counts a line twice (a crash between the two loses at most one
 * read, 64 KiB). A file seen for the first time is read from its end.
 *
 * Files are opened by the service user after privileges are dropped
 * (they are reopened at every rotation): make them readable by it, e.g.
 * on Debian `adduser mailward adm` for /var/log/mail.log. A file that
 * cannot be opened is retried at every poll, with one warning per cause.
 *
 * With journal = yes (and a build with libsystemd) the systemd journal's
 * mail facility is followed too, its cursor saved the same way.
 *
 * A file is recognised by its inode and a hash of its first 64 bytes, so
 * a copytruncate followed by more writes than were read before the next
 * poll, or a new file that got the old inode number while mailwardd was
 * stopped, is read from its start too.
 *
 * Loop thread only. Work per poll is bounded (LOGWATCH_POLL_BYTES per
 * file, 1024 journal entries); a backlog is read on the next turns.
 */
#ifndef MW_SOURCES_LOGWATCH_H
#define MW_SOURCES_LOGWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"
#include "core/mem.h"
#include "core/slice.h"

#define LOGWATCH_READ_CHUNK	65536		/* bytes per read() */
#define LOGWATCH_HEAD_BYTES	64		/* hashed to recognise a file */
#define LOGWATCH_POLL_BYTES	(8u << 20)	/* bytes per file per poll */

struct event_base;
struct engine;
struct store;

/* --- one followed file (the daemon's building block; unit-tested) --- */

struct logwatch_file;

/* Where reading a file stopped: its inode, the offset after the last
   whole line handed on, and a hash of its first LOGWATCH_HEAD_BYTES bytes
   (0 = the file is shorter): a file truncated and written again, or a new
   file that got the old inode number, has another head. */
struct logwatch_pos {
	uint64_t	 inode, offset, head;
};

/* Called with the position after the whole lines about to be delivered,
   before they are; returns 0, or -1 (logged by the caller; reading goes on). */
typedef int logwatch_save_fn(void *ctx, const char *path,
	    const struct logwatch_pos *pos);
/* One whole line, without its LF (at most LOGPAT_MAX_LINE bytes: longer
   lines are skipped and counted). */
typedef void logwatch_line_fn(void *ctx, struct mw_slice line);

struct logwatch_file_stats {
	uint64_t	 lines, bytes, rotations, truncations, overlong;
	bool		 open;
	uint64_t	 inode, offset;
};

/* resume: what a previous run saved for this path (NULL: nothing), used
   when the inode and head still match and the file is not shorter; else
   the file is read from its start. Without one the file is followed from
   its end. The path is copied. */
struct logwatch_file *logwatch_file_new(const char *path,
	    const struct logwatch_pos *resume);
void	 logwatch_file_free(struct logwatch_file **f);
/* Reads what was appended since the last poll, at most max_bytes, and
   follows rotation and truncation. Returns true when max_bytes was
   reached (more to read now). */
bool	 logwatch_file_poll(struct logwatch_file *f, size_t max_bytes,
	    logwatch_save_fn *save, logwatch_line_fn *fn, void *ctx);
void	 logwatch_file_get_stats(const struct logwatch_file *f,
	    struct logwatch_file_stats *s_r);
const char *logwatch_file_path(const struct logwatch_file *f);

/* --- the daemon's log watcher --- */

struct logwatch;

struct logwatch_stats {
	uint64_t	 lines, failures, reported, repeats, overlong;
	size_t		 files, files_open;
};

/* Checks what cfg_load cannot (the pattern set names); 0, or -1 with
   *error_r (malloc'd) as "file: logwatch: patterns: ...". */
int	 logwatch_check_config(const struct cfg *cfg, char **error_r)
	    MW_MUST_CHECK;
/* Starts following cfg's files (cfg must outlive lw until the next
   logwatch_reload). Fails (*error_r malloc'd) only on a bad patterns
   value; unreadable files are retried. */
int	 logwatch_new(struct event_base *base, const struct cfg *cfg,
	    struct engine *e, struct store *st, struct logwatch **lw_r,
	    char **error_r) MW_MUST_CHECK;
/* Files kept keep their position; new ones start at their end (or where
   a previous run stopped); removed ones are closed. */
int	 logwatch_reload(struct logwatch *lw, const struct cfg *cfg,
	    char **error_r) MW_MUST_CHECK;
void	 logwatch_free(struct logwatch **lw);
void	 logwatch_get_stats(const struct logwatch *lw,
	    struct logwatch_stats *s_r);

#endif
