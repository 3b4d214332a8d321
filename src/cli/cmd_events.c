/*
 * cmd_events - `mailward events`: the decision and admin history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/slice.h"

#define EVENTS_LIMIT_MAX	10000	/* as the daemon */

static const char events_help[] =
"usage: mailward events [--since TIME] [--until TIME] [--address ADDR]\n"
"                       [--limit N] [--json]\n"
"\n"
"Shows recorded events, newest first: verdicts given to clients (REJECT,\n"
"DEFER, ...) and admin changes (BAN, UNBAN, ALLOW_ADD, DENY_DEL, ...).\n"
"\n"
"options:\n"
"  --since TIME     only events at or after TIME: a duration ago (2h, 7d),\n"
"                   unix seconds (1763900000), or local time\n"
"                   YYYY-MM-DD[THH:MM[:SS]] (a space may replace the T)\n"
"  --until TIME     only events at or before TIME (same forms)\n"
"  --address ADDR   only events of this client address\n"
"  --limit N        at most N events (1-10000, default 100)\n"
"  --json           print the API's JSON (GET /api/v1/events)\n"
"\n"
"example:\n"
"  mailward events --since 1h --address 203.0.113.9\n";

static const char usage_events[] = "mailward events [--since TIME] "
    "[--until TIME] [--address ADDR] [--limit N] [--json]";

static void
events_detail(json_t *ev, char *buf, size_t size)
{
	static const char *const keys[] = { "account", "sender", "recipient" };
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < MW_N_ELEMENTS(keys); i++) {
		const char *v = jstr(ev, keys[i]);
		int n;

		if (v[0] == '\0' || used >= size)
			continue;
		n = snprintf(buf + used, size - used, "%s%s=%s",
		    used > 0 ? " " : "", keys[i], v);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int
cmd_events(struct cli *c, int argc, char **argv)
{
	const char	*since = NULL, *until = NULL, *addr = NULL,
			*limit = NULL, *pos[1];
	struct cli_opt	 opts[] = {
		{ "--since", true, &since, NULL },
		{ "--until", true, &until, NULL },
		{ "--address", true, &addr, NULL },
		{ "--limit", true, &limit, NULL },
	};
	static const char *const headers[] = { "TIME", "ADDRESS", "LISTENER",
	    "VERDICT", "REASON", "DETAIL" };
	int64_t		 now = (int64_t)time(NULL), t_since = 0, t_until = 0;
	uint64_t	 n;
	size_t		 npos, i;
	char		 path[256], when[32], detail[1024], *esc;
	json_t		*reply, *events, *ev;
	struct table	*t;
	int		 rc;

	switch (cli_parse_args(c, usage_events, argc, argv, opts,
	    MW_N_ELEMENTS(opts), pos, 0, 0, &npos)) {
	case CLI_PARSE_HELP: return cli_help(events_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (since != NULL && time_arg_parse(since, now, &t_since) < 0)
		return cli_usage_error(usage_events, "--since: \"%s\" is not a "
		    "time (use 2h, 7d, unix seconds, or 2026-11-23T10:15)", since);
	if (until != NULL && time_arg_parse(until, now, &t_until) < 0)
		return cli_usage_error(usage_events, "--until: \"%s\" is not a "
		    "time (use 2h, 7d, unix seconds, or 2026-11-23T10:15)", until);
	if (since != NULL && until != NULL && t_since > t_until)
		return cli_usage_error(usage_events, "--until is before --since");
	if (addr != NULL && (rc = cli_check_net("--address", addr, true)) != 0)
		return rc;
	if (limit != NULL && mw_parse_u64(limit, EVENTS_LIMIT_MAX, &n) < 0)
		return cli_usage_error(usage_events, "--limit: \"%s\" is not a "
		    "number from 1 to %d", limit, EVENTS_LIMIT_MAX);
	if (limit != NULL && n == 0)
		return cli_usage_error(usage_events, "--limit must be at least 1");

	snprintf(path, sizeof(path), "/api/v1/events?limit=%s",
	    limit != NULL ? limit : "100");
	if (since != NULL)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&since=%lld", (long long)t_since);
	if (until != NULL)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&until=%lld", (long long)t_until);
	if (addr != NULL) {
		esc = cli_escape(addr);
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&address=%s", esc);
		free(esc);
	}
	if ((rc = cli_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	events = json_object_get(reply, "events");
	if (json_array_size(events) == 0) {
		printf("no events\n");
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	t = table_new(MW_N_ELEMENTS(headers), headers);
	json_array_foreach(events, i, ev) {
		const char *cells[MW_N_ELEMENTS(headers)];

		events_detail(ev, detail, sizeof(detail));
		cells[0] = time_local(jint(ev, "time_ms") / 1000, when,
		    sizeof(when));
		cells[1] = jstr(ev, "address");
		cells[2] = jstr(ev, "listener");
		cells[3] = jstr(ev, "verdict");
		cells[4] = jstr(ev, "reason");
		cells[5] = detail;
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(&t);
	json_decref(reply);
	return CLI_EXIT_OK;
}
