/*
 * fuzz_listen_admin - the admin API's request validation (admin_parse.c):
 * the first byte picks the parser (ban body, list body, empty body, bans,
 * check/delete, events, alerts and accounts query strings, account and
 * alert-ack paths), the rest is the input. Any bytes
 * must give 0 with a sane result or -1 with an error text; never a crash,
 * leak or hang. An accepted ban body, written back as JSON, must parse to
 * the same request (the CLI and dashboard send what the API printed).
 * Seeds (corpus/admin/) start with the selector: first byte % 11 = 0 ban
 * body ('!'), 1 list body ('"'), 2 empty body ('#'), 3 bans query ('$'),
 * 4 address query ('%'), 5 network query ('&'), 6 events query ('\''),
 * 7 alerts query ('('), 8 accounts query (')'), 9 account path ('*'),
 * 10 alert-ack path ('+').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/slice.h"
#include "listen/admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_text(const char *s)
{
	if (s == NULL || strlen(s) > ADMIN_MAX_TEXT ||
	    !mw_slice_is_printable(mw_slice_from_cstr(s)))
		abort();
}

static bool
fuzz_same_net(const struct mw_cidr *x, const struct mw_cidr *y)
{
	return x->bits == y->bits && mw_addr_cmp(&x->addr, &y->addr) == 0;
}

static void
fuzz_ban_roundtrip(const struct admin_ban_req *r, struct mw_arena *a)
{
	struct admin_ban_req	 again;
	const char		*error = NULL;
	char			 net[MW_CIDR_STRLEN], *text;
	json_t			*o;

	o = json_pack("{s:s, s:s}", "address", mw_cidr_format(&r->net, net,
	    sizeof(net)), "reason", r->reason);
	if (o == NULL)
		abort();	/* what was accepted is valid UTF-8 */
	if (r->has_duration)
		json_object_set_new(o, "duration", r->duration == 0 ?
		    json_string("permanent") :
		    json_integer((json_int_t)r->duration));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		abort();
	if (admin_parse_ban_body(text, strlen(text), a, &again, &error) < 0 ||
	    !fuzz_same_net(&r->net, &again.net) ||
	    again.has_duration != r->has_duration ||
	    again.duration != r->duration || strcmp(again.reason, r->reason) != 0)
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_arena		*a;
	const char		*error = NULL;
	char			*text;
	int			 ret;

	if (size < 1 || size > ADMIN_MAX_BODY + 1)
		return 0;
	a = mw_arena_new(4096);
	/* Query strings are C strings in evhttp: cut at the first NUL. */
	text = mw_arena_strndup(a, (const char *)data + 1, size - 1);
	switch (data[0] % 11) {
	case 0: {
		struct admin_ban_req r;

		ret = admin_parse_ban_body((const char *)data + 1, size - 1, a,
		    &r, &error);
		if (ret == 0) {
			fuzz_check_text(r.reason);
			if (r.duration > ADMIN_MAX_BAN_SECS)
				abort();
			fuzz_ban_roundtrip(&r, a);
		}
		break;
	}
	case 1: {
		struct admin_list_req r;

		ret = admin_parse_list_body((const char *)data + 1, size - 1, a,
		    &r, &error);
		if (ret == 0)
			fuzz_check_text(r.comment);
		break;
	}
	case 2:
		ret = admin_parse_empty_body((const char *)data + 1, size - 1, a,
		    &error);
		break;
	case 3: {
		struct admin_bans_query q;

		ret = admin_parse_bans_query(text, a, &q, &error);
		if (ret == 0 && (q.limit < 1 || q.limit > ADMIN_BANS_LIMIT_MAX))
			abort();
		break;
	}
	case 4:
	case 5: {
		struct mw_cidr net;

		ret = admin_parse_net_query(text, data[0] % 11 == 4 ? "address" :
		    "network", data[0] % 11 == 4, a, &net, &error);
		if (ret == 0 && data[0] % 11 == 4 && net.bits != 128)
			abort();
		break;
	}
	case 6: {
		struct store_event_query q;

		ret = admin_parse_events_query(text, a, &q, &error);
		if (ret == 0 && (q.limit < 1 || q.limit > ADMIN_EVENTS_LIMIT_MAX ||
		    (q.until_ms != 0 && q.since_ms > q.until_ms)))
			abort();
		break;
	}
	case 7: {
		struct store_alert_query q;

		ret = admin_parse_alerts_query(text, a, &q, &error);
		if (ret == 0 && (q.limit < 1 || q.limit > ADMIN_LOGIN_LIMIT_MAX))
			abort();
		break;
	}
	case 8: {
		size_t limit;

		ret = admin_parse_accounts_query(text, a, &limit, &error);
		if (ret == 0 && (limit < 1 || limit > ADMIN_LOGIN_LIMIT_MAX))
			abort();
		break;
	}
	case 9: {
		const char *account;

		ret = admin_parse_account_path(text, a, &account, &error);
		if (ret == 0 && (account[0] == '\0' ||
		    strlen(account) > ADMIN_ACCOUNT_MAX ||
		    !mw_slice_is_printable(mw_slice_from_cstr(account))))
			abort();
		break;
	}
	default: {
		int64_t id;

		ret = admin_parse_alert_ack_path(text, a, &id, &error);
		if (ret == 0 && id < 1)
			abort();
		break;
	}
	}
	if (ret < 0 && (error == NULL || error[0] == '\0'))
		abort();	/* a refusal must say why */
	if (ret != 0 && ret != -1)
		abort();
	mw_arena_free(&a);
	return 0;
}
