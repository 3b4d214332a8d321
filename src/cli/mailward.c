/*
 * mailward - the command-line client of mailwardd: global flags, verb
 * dispatch and the argument parser every verb uses.
 *
 * Everything but `config check` talks to the daemon's admin API over its
 * unix socket (client.c); arguments are validated here first, so a typo
 * never reaches the daemon and fails the same way whether it runs or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"

static const char mailward_help[] =
"usage: mailward [-c FILE] [--socket PATH] [--json] COMMAND [ARGS...]\n"
"\n"
"Control mailwardd, the mail server guard, through its admin socket.\n"
"\n"
"commands:\n"
"  status                          daemon version, uptime and counters\n"
"  ban list [--source S]           active bans\n"
"  ban add ADDR [--for DURATION|--permanent] [--reason TEXT]\n"
"  ban del ADDR                    lift a ban\n"
"  allow add CIDR [--comment TEXT] | allow del CIDR | allow list\n"
"  deny add CIDR [--comment TEXT]  | deny del CIDR  | deny list\n"
"  check ADDR                      explain the verdict for ADDR, step by step\n"
"  account ACCOUNT                 an account's failed logins, networks, alerts\n"
"  accounts                        accounts with failed logins now\n"
"  alerts [--all] | alerts ack ID  possible account takeovers\n"
"  events [--since T] [--until T] [--address ADDR] [--limit N]\n"
"  config check [FILE]             validate a configuration file (no daemon)\n"
"  reload                          re-read the configuration (as SIGHUP)\n"
"  logscan FILE... [--since T]     scan mail logs offline: failures and the\n"
"                                  bans the login guard would make (no daemon)\n"
"  admin add|passwd NAME           a dashboard admin; password asked twice\n"
"  admin list | admin del NAME     (or --password-stdin)\n"
"\n"
"options:\n"
"  -c, --config FILE   configuration file to find the admin socket in\n"
"                      (default $MAILWARD_CONF, else " CLI_DEFAULT_CONFIG ")\n"
"  --socket PATH       admin socket (overrides the configuration file)\n"
"  --json              print the API's JSON instead of tables\n"
"  -h, --help          this help; COMMAND --help explains a command\n"
"  -V, --version       print the version\n"
"\n"
"exit status: 0 ok, 1 refused by mailwardd, 64 usage error, 69 mailwardd\n"
"not reachable, 78 configuration errors.\n"
"\n"
"example:\n"
"  mailward ban add 203.0.113.9 --for 1h --reason \"password spraying\"\n"
"  mailward check 203.0.113.9\n";

static const char mailward_usage[] =
    "mailward [-c FILE] [--socket PATH] [--json] COMMAND [ARGS...]";

static int
cli_run(struct cli *c, int argc, char **argv)
{
	const char *verb = argv[0];

	if (strcmp(verb, "status") == 0)
		return cmd_status(c, argc, argv);
	if (strcmp(verb, "ban") == 0 || strcmp(verb, "bans") == 0)
		return cmd_ban(c, argc, argv);
	if (strcmp(verb, "allow") == 0 || strcmp(verb, "deny") == 0)
		return cmd_list(c, argc, argv);
	if (strcmp(verb, "check") == 0 || strcmp(verb, "explain") == 0)
		return cmd_check(c, argc, argv);
	if (strcmp(verb, "events") == 0)
		return cmd_events(c, argc, argv);
	if (strcmp(verb, "config") == 0)
		return cmd_config(c, argc, argv);
	if (strcmp(verb, "reload") == 0)
		return cmd_reload(c, argc, argv);
	if (strcmp(verb, "account") == 0)
		return cmd_account(c, argc, argv);
	if (strcmp(verb, "accounts") == 0)
		return cmd_accounts(c, argc, argv);
	if (strcmp(verb, "alerts") == 0)
		return cmd_alerts(c, argc, argv);
	if (strcmp(verb, "logscan") == 0)
		return cmd_logscan(c, argc, argv);
	if (strcmp(verb, "admin") == 0 || strcmp(verb, "admins") == 0)
		return cmd_admin(c, argc, argv);
	if (strcmp(verb, "help") == 0)
		return cli_help(mailward_help);
	return cli_usage_error(mailward_usage, "unknown command \"%s\" (see "
	    "mailward --help)", verb);
}

int
main(int argc, char **argv)
{
	struct cli	 c = { .config_path = CLI_DEFAULT_CONFIG };
	const char	*env = getenv("MAILWARD_CONF");
	int		 i, rc;

	if (env != NULL && env[0] != '\0') {
		c.config_path = env;
		c.config_given = true;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return cli_help(mailward_help);
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			printf("mailward %s\n", MW_VERSION);
			return CLI_EXIT_OK;
		}
		if (strcmp(arg, "--json") == 0) {
			c.json = true;
		} else if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0 ||
		    strcmp(arg, "--socket") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error(mailward_usage, "%s needs "
				    "a value", arg);
			if (strcmp(arg, "--socket") == 0) {
				c.socket = argv[++i];
			} else {
				c.config_path = argv[++i];
				c.config_given = true;
			}
		} else if (strncmp(arg, "--config=", 9) == 0) {
			c.config_path = arg + 9;
			c.config_given = true;
		} else if (strncmp(arg, "-c", 2) == 0) {
			c.config_path = arg + 2;
			c.config_given = true;
		} else if (strncmp(arg, "--socket=", 9) == 0) {
			c.socket = arg + 9;
		} else {
			return cli_usage_error(mailward_usage, "unknown option "
			    "\"%s\" (see mailward --help)", arg);
		}
	}
	if (c.socket != NULL && c.socket[0] == '\0')
		return cli_usage_error(mailward_usage, "--socket is empty");
	if (i == argc)
		return cli_usage_error(mailward_usage, "missing COMMAND (see "
		    "mailward --help)");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_error("cannot initialize libcurl");
		return CLI_EXIT_FAIL;
	}
	rc = cli_run(&c, argc - i, argv + i);
	curl_global_cleanup();
	free(c.socket_owned);
	free(c.config_note);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write the output");
		return rc != 0 ? rc : CLI_EXIT_FAIL;
	}
	return rc;
}
