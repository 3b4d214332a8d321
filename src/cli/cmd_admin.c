/*
 * cmd_admin - `mailward admin add|list|del|passwd`: the dashboard's
 * administrators (POST/GET/DELETE/PUT /api/v1/admins, unix socket only).
 *
 * Passwords are read from the terminal twice with echo off, or once from
 * standard input with --password-stdin (scripts); they travel to the
 * daemon over the admin socket, which hashes them (argon2id) and keeps
 * only the hash. Our copies are wiped after the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define ADMIN_PW_MIN	10	/* bytes; as the daemon */
#define ADMIN_PW_MAX	1024

static const char admin_help[] =
"usage: mailward admin add NAME [--password-stdin]\n"
"       mailward admin passwd NAME [--password-stdin]\n"
"       mailward admin list [--json]\n"
"       mailward admin del NAME\n"
"\n"
"Manages the administrators who may log in to the web dashboard. Only this\n"
"command, on the server, can do it (the dashboard cannot). The password is\n"
"asked twice without echo, or read as one line from standard input with\n"
"--password-stdin; it must be 10 to 1024 bytes. mailwardd stores an argon2id\n"
"hash only. Deleting an admin or setting a new password ends the admin's\n"
"open dashboard sessions.\n"
"\n"
"NAME: 1 to 64 letters, digits, '.', '_', '@' or '-'.\n"
"\n"
"options:\n"
"  --password-stdin   read the password from standard input (one line)\n"
"  --json             print the API's JSON\n"
"\n"
"examples:\n"
"  mailward admin add alice\n"
"  printf '%%s\\n' \"$PW\" | mailward admin add ci-bot --password-stdin\n"
"  mailward admin list\n";

static const char usage_admin[] = "mailward admin add|list|del|passwd ... "
    "(see mailward admin --help)";
static const char usage_add[] = "mailward admin add NAME [--password-stdin]";
static const char usage_passwd[] =
    "mailward admin passwd NAME [--password-stdin]";
static const char usage_list[] = "mailward admin list [--json]";
static const char usage_del[] = "mailward admin del NAME";

static bool
admin_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 64 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '@' || s[i] == '-'))
			return false;
	return true;
}

/* One line from fp into buf (size > ADMIN_PW_MAX + 1), without the line
   end. 0, or -1 (EOF, too long). */
static int
admin_read_line(FILE *fp, char *buf, size_t size)
{
	size_t	 n = 0;
	int	 ch;

	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (n + 1 >= size)
			return -1;
		buf[n++] = (char)ch;
	}
	if (ch == EOF && n == 0)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

/* Prompts on the terminal with echo off. */
static int
admin_prompt(const char *prompt, char *buf, size_t size)
{
	struct termios	 old, quiet;
	FILE		*tty;
	int		 ret;

	if ((tty = fopen("/dev/tty", "r+")) == NULL) {
		cli_error("no terminal to ask the password on: use "
		    "--password-stdin");
		return -1;
	}
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) < 0) {
		cli_error("cannot turn off echo: %s", strerror(errno));
		fclose(tty);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	(void)tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ret = admin_read_line(tty, buf, size);
	(void)tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (ret < 0)
		cli_error("no password given (or longer than %d bytes)",
		    ADMIN_PW_MAX);
	return ret;
}

