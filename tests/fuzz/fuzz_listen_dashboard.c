/*
 * fuzz_listen_dashboard - the dashboard's pure input checks
 * (dashboard_parse.c): the first byte picks the parser, the rest is the
 * input. Never a crash, leak or hang; and what a check accepts must keep
 * its promise, or the target aborts:
 *   - a static path maps to a name relative to web_root that has no empty
 *     segment, no segment starting with '.', and only name characters
 *     (so it cannot leave web_root whatever the input spelled);
 *   - a cookie value is printable; a session id is 32 bytes that print
 *     back to the same 64 hex digits;
 *   - an accepted Origin is exactly scheme + Host;
 *   - accepted bodies and queries hold values within their limits.
 * Seeds (corpus/dashboard/) start with the selector: first byte % 9 =
 * 0 path ('$'), 1 Cookie ('%'), 2 session id ('&'), 3 Origin NL Host
 * ('\''), 4 login body ('('), 5 admin body (')'), 6 stats query ('*'),
 * 7 audit query ('+'), 8 stream query (',').
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/slice.h"
#include "listen/dashboard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_rel(const char *rel)
{
	size_t	 len = strlen(rel);
	bool	 seg_start = true;

	if (len == 0 || len > DASHBOARD_MAX_PATH + 10 || rel[0] == '/')
		abort();
	for (size_t i = 0; i < len; i++) {
		char c = rel[i];

		if (c == '/') {
			if (seg_start)
				abort();	/* empty segment */
			seg_start = true;
			continue;
		}
		if (seg_start && c == '.')
			abort();	/* ".", "..", hidden */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || c == '+' || c == '@'))
			abort();
		seg_start = false;
	}
	if (seg_start || strstr(rel, "..") == rel)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_arena	*a;
	const char	*error = NULL, *in;
	size_t		 len;

	if (size < 1 || size > 70000)
		return 0;
	a = mw_arena_new(4096);
	in = (const char *)data + 1;
	len = size - 1;
	switch (data[0] % 9) {
	case 0: {
		const char *rel = NULL;

		if (dashboard_path_normalize(in, len, a, &rel, &error) == 0)
			fuzz_check_rel(rel);
		else if (error == NULL)
			abort();
		break;
	}
	case 1: {
		const char *v = NULL;
		char *hdr = mw_arena_strndup(a, in, len);

		if (dashboard_cookie_get(hdr, DASHBOARD_COOKIE, a, &v) == 1 &&
		    (v == NULL || !mw_slice_is_printable(mw_slice_from_cstr(v))))
			abort();
		break;
	}
	case 2: {
		uint8_t id[DASHBOARD_SESSION_ID_LEN];
		char hex[2 * DASHBOARD_SESSION_ID_LEN + 1];
		char *text = mw_arena_strndup(a, in, len);

		if (dashboard_session_id_parse(text, id) == 0) {
			for (size_t i = 0; i < sizeof(id); i++)
				(void)snprintf(&hex[2 * i], 3, "%02x", id[i]);
			if (strcmp(hex, text) != 0)
				abort();
		}
		break;
	}
	case 3: {
		char *text = mw_arena_strndup(a, in, len), *nl;
		const char *host = "127.0.0.1:10048";

		if ((nl = strchr(text, '\n')) != NULL) {
			*nl = '\0';
			host = nl + 1;
		}
		if (dashboard_origin_ok(text, host, false)) {
			char want[600];

			(void)snprintf(want, sizeof(want), "http://%s", host);
			if (strcmp(text, want) != 0)
				abort();
		}
		break;
	}
	case 4: {
		struct dashboard_login_req r;

		if (dashboard_parse_login(in, len, a, &r, &error) == 0 &&
		    (!dashboard_admin_name_ok(r.name) || r.password_len == 0 ||
		    r.password_len > 1024))
			abort();
		break;
	}
	case 5: {
		struct dashboard_admin_req r;
		const char *lang;

		if (dashboard_parse_admin(in, len, a, &r, &error) == 0 &&
		    (!dashboard_admin_name_ok(r.name) || r.password_len < 10 ||
		    r.password_len > 1024))
			abort();
		if (dashboard_parse_language(in, len, a, &lang, &error) == 0 &&
		    strcmp(lang, "ja") != 0 && strcmp(lang, "en") != 0 &&
		    lang[0] != '\0')
			abort();
		break;
	}
	case 6: {
		struct dashboard_stats_query q;
		char *text = mw_arena_strndup(a, in, len);

		if (dashboard_parse_stats_query(text, a, &q, &error) == 0 &&
		    (q.top < 1 || q.top > 100 || q.bucket_ms <= 0 ||
		    q.span_ms / q.bucket_ms > 168))
			abort();
		break;
	}
	case 7: {
		struct store_audit_query q;
		char *text = mw_arena_strndup(a, in, len);

		if (dashboard_parse_audit_query(text, a, &q, &error) == 0 &&
		    (q.limit < 1 || q.limit > 10000 || (q.until_ms != 0 &&
		    q.since_ms > q.until_ms)))
			abort();
		break;
	}
	default: {
		struct dashboard_stream_filter f;
		struct store_event ev = { .listener = "policy",
		    .verdict = "REJECT" };
		char *text = mw_arena_strndup(a, in, len);

		if (dashboard_parse_stream_query(text, a, &f, &error) == 0)
			(void)dashboard_stream_match(&f, &ev);
		break;
	}
	}
	mw_arena_free(&a);
	return 0;
}
