/*
 * logpat_time - timestamps of mail log lines to unix milliseconds.
 *
 * A small hand-written reader per format (no sscanf, no strptime: both
 * accept more than they should and strptime depends on the locale). Each
 * reader checks every digit and range and reads at most a few dozen bytes
 * from the start of the slice. Zoneless times are local time (mktime,
 * cached per hour: one mktime per hour of log, not per line).
 */
#include <string.h>
#include <time.h>

#include "sources/logpat.h"

struct tparse {
	const char	*p;
	size_t		 len, pos;
};

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool
tp_digits(struct tparse *t, size_t n, int *v_r)
{
	int v = 0;

	if (t->len - t->pos < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t->p[t->pos + i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	t->pos += n;
	*v_r = v;
	return true;
}

/* 1 or 2 digits (syslog days, "Mar 7"). */
static bool
tp_digits12(struct tparse *t, int *v_r)
{
	if (tp_digits(t, 2, v_r))
		return true;
	return tp_digits(t, 1, v_r);
}

static bool
tp_char(struct tparse *t, char c)
{
	if (t->pos < t->len && t->p[t->pos] == c) {
		t->pos++;
		return true;
	}
	return false;
}

static bool
tp_month(struct tparse *t, int *mon_r)
{
	if (t->len - t->pos < 3)
		return false;
	for (int i = 0; i < 12; i++)
		if (memcmp(t->p + t->pos, months[i], 3) == 0) {
			t->pos += 3;
			*mon_r = i + 1;
			return true;
		}
	return false;
}

/* hh:mm:ss[.frac] */
static bool
tp_hms(struct tparse *t, int *h, int *mi, int *s, int *ms)
{
	*ms = 0;
	if (!tp_digits(t, 2, h) || !tp_char(t, ':') || !tp_digits(t, 2, mi) ||
	    !tp_char(t, ':') || !tp_digits(t, 2, s))
		return false;
	if (*h > 23 || *mi > 59 || *s > 60)
		return false;
	if (tp_char(t, '.') || tp_char(t, ',')) {
		int n = 0, scale = 100;

		while (t->pos < t->len && t->p[t->pos] >= '0' &&
		    t->p[t->pos] <= '9' && n < 9) {
			*ms += (t->p[t->pos] - '0') * scale;
			scale /= 10;
			t->pos++;
			n++;
		}
		if (n == 0)
			return false;
	}
	return true;
}

/* Zone: Z, +hh:mm, +hhmm, +hh. Returns 1 with *off_s_r, 0 none. */
static int
tp_zone(struct tparse *t, int *off_s_r)
{
	int sign, zh, zm = 0;

	if (tp_char(t, 'Z')) {
		*off_s_r = 0;
		return 1;
	}
	if (t->pos >= t->len || (t->p[t->pos] != '+' && t->p[t->pos] != '-'))
		return 0;
	sign = t->p[t->pos] == '-' ? -1 : 1;
	t->pos++;
	if (!tp_digits(t, 2, &zh))
		return -1;
	if (tp_char(t, ':')) {
		if (!tp_digits(t, 2, &zm))
			return -1;
	} else
		(void)tp_digits(t, 2, &zm);
	if (zh > 14 || zm > 59)
		return -1;
	*off_s_r = sign * (zh * 3600 + zm * 60);
	return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
valid_date(int y, int mon, int d)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };

	return y >= 1970 && y <= 9999 && mon >= 1 && mon <= 12 && d >= 1 &&
	    d <= mdays[mon - 1];
}

/* Local time to unix seconds: mktime once per hour of log. */
static int64_t
local_to_unix(struct logpat_clock *clk, int y, int mon, int d, int h, int mi,
    int s)
{
	int64_t key = ((int64_t)y * 16 + mon) * 32 * 24 + d * 24 + h + 1;

	if (clk->hour_key != key) {
		struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1,
			.tm_mday = d, .tm_hour = h, .tm_isdst = -1 };

		clk->hour_base = (int64_t)mktime(&tm);
		clk->hour_key = key;
	}
	return clk->hour_base + mi * 60 + s;
}

static int64_t
utc_to_unix(int y, int mon, int d, int h, int mi, int s)
{
	return days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s;
}

