/*
 * table_out - human output of the CLI: aligned tables whose widths count
 * terminal columns of UTF-8 text (CJK wide, combining marks zero), and
 * the time, duration and expiry texts the tables use.
 *
 * Cells may hold text from SMTP clients (event reasons, senders): control
 * characters are replaced before they reach the terminal, so no escape
 * sequence from a peer is ever printed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/slice.h"

struct table {
	size_t	  ncols, nrows, cap;
	char	**cells;	/* nrows + 1 (the header) rows of ncols */
};

char *
text_clean(const char *s)
{
	char *copy = mw_strdup(s != NULL ? s : "");

	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return copy;
}

/* Width of code point cp (a simplified wcwidth without the locale). */
static size_t
cp_width(uint32_t cp)
{
	if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

size_t
text_width(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 w = 0;

	while (*p != '\0') {
		uint32_t	 cp;
		size_t		 n, k;

		if (*p < 0x80) {
			w++;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else {	/* stray continuation or invalid lead byte */
			w++;
			p++;
			continue;
		}
		for (k = 1; k <= n; k++) {
			if ((p[k] & 0xc0) != 0x80)
				break;
			cp = cp << 6 | (p[k] & 0x3f);
		}
		if (k <= n) {	/* truncated sequence: one column per byte */
			w++;
			p++;
			continue;
		}
		w += cp_width(cp);
		p += n + 1;
	}
	return w;
}

struct table *
table_new(size_t ncols, const char *const *headers)
{
	struct table *t = mw_calloc(1, sizeof(*t));

	t->ncols = ncols;
	t->cap = 16;
	t->cells = mw_calloc(mw_mul_size(t->cap, ncols), sizeof(char *));
	for (size_t i = 0; i < ncols; i++)
		t->cells[i] = text_clean(headers[i]);
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	size_t row = t->nrows + 1;

	if (row == t->cap) {
		t->cap *= 2;
		t->cells = mw_realloc(t->cells, mw_mul_size(mw_mul_size(t->cap,
		    t->ncols), sizeof(char *)));
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[row * t->ncols + i] = text_clean(cells[i] != NULL &&
		    cells[i][0] != '\0' ? cells[i] : "-");
	t->nrows++;
}

size_t
table_rows(const struct table *t)
{
	return t->nrows;
}

void
table_print(const struct table *t, FILE *out)
{
	size_t *widths = mw_calloc(t->ncols, sizeof(size_t));

	for (size_t r = 0; r <= t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t w = text_width(t->cells[r * t->ncols + i]);

			if (w > widths[i])
				widths[i] = w;
		}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *cell = t->cells[r * t->ncols + i];

			fputs(cell, out);
			if (i + 1 == t->ncols)
				break;
			for (size_t w = text_width(cell); w < widths[i] + 2; w++)
				fputc(' ', out);
		}
		fputc('\n', out);
	}
	free(widths);
}

void
table_free(struct table **tp)
{
	struct table *t = *tp;

	if (t == NULL)
		return;
	for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	*tp = NULL;
}

const char *
time_local(int64_t secs, char *buf, size_t size)
{
	time_t		 t = (time_t)secs;
	struct tm	 tm;

	if (secs <= 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}

const char *
duration_short(int64_t secs, char *buf, size_t size)
{
	static const struct { int64_t secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};

	if (secs < 0)
		secs = 0;
	for (size_t i = 0; i < MW_N_ELEMENTS(units); i++) {
		int64_t hi = secs / units[i].secs;
		int64_t lo;

		if (hi == 0 && i + 1 < MW_N_ELEMENTS(units))
			continue;
		if (i + 1 == MW_N_ELEMENTS(units)) {
			snprintf(buf, size, "%llds", (long long)secs);
			return buf;
		}
		lo = (secs % units[i].secs) / units[i + 1].secs;
		if (lo == 0)
			snprintf(buf, size, "%lld%c", (long long)hi, units[i].unit);
		else
			snprintf(buf, size, "%lld%c%lld%c", (long long)hi,
			    units[i].unit, (long long)lo, units[i + 1].unit);
		return buf;
	}
	return buf;
}

const char *
expiry_text(int64_t expires, int64_t now, char *buf, size_t size)
{
	char d[32];

	if (expires == 0)
		snprintf(buf, size, "permanent");
	else if (expires <= now)
		snprintf(buf, size, "expired");
	else
		snprintf(buf, size, "in %s", duration_short(expires - now, d,
		    sizeof(d)));
	return buf;
}

int
time_arg_parse(const char *s, int64_t now, int64_t *secs_r)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
		"%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	uint64_t	 n;
	struct tm	 tm;
	time_t		 t;

	if (s == NULL || s[0] == '\0')
		return -1;
	/* Nine digits or more: unix seconds (1973 on); fewer: seconds ago. */
	if (strlen(s) >= 9 && mw_parse_u64(s, 253402300799ULL, &n) == 0) {
		*secs_r = (int64_t)n;
		return 0;
	}
	if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
		if (mw_parse_duration(s, 100ULL * 365 * 86400, &n) < 0 ||
		    (int64_t)n > now)
			return -1;
		*secs_r = now - (int64_t)n;
		return 0;
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(formats); i++) {
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end == NULL || *end != '\0')
			continue;
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t)-1)
			return -1;
		*secs_r = (int64_t)t;
		return 0;
	}
	return -1;
}
