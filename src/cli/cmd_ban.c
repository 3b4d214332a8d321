/*
 * cmd_ban - `mailward ban list|add|del`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/slice.h"

#define BAN_MAX_SECS	(3650ULL * 86400)	/* as the daemon: 10 years */

static const char ban_help[] =
"usage: mailward ban list [--source SOURCE] [--json]\n"
"       mailward ban add ADDR [--for DURATION | --permanent] [--reason TEXT]\n"
"       mailward ban del ADDR\n"
"\n"
"Lists, adds and lifts bans. A banned client is refused by every listener\n"
"until the ban expires. ADDR is an address or a network (203.0.113.9,\n"
"198.51.100.0/24, 2001:db8::/48); a network must have its host bits clear.\n"
"\n"
"options:\n"
"  --source SOURCE   list only bans from manual, dnsbl, login or logwatch\n"
"  --for DURATION    ban length: 90s, 15m, 2h, 7d, 1w, 1h30m, or permanent\n"
"                    (default: [lists] default_ban of mailward.conf)\n"
"  --permanent       a ban that never expires (same as --for permanent)\n"
"  --reason TEXT     why (shown in ban list and logs; default \"manual\")\n"
"  --json            print the API's JSON\n"
"\n"
"examples:\n"
"  mailward ban add 203.0.113.9 --for 1h --reason \"password spraying\"\n"
"  mailward ban list --source manual\n"
"  mailward ban del 203.0.113.9\n";

static const char usage_list[] = "mailward ban list [--source SOURCE] [--json]";
static const char usage_add[] =
    "mailward ban add ADDR [--for DURATION | --permanent] [--reason TEXT]";
static const char usage_del[] = "mailward ban del ADDR";
static const char usage_ban[] = "mailward ban list|add|del ... (see "
    "mailward ban --help)";