static int64_t
ref_year(struct logpat_clock *clk)
{
	if (clk->ref_for != clk->ref_s || clk->ref_year == 0) {
		time_t tt = (time_t)clk->ref_s;
		struct tm tm;

		if (localtime_r(&tt, &tm) == NULL)
			clk->ref_year = 1970;
		else
			clk->ref_year = tm.tm_year + 1900;
		clk->ref_for = clk->ref_s;
	}
	return clk->ref_year;
}

static bool
finish(struct logpat_clock *clk, struct tparse *t, int y, int mon, int d,
    int h, int mi, int s, int ms, bool zone_allowed, int64_t *time_ms_r)
{
	int off, z = 0;
	int64_t secs;

	if (!valid_date(y, mon, d))
		return false;
	if (zone_allowed) {
		size_t save = t->pos;

		(void)tp_char(t, ' ');
		if ((z = tp_zone(t, &off)) < 0)
			return false;
		if (z == 0)
			t->pos = save;
	}
	if (z == 1)
		secs = utc_to_unix(y, mon, d, h, mi, s) - off;
	else
		secs = local_to_unix(clk, y, mon, d, h, mi, s);
	*time_ms_r = secs * 1000 + ms;
	return true;
}

/* "Nov 23 10:00:00" (year inferred) */
static bool
parse_syslog(struct tparse *t, struct logpat_clock *clk, int64_t *time_ms_r)
{
	int mon, d, h, mi, s, ms;
	int64_t y, tm_s;

	if (!tp_month(t, &mon) || !tp_char(t, ' '))
		return false;
	(void)tp_char(t, ' ');
	if (!tp_digits12(t, &d) || !tp_char(t, ' ') ||
	    !tp_hms(t, &h, &mi, &s, &ms))
		return false;
	y = ref_year(clk);
	if (!valid_date((int)y, mon, d) && !valid_date((int)y - 1, mon, d))
		return false;
	tm_s = valid_date((int)y, mon, d) ?
	    local_to_unix(clk, (int)y, mon, d, h, mi, s) : INT64_MAX;
	if (tm_s > clk->ref_s + 86400) {
		y--;
		if (!valid_date((int)y, mon, d))
			return false;
		tm_s = local_to_unix(clk, (int)y, mon, d, h, mi, s);
	}
	*time_ms_r = tm_s * 1000 + ms;
	return true;
}

/* "Sat Dec 28 19:03:53 2013" (ctime) */
static bool
parse_ctime(struct tparse *t, struct logpat_clock *clk, int64_t *time_ms_r)
{
	int mon, d, h, mi, s, ms, y;

	if (t->len - t->pos < 4 || t->p[t->pos + 3] != ' ')
		return false;
	t->pos += 4;
	if (!tp_month(t, &mon) || !tp_char(t, ' '))
		return false;
	(void)tp_char(t, ' ');
	if (!tp_digits12(t, &d) || !tp_char(t, ' ') ||
	    !tp_hms(t, &h, &mi, &s, &ms) || !tp_char(t, ' ') ||
	    !tp_digits(t, 4, &y))
		return false;
	return finish(clk, t, y, mon, d, h, mi, s, ms, false, time_ms_r);
}

/* "YYYY-MM-DD[ T]hh:mm:ss[.frac][zone]" */
static bool
parse_iso(struct tparse *t, struct logpat_clock *clk, int64_t *time_ms_r)
{
	int y, mon, d, h, mi, s, ms;

	if (!tp_digits(t, 4, &y) || !tp_char(t, '-') || !tp_digits(t, 2, &mon) ||
	    !tp_char(t, '-') || !tp_digits(t, 2, &d))
		return false;
	if (!tp_char(t, 'T') && !tp_char(t, ' '))
		return false;
	if (!tp_hms(t, &h, &mi, &s, &ms))
		return false;
	return finish(clk, t, y, mon, d, h, mi, s, ms, true, time_ms_r);
}

