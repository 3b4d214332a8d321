/*
 * cmd_list - `mailward allow|deny add|del|list`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char list_help[] =
"usage: mailward allow|deny list [--json]\n"
"       mailward allow|deny add CIDR [--comment TEXT]\n"
"       mailward allow|deny del CIDR\n"
"\n"
"The allow list wins over everything (deny list, bans, DNSBLs); the deny\n"
"list refuses its clients and never fails open. CIDR is an address or a\n"
"network with its host bits clear (192.0.2.0/24, 2001:db8::/48). Entries\n"
"added here are stored by mailwardd; entries written in mailward.conf\n"
"(origin config) are changed in the file, followed by mailward reload.\n"
"\n"
"options:\n"
"  --comment TEXT   a note shown in the list (who, why)\n"
"  --json           print the API's JSON\n"
"\n"
"examples:\n"
"  mailward allow add 192.0.2.0/24 --comment \"office\"\n"
"  mailward deny add 198.51.100.0/24 --comment \"ticket 4711\"\n"
"  mailward deny list\n";

static int
list_show(struct cli *c, const char *list, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos, i;
	char		 path[64], usage[64], created[32];
	json_t		*reply, *entries, *e;
	struct table	*t;
	int		 rc;
	static const char *const headers[] = { "NETWORK", "ORIGIN", "CREATED",
	    "COMMENT" };

	snprintf(usage, sizeof(usage), "mailward %s list [--json]", list);
	switch (cli_parse_args(c, usage, argc, argv, NULL, 0, pos, 0, 0,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(list_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	snprintf(path, sizeof(path), "/api/v1/lists/%s", list);
	if ((rc = cli_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	entries = json_object_get(reply, "entries");
	if (json_array_size(entries) == 0) {
		printf("the %s list is empty\n", list);
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	t = table_new(MW_N_ELEMENTS(headers), headers);
	json_array_foreach(entries, i, e) {
		const char *cells[] = { jstr(e, "network"), jstr(e, "origin"),
		    time_local(jint(e, "created"), created, sizeof(created)),
		    jstr(e, "comment") };

		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(&t);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int
list_add(struct cli *c, const char *list, int argc, char **argv)
{
	const char	*comment = NULL, *pos[1];
	struct cli_opt	 opts[] = { { "--comment", true, &comment, NULL } };
	size_t		 npos;
	char		 path[64], usage[80], what[32];
	json_t		*body, *reply, *entry;
	int		 rc;

	snprintf(usage, sizeof(usage), "mailward %s add CIDR [--comment TEXT]",
	    list);
	switch (cli_parse_args(c, usage, argc, argv, opts, MW_N_ELEMENTS(opts),
	    pos, 1, 1, &npos)) {
	case CLI_PARSE_HELP: return cli_help(list_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	snprintf(what, sizeof(what), "%s add", list);
	if ((rc = cli_check_net(what, pos[0], false)) != 0)
		return rc;
	if (comment != NULL && (rc = cli_check_text("--comment", comment)) != 0)
		return rc;
	body = json_pack("{s:s}", "network", pos[0]);
	if (comment != NULL)
		json_object_set_new(body, "comment", json_string(comment));
	snprintf(path, sizeof(path), "/api/v1/lists/%s", list);
	rc = cli_call(c, "POST", path, body, &reply);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
	} else {
		entry = json_object_get(reply, "entry");
		printf("added %s to the %s list%s%s\n", jstr(entry, "network"),
		    list, jstr(entry, "comment")[0] != '\0' ? ": " : "",
		    jstr(entry, "comment"));
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int
list_del(struct cli *c, const char *list, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	char		 usage[64], what[32], *esc, *path;
	json_t		*reply;
	int		 rc;

	snprintf(usage, sizeof(usage), "mailward %s del CIDR", list);
	switch (cli_parse_args(c, usage, argc, argv, NULL, 0, pos, 1, 1,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(list_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	snprintf(what, sizeof(what), "%s del", list);
	if ((rc = cli_check_net(what, pos[0], false)) != 0)
		return rc;
	esc = cli_escape(pos[0]);
	path = mw_malloc(strlen(esc) + 64);
	sprintf(path, "/api/v1/lists/%s?network=%s", list, esc);
	rc = cli_call(c, "DELETE", path, NULL, &reply);
	free(esc);
	free(path);
	if (rc != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		printf("removed %s from the %s list\n", jstr(reply, "deleted"),
		    list);
	json_decref(reply);
	return CLI_EXIT_OK;
}

int
cmd_list(struct cli *c, int argc, char **argv)
{
	const char	*list = strcmp(argv[0], "allow") == 0 ? "allow" : "deny";
	const char	*sub = argc > 1 ? argv[1] : NULL;
	char		 usage[80];

	snprintf(usage, sizeof(usage), "mailward %s list|add|del ... (see "
	    "mailward %s --help)", list, list);
	if (sub == NULL)
		return cli_usage_error(usage, "%s: missing list, add or del", list);
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 ||
	    strcmp(sub, "help") == 0)
		return cli_help(list_help);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return list_show(c, list, argc - 1, argv + 1);
	if (strcmp(sub, "add") == 0)
		return list_add(c, list, argc - 1, argv + 1);
	if (strcmp(sub, "del") == 0 || strcmp(sub, "delete") == 0 ||
	    strcmp(sub, "rm") == 0)
		return list_del(c, list, argc - 1, argv + 1);
	if (strcmp(sub, "--json") == 0) {
		c->json = true;
		argv[1] = argv[0];
		return cmd_list(c, argc - 1, argv + 1);
	}
	return cli_usage_error(usage, "%s: unknown subcommand \"%s\"", list, sub);
}