static int
ban_list(struct cli *c, int argc, char **argv)
{
	const char	*source = NULL, *pos[1];
	struct cli_opt	 opts[] = { { "--source", true, &source, NULL } };
	size_t		 npos, i;
	char		 path[128], first[32], last[32], exp[32], hits[24], count[24];
	json_t		*reply, *bans, *b;
	struct table	*t;
	int64_t		 now = (int64_t)time(NULL);
	int		 rc;
	bool		 geo = false;
	size_t		 k;
	/* COUNTRY only when a ban has one ([geoip] database is set) */
	static const char *const headers[] = { "ADDRESS", "COUNTRY", "SOURCE",
	    "EXPIRES", "FIRST SEEN", "LAST SEEN", "HITS", "COUNT", "REASON" };

	switch (cli_parse_args(c, usage_list, argc, argv, opts,
	    MW_N_ELEMENTS(opts), pos, 0, 0, &npos)) {
	case CLI_PARSE_HELP: return cli_help(ban_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (source != NULL && strcmp(source, "manual") != 0 &&
	    strcmp(source, "dnsbl") != 0 && strcmp(source, "login") != 0 &&
	    strcmp(source, "logwatch") != 0)
		return cli_usage_error(usage_list, "--source: \"%s\" is not a ban "
		    "source (manual, dnsbl, login or logwatch)", source);
	snprintf(path, sizeof(path), "/api/v1/bans?limit=100000%s%s",
	    source != NULL ? "&source=" : "", source != NULL ? source : "");
	if ((rc = cli_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	bans = json_object_get(reply, "bans");
	if (json_array_size(bans) == 0) {
		printf("no bans%s%s\n", source != NULL ? " from source " : "",
		    source != NULL ? source : "");
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	json_array_foreach(bans, i, b)
		if (json_is_string(json_object_get(b, "country")))
			geo = true;
	if (geo) {
		t = table_new(MW_N_ELEMENTS(headers), headers);
	} else {
		static const char *const plain[] = { "ADDRESS", "SOURCE",
		    "EXPIRES", "FIRST SEEN", "LAST SEEN", "HITS", "COUNT",
		    "REASON" };

		t = table_new(MW_N_ELEMENTS(plain), plain);
	}
	json_array_foreach(bans, i, b) {
		json_t *e = json_object_get(b, "expires");
		const char *cells[MW_N_ELEMENTS(headers)];

		snprintf(hits, sizeof(hits), "%lld", (long long)jint(b, "hits"));
		snprintf(count, sizeof(count), "%lld", (long long)jint(b, "count"));
		k = 0;
		cells[k++] = jstr(b, "address");
		if (geo)
			cells[k++] = jstr(b, "country");
		cells[k++] = jstr(b, "source");
		cells[k++] = expiry_text(json_is_integer(e) ?
		    (int64_t)json_integer_value(e) : 0, now, exp, sizeof(exp));
		cells[k++] = time_local(jint(b, "first_seen"), first,
		    sizeof(first));
		cells[k++] = time_local(jint(b, "last_seen"), last, sizeof(last));
		cells[k++] = hits;
		cells[k++] = count;
		cells[k++] = jstr(b, "reason");
		table_add(t, cells);
	}
	table_print(t, stdout);
	if ((size_t)jint(reply, "total") > table_rows(t))
		printf("(%zu of %lld bans shown)\n", table_rows(t),
		    (long long)jint(reply, "total"));
	table_free(&t);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int
ban_add(struct cli *c, int argc, char **argv)
{
	const char	*dur = NULL, *reason = NULL, *pos[1];
	bool		 permanent = false;
	struct cli_opt	 opts[] = {
		{ "--for", true, &dur, NULL },
		{ "--permanent", false, NULL, &permanent },
		{ "--reason", true, &reason, NULL },
	};
	uint64_t	 secs;
	size_t		 npos;
	json_t		*body, *reply, *ban, *e;
	char		 exp[32], until[32];
	int		 rc;

	switch (cli_parse_args(c, usage_add, argc, argv, opts,
	    MW_N_ELEMENTS(opts), pos, 1, 1, &npos)) {
	case CLI_PARSE_HELP: return cli_help(ban_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if ((rc = cli_check_net("ban add", pos[0], false)) != 0)
		return rc;
	if (permanent && dur != NULL && strcmp(dur, "permanent") != 0)
		return cli_usage_error(usage_add, "give either --for or "
		    "--permanent, not both");
	if (permanent)
		dur = "permanent";
	if (dur != NULL && strcmp(dur, "permanent") != 0 &&
	    (dur[0] == '0' || mw_parse_duration(dur, BAN_MAX_SECS, &secs) < 0 ||
	    secs == 0))
		return cli_usage_error(usage_add, "--for: \"%s\" is not a duration "
		    "(use 90s, 15m, 2h, 7d, 1w, 1h30m, at most 3650d, or "
		    "permanent)", dur);
	if (reason != NULL && (rc = cli_check_text("--reason", reason)) != 0)
		return rc;

	body = json_pack("{s:s}", "address", pos[0]);
	if (dur != NULL)
		json_object_set_new(body, "duration", json_string(dur));
	if (reason != NULL)
		json_object_set_new(body, "reason", json_string(reason));
	rc = cli_call(c, "POST", "/api/v1/bans", body, &reply);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
	} else {
		ban = json_object_get(reply, "ban");
		e = json_object_get(ban, "expires");
		if (json_is_integer(e))
			printf("banned %s for %s (until %s): %s\n",
			    jstr(ban, "address"), duration_short(
			    (int64_t)json_integer_value(e) - (int64_t)time(NULL),
			    exp, sizeof(exp)), time_local((int64_t)
			    json_integer_value(e), until, sizeof(until)),
			    jstr(ban, "reason"));
		else
			printf("banned %s permanently: %s\n", jstr(ban, "address"),
			    jstr(ban, "reason"));
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int
ban_del(struct cli *c, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	char		*esc, *path;
	json_t		*reply;
	int		 rc;

	switch (cli_parse_args(c, usage_del, argc, argv, NULL, 0, pos, 1, 1,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(ban_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if ((rc = cli_check_net("ban del", pos[0], false)) != 0)
		return rc;
	esc = cli_escape(pos[0]);
	path = mw_malloc(strlen(esc) + 64);
	sprintf(path, "/api/v1/bans?address=%s", esc);
	rc = cli_call(c, "DELETE", path, NULL, &reply);
	free(esc);
	free(path);
	if (rc != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		printf("unbanned %s\n", jstr(reply, "deleted"));
	json_decref(reply);
	return CLI_EXIT_OK;
}

int
cmd_ban(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return cli_usage_error(usage_ban, "ban: missing list, add or del");
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 ||
	    strcmp(sub, "help") == 0)
		return cli_help(ban_help);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return ban_list(c, argc - 1, argv + 1);
	if (strcmp(sub, "add") == 0)
		return ban_add(c, argc - 1, argv + 1);
	if (strcmp(sub, "del") == 0 || strcmp(sub, "delete") == 0 ||
	    strcmp(sub, "rm") == 0)
		return ban_del(c, argc - 1, argv + 1);
	if (strcmp(sub, "--json") == 0)	/* "mailward ban --json list" */
		return (c->json = true, cmd_ban(c, argc - 1, argv + 1));
	return cli_usage_error(usage_ban, "ban: unknown subcommand \"%s\"", sub);
}
