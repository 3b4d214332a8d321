/*
 * fuzz_sources_logline - mail log bytes through the log patterns: the
 * buffer prefilter cuts candidate lines as `mailward logscan` does, each
 * line is matched, and every timestamp reader runs on the input. Any
 * bytes must give a match whose address and slices lie inside the line,
 * or none; never a crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sources/logpat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct logpat *lp;
static struct logpat_dedup *dedup;

static void
check_inside(struct mw_slice line, struct mw_slice s)
{
	if (s.len > 0 && (s.ptr < line.ptr || s.ptr + s.len > line.ptr + line.len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct logpat_clock clk = { .ref_s = 1795435200 };
	struct logpat_match m;
	const char *error;
	int64_t ms;
	size_t pos = 0;

	if (lp == NULL) {
		setenv("TZ", "UTC", 1);
		if (logpat_new(LOGPAT_SET_ALL, &lp, &error) < 0)
			abort();
		dedup = logpat_dedup_new(64);
	}
	(void)logpat_time_parse((struct mw_slice){ buf, size }, &clk, &ms);
	while (pos < size) {
		size_t c = logpat_next_candidate(lp, buf, size, pos), start, end;
		const char *nl;

		if (c >= size)
			break;
		if (c < pos)
			abort();
		start = c;
		while (start > pos && buf[start - 1] != '\n')
			start--;
		nl = memchr(buf + c, '\n', size - c);
		end = nl != NULL ? (size_t)(nl - buf) : size;
		struct mw_slice line = { buf + start, end - start };
		if (logpat_match(lp, line, &clk, &m)) {
			check_inside(line, m.account);
			check_inside(line, m.session);
			if (m.rule == NULL || m.service == NULL || m.attempts == 0)
				abort();
			(void)logpat_dedup_attempts(dedup, &m);
		}
		pos = end + 1;
	}
	/* the whole input as one line, as logwatch hands it over */
	if (logpat_match(lp, (struct mw_slice){ buf, size }, &clk, &m))
		check_inside((struct mw_slice){ buf, size }, m.account);
	return 0;
}