/* "MM/DD/YYYY hh:mm:ss" (SquirrelMail) or "DD-MM-YYYY hh:mm:ss" (Domino) */
static bool
parse_numeric_date(struct tparse *t, struct logpat_clock *clk,
    int64_t *time_ms_r)
{
	int a, b, y, h, mi, s, ms, mon, d;
	char sep;

	if (!tp_digits(t, 2, &a) || t->pos >= t->len)
		return false;
	sep = t->p[t->pos];
	if (sep != '/' && sep != '-')
		return false;
	t->pos++;
	if (!tp_digits(t, 2, &b) || !tp_char(t, sep) || !tp_digits(t, 4, &y) ||
	    !tp_char(t, ' '))
		return false;
	while (tp_char(t, ' '))
		;
	if (!tp_hms(t, &h, &mi, &s, &ms))
		return false;
	mon = sep == '/' ? a : b;
	d = sep == '/' ? b : a;
	return finish(clk, t, y, mon, d, h, mi, s, ms, false, time_ms_r);
}

/* "[22-Jan-2013 22:28:21 +0200]" (Roundcube), "[17/Jun/2011 17:00:45]" */
static bool
parse_bracket_dmy(struct tparse *t, struct logpat_clock *clk,
    int64_t *time_ms_r)
{
	int d, mon, y, h, mi, s, ms;
	char sep;

	if (!tp_digits12(t, &d) || t->pos >= t->len)
		return false;
	sep = t->p[t->pos];
	if (sep != '-' && sep != '/')
		return false;
	t->pos++;
	if (!tp_month(t, &mon) || !tp_char(t, sep) || !tp_digits(t, 4, &y))
		return false;
	if (!tp_char(t, ' ') && !tp_char(t, ':'))
		return false;
	if (!tp_hms(t, &h, &mi, &s, &ms))
		return false;
	return finish(clk, t, y, mon, d, h, mi, s, ms, true, time_ms_r);
}

/* "@4000000050f4e5e6xxxxxxxx": TAI64N label, read as 2^62 + unix
   seconds (the 10 s TAI offset is ignored, as daemontools' tai64nlocal
   users and fail2ban do). */
static bool
parse_tai64n(struct tparse *t, int64_t *time_ms_r)
{
	uint64_t secs = 0, nsec = 0;

	if (t->len - t->pos < 25)
		return false;
	for (size_t i = 1; i <= 24; i++) {
		char c = t->p[t->pos + i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return false;
		if (i <= 16)
			secs = secs << 4 | v;
		else
			nsec = nsec << 4 | v;
	}
	if (secs < (1ull << 62) || secs - (1ull << 62) > 253402300799ull ||
	    nsec > 999999999)
		return false;
	*time_ms_r = (int64_t)(secs - (1ull << 62)) * 1000 +
	    (int64_t)(nsec / 1000000);
	return true;
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool
logpat_time_parse(struct mw_slice line, struct logpat_clock *clk,
    int64_t *time_ms_r)
{
	struct tparse t = { line.ptr, line.len, 0 };
	char c;

	if (line.len == 0)
		return false;
	c = line.ptr[0];
	if (c == '@')
		return parse_tai64n(&t, time_ms_r);
	if (c == '[') {
		size_t close;

		t.pos = 1;
		if (parse_iso(&t, clk, time_ms_r))
			return true;
		t.pos = 1;
		if (parse_bracket_dmy(&t, clk, time_ms_r))
			return true;
		/* "[pid:thread] DD-MM-YYYY ..." (Domino): one bracket skipped */
		for (close = 1; close < line.len && close < 64; close++)
			if (line.ptr[close] == ']')
				break;
		if (close + 2 >= line.len || close >= 64 ||
		    line.ptr[close + 1] != ' ')
			return false;
		return logpat_time_parse((struct mw_slice){ line.ptr + close + 2,
		    line.len - close - 2 }, clk, time_ms_r);
	}
	if (c >= '0' && c <= '9') {
		if (parse_iso(&t, clk, time_ms_r))
			return true;
		t.pos = 0;
		return parse_numeric_date(&t, clk, time_ms_r);
	}
	if (is_alpha(c)) {
		if (parse_syslog(&t, clk, time_ms_r))
			return true;
		t.pos = 0;
		return parse_ctime(&t, clk, time_ms_r);
	}
	return false;
}
