/*
 * log - leveled logging to stderr (foreground) or syslog (daemon).
 *
 * Message shape: "<module>: <object>: <what happened>[; <what we did>]",
 * lower case, units on numbers. Peer-supplied strings must pass
 * mw_sanitize() first. A capture hook lets unit tests assert log lines.
 */
#ifndef MW_CORE_LOG_H
#define MW_CORE_LOG_H

#include <stdbool.h>

#include "core/mem.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG };

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void	log_open(const char *ident, enum log_target target,
	    enum log_level max_level);
void	log_set_level(enum log_level max_level);
/* Parses "error", "warn", "info", "debug"; -1 if unknown. */
int	log_level_parse(const char *name, enum log_level *level_r) MW_MUST_CHECK;

/* Every line that passes the level filter is also given to fn (tests).
   fn NULL removes the hook. */
typedef void log_capture_fn(void *ctx, enum log_level level, const char *line);
void	log_set_capture(log_capture_fn *fn, void *ctx);

void	log_msg(enum log_level level, const char *fmt, ...) MW_PRINTF(2, 3);
void	log_error(const char *fmt, ...) MW_PRINTF(1, 2);
void	log_warn(const char *fmt, ...) MW_PRINTF(1, 2);
void	log_info(const char *fmt, ...) MW_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) MW_PRINTF(1, 2);
/* As above with ": <strerror(errno)>" appended. */
void	log_error_errno(const char *fmt, ...) MW_PRINTF(1, 2);
void	log_warn_errno(const char *fmt, ...) MW_PRINTF(1, 2);
bool	log_is_debug(void);

#endif
