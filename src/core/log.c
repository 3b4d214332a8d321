/*
 * log - leveled logging; see log.h. Thread-safe: each line is formatted
 * into a local buffer and written with one call.
 */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define LOG_MAX_LINE	2048	/* bytes per log line; longer lines are cut */

static enum log_target	 log_target = LOG_TARGET_STDERR;
static enum log_level	 log_max = LOG_LEVEL_INFO;
static const char	*log_ident = "mailward";
static log_capture_fn	*log_capture;
static void		*log_capture_ctx;

static const char *const log_names[] = { "error", "warning", "info", "debug" };

void
log_open(const char *ident, enum log_target target, enum log_level max_level)
{
	log_ident = ident;
	log_target = target;
	log_max = max_level;
	if (target == LOG_TARGET_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_level(enum log_level max_level)
{
	log_max = max_level;
}

bool
log_is_debug(void)
{
	return log_max >= LOG_LEVEL_DEBUG;
}

int
log_level_parse(const char *name, enum log_level *level_r)
{
	static const struct { const char *name; enum log_level level; } names[] = {
		{ "error", LOG_LEVEL_ERROR }, { "warn", LOG_LEVEL_WARN },
		{ "warning", LOG_LEVEL_WARN }, { "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};

	for (size_t i = 0; i < MW_N_ELEMENTS(names); i++) {
		if (strcmp(names[i].name, name) == 0) {
			*level_r = names[i].level;
			return 0;
		}
	}
	return -1;
}

void
log_set_capture(log_capture_fn *fn, void *ctx)
{
	log_capture = fn;
	log_capture_ctx = ctx;
}

static void log_vmsg(enum log_level level, int errnum, const char *fmt,
    va_list ap) MW_PRINTF(3, 0);

static void
log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char	 line[LOG_MAX_LINE];
	int	 n;

	if (level > log_max)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n >= 0 && errnum != 0 && (size_t)n < sizeof(line))
		(void)snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(errnum));
	if (log_capture != NULL)
		log_capture(log_capture_ctx, level, line);
	if (log_target == LOG_TARGET_SYSLOG) {
		syslog(prio[level], "%s: %s", log_names[level], line);
	} else {
		struct timespec	 ts;
		struct tm	 tm;
		char		 stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s: %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_ident, log_names[level], line);
	}
}

#define LOG_DEFINE(name, level, with_errno) \
void \
name(const char *fmt, ...) \
{ \
	int	 saved = errno; \
	va_list	 ap; \
\
	va_start(ap, fmt); \
	log_vmsg(level, with_errno ? saved : 0, fmt, ap); \
	va_end(ap); \
	errno = saved; \
}

LOG_DEFINE(log_error, LOG_LEVEL_ERROR, 0)
LOG_DEFINE(log_warn, LOG_LEVEL_WARN, 0)
LOG_DEFINE(log_info, LOG_LEVEL_INFO, 0)
LOG_DEFINE(log_debug, LOG_LEVEL_DEBUG, 0)
LOG_DEFINE(log_error_errno, LOG_LEVEL_ERROR, 1)
LOG_DEFINE(log_warn_errno, LOG_LEVEL_WARN, 1)

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}