/* The new password into buf; prints why and returns nonzero on failure. */
static int
admin_get_password(bool from_stdin, char *buf, size_t size)
{
	char	 again[ADMIN_PW_MAX + 2];
	size_t	 len;

	if (from_stdin) {
		if (admin_read_line(stdin, buf, size) < 0) {
			cli_error("--password-stdin: no password on standard "
			    "input (or longer than %d bytes)", ADMIN_PW_MAX);
			return CLI_EXIT_USAGE;
		}
	} else {
		if (admin_prompt("New password: ", buf, size) < 0)
			return CLI_EXIT_USAGE;
		if (admin_prompt("Repeat it: ", again, sizeof(again)) < 0) {
			explicit_bzero(buf, size);
			return CLI_EXIT_USAGE;
		}
		if (strcmp(buf, again) != 0) {
			explicit_bzero(buf, size);
			explicit_bzero(again, sizeof(again));
			cli_error("the passwords differ; nothing changed");
			return CLI_EXIT_USAGE;
		}
		explicit_bzero(again, sizeof(again));
	}
	len = strlen(buf);
	if (len < ADMIN_PW_MIN) {
		explicit_bzero(buf, size);
		cli_error("the password is shorter than %d bytes; nothing "
		    "changed", ADMIN_PW_MIN);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static int
admin_set(struct cli *c, int argc, char **argv, bool create)
{
	const char	*usage = create ? usage_add : usage_passwd, *pos[1];
	bool		 from_stdin = false;
	struct cli_opt	 opts[] = { { "--password-stdin", false, NULL,
	    &from_stdin } };
	char		 pw[ADMIN_PW_MAX + 2];
	size_t		 npos;
	json_t		*body, *reply;
	int		 rc;

	switch (cli_parse_args(c, usage, argc, argv, opts, MW_N_ELEMENTS(opts),
	    pos, 1, 1, &npos)) {
	case CLI_PARSE_HELP: return cli_help(admin_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (!admin_name_ok(pos[0]))
		return cli_usage_error(usage, "\"%s\" is not an admin name (1 to "
		    "64 letters, digits, '.', '_', '@' or '-', starting with a "
		    "letter or digit)", pos[0]);
	if ((rc = admin_get_password(from_stdin, pw, sizeof(pw))) != 0)
		return rc;
	body = json_pack("{s:s, s:s}", "name", pos[0], "password", pw);
	explicit_bzero(pw, sizeof(pw));
	if (body == NULL) {
		cli_error("the password is not valid UTF-8 text");
		return CLI_EXIT_USAGE;
	}
	rc = cli_call(c, create ? "POST" : "PUT", "/api/v1/admins", body,
	    &reply);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else if (create)
		printf("admin %s added: log in to the dashboard with this name\n",
		    pos[0]);
	else
		printf("password of %s changed; the admin's dashboard sessions "
		    "were ended\n", pos[0]);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int
admin_list(struct cli *c, int argc, char **argv)
{
	static const char *const headers[] = { "NAME", "CREATED",
	    "PASSWORD SET", "LANGUAGE" };
	const char	*pos[1];
	size_t		 npos, i;
	json_t		*reply, *admins, *a;
	struct table	*t;
	char		 created[32], updated[32];
	int		 rc;

	switch (cli_parse_args(c, usage_list, argc, argv, NULL, 0, pos, 0, 0,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(admin_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if ((rc = cli_call(c, "GET", "/api/v1/admins", NULL, &reply)) != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	admins = json_object_get(reply, "admins");
	if (json_array_size(admins) == 0) {
		printf("no admins: mailward admin add NAME creates the first\n");
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	t = table_new(MW_N_ELEMENTS(headers), headers);
	json_array_foreach(admins, i, a) {
		const char *cells[MW_N_ELEMENTS(headers)];

		cells[0] = jstr(a, "name");
		cells[1] = time_local(jint(a, "created"), created,
		    sizeof(created));
		cells[2] = time_local(jint(a, "updated"), updated,
		    sizeof(updated));
		cells[3] = jstr(a, "language")[0] != '\0' ? jstr(a, "language") :
		    "(browser)";
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(&t);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int
admin_del(struct cli *c, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	char		 path[128];
	json_t		*reply;
	int		 rc;

	switch (cli_parse_args(c, usage_del, argc, argv, NULL, 0, pos, 1, 1,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(admin_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (!admin_name_ok(pos[0]))
		return cli_usage_error(usage_del, "\"%s\" is not an admin name",
		    pos[0]);
	/* admin names need no escaping: letters, digits, . _ @ - */
	(void)snprintf(path, sizeof(path), "/api/v1/admins?name=%s", pos[0]);
	if ((rc = cli_call(c, "DELETE", path, NULL, &reply)) != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		printf("admin %s deleted; the admin's dashboard sessions were "
		    "ended\n", pos[0]);
	json_decref(reply);
	return CLI_EXIT_OK;
}

int
cmd_admin(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return cli_usage_error(usage_admin, "admin: missing add, list, "
		    "del or passwd");
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 ||
	    strcmp(sub, "help") == 0)
		return cli_help(admin_help);
	if (strcmp(sub, "add") == 0)
		return admin_set(c, argc - 1, argv + 1, true);
	if (strcmp(sub, "passwd") == 0 || strcmp(sub, "password") == 0)
		return admin_set(c, argc - 1, argv + 1, false);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return admin_list(c, argc - 1, argv + 1);
	if (strcmp(sub, "del") == 0 || strcmp(sub, "delete") == 0 ||
	    strcmp(sub, "rm") == 0)
		return admin_del(c, argc - 1, argv + 1);
	return cli_usage_error(usage_admin, "admin: unknown subcommand \"%s\"",
	    sub);
}
