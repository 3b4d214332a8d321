/*
 * cli - shared parts of the `mailward` command: the context built from
 * the global flags, argument parsing, the admin API client (client.c),
 * human output (table_out.c) and the verb entry points (cmd_*.c).
 *
 * Exit codes (sysexits.h): 0 ok; 1 the daemon refused (API error) or a
 * generic failure; 64 usage or a malformed argument (checked before
 * anything is sent); 69 the daemon cannot be reached; 78 configuration
 * errors (config check).
 */
#ifndef MW_CLI_CLI_H
#define MW_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include "core/mem.h"

#define CLI_EXIT_OK		0
#define CLI_EXIT_FAIL		1
#define CLI_EXIT_USAGE		EX_USAGE	/* 64 */
#define CLI_EXIT_UNAVAILABLE	EX_UNAVAILABLE	/* 69 */
#define CLI_EXIT_CONFIG		EX_CONFIG	/* 78 */

#define CLI_DEFAULT_CONFIG	"/etc/mailward/mailward.conf"
#define CLI_DEFAULT_SOCKET	"/var/lib/mailward/admin.sock"
#define CLI_TIMEOUT_S		120	/* /check waits for DNSBL answers */
#define CLI_MAX_TEXT		512	/* bytes of --reason / --comment */
#define CLI_MAX_REPLY		(256u << 20)	/* bytes of one API reply */

struct cli {
	const char	*config_path;	/* -c, MAILWARD_CONF or the default */
	bool		 config_given;	/* -c or MAILWARD_CONF */
	const char	*socket;	/* --socket, or NULL until resolved */
	char		*socket_owned;	/* from the config file */
	char		*config_note;	/* why the default socket is used */
	bool		 json;		/* --json: print the API's JSON */
};

/* --- argument parsing (mailward.c) -------------------------------------- */

struct cli_opt {
	const char	*name;		/* "--for" */
	bool		 has_arg;
	const char	**value_r;	/* has_arg: the value */
	bool		*flag_r;	/* !has_arg: set to true */
};

enum cli_parse_result { CLI_PARSE_OK = 0, CLI_PARSE_HELP = 1,
	CLI_PARSE_ERROR = -1 };

/* Parses argv[1..argc-1] of a verb: the options in opts (plus --json and
   -h/--help everywhere, "--name=value" and "--" understood) and between
   min_pos and max_pos positional arguments into pos. On an error prints
   "mailward: <what>" and the usage line to stderr. */
enum cli_parse_result cli_parse_args(struct cli *c, const char *usage,
	    int argc, char **argv, const struct cli_opt *opts, size_t nopts,
	    const char **pos, size_t min_pos, size_t max_pos, size_t *npos_r);
/* Prints "mailward: <msg>" to stderr (printf format). */
void	 cli_error(const char *fmt, ...) MW_PRINTF(1, 2);
/* Usage error: the message, then "usage: ..." on stderr; returns 64. */
int	 cli_usage_error(const char *usage, const char *fmt, ...)
	    MW_PRINTF(2, 3);
/* Validates an address (host_only) or network argument locally as the
   daemon would; prints the error and returns 64, or returns 0. */
int	 cli_check_net(const char *what, const char *text, bool host_only);
/* Validates --reason/--comment text (printable, at most 512 bytes). */
int	 cli_check_text(const char *opt, const char *text);
/* Prints help text (a verb's --help) to stdout; returns 0. */
int	 cli_help(const char *text);

/* --- admin API client (client.c) ---------------------------------------- */

/* One request: method "GET"/"POST"/"DELETE", path from "/api/v1/...",
   body NULL or a JSON value to send. On a 2xx reply *reply_r holds the
   decoded JSON (caller decrefs) and 0 is returned. Otherwise the error is
   printed (the daemon's {"error"} text, or why it cannot be reached) and
   the exit code returned (1 API error, 69 unreachable). */
int	 cli_call(struct cli *c, const char *method, const char *path,
	    json_t *body, json_t **reply_r) MW_MUST_CHECK;
/* Query-string escaping of s (malloc'd). */
char	*cli_escape(const char *s);
/* Prints v as indented JSON on stdout (--json). */
void	 cli_print_json(json_t *v);

/* --- human output (table_out.c) ----------------------------------------- */

struct table;

struct table	*table_new(size_t ncols, const char *const *headers);
/* cells: ncols strings (NULL prints "-"), copied with control characters
   replaced by '?'. */
void	 table_add(struct table *t, const char *const *cells);
size_t	 table_rows(const struct table *t);
/* Aligned columns (display width of UTF-8), two spaces apart; the last
   column is not padded. */
void	 table_print(const struct table *t, FILE *out);
void	 table_free(struct table **t);

/* Terminal columns taken by the UTF-8 text s (East Asian wide = 2,
   combining marks = 0, invalid bytes = 1 each). */
size_t	 text_width(const char *s);
/* Copy with control characters (and DEL) replaced by '?'. malloc'd. */
char	*text_clean(const char *s);
/* Local time "2026-11-23 10:15:02" (0: "-"). */
const char *time_local(int64_t secs, char *buf, size_t size);
/* Two units at most: "59m", "1h30m", "6d23h", "45s". */
const char *duration_short(int64_t secs, char *buf, size_t size);
/* Expiry relative to now: "permanent" (0), "in 59m", "expired". */
const char *expiry_text(int64_t expires, int64_t now, char *buf,
	    size_t size);
/* --since / --until: a duration ago ("2h"), unix seconds ("1763900000"),
   or local "YYYY-MM-DD[THH:MM[:SS]]" (a space may replace the T).
   0 or -1 (unparsable). */
int	 time_arg_parse(const char *s, int64_t now, int64_t *secs_r)
	    MW_MUST_CHECK;

/* --- JSON access (client.c) --------------------------------------------- */

const char *jstr(json_t *o, const char *key);		/* "" when absent */
int64_t	 jint(json_t *o, const char *key);		/* 0 when absent */

/* --- verbs ------------------------------------------------------------- */

int	 cmd_status(struct cli *c, int argc, char **argv);
int	 cmd_ban(struct cli *c, int argc, char **argv);
int	 cmd_list(struct cli *c, int argc, char **argv);	/* allow, deny */
int	 cmd_check(struct cli *c, int argc, char **argv);
int	 cmd_events(struct cli *c, int argc, char **argv);
int	 cmd_config(struct cli *c, int argc, char **argv);
int	 cmd_reload(struct cli *c, int argc, char **argv);
int	 cmd_account(struct cli *c, int argc, char **argv);
int	 cmd_accounts(struct cli *c, int argc, char **argv);
int	 cmd_alerts(struct cli *c, int argc, char **argv);

/* Human forms of the login guard's replies (tests/unit/test_cli_format.c):
   one account (GET /accounts/NAME), the accounts list (GET /accounts),
   an array of ALERTs. */
void	 account_print(FILE *out, json_t *account);
void	 accounts_print(FILE *out, json_t *reply);
void	 alerts_print(FILE *out, json_t *alerts);
/* The login guard's lines of `mailward check` from its "login" member. */
void	 check_login_print(FILE *out, json_t *login);
int	 cmd_logscan(struct cli *c, int argc, char **argv);	/* offline */
int	 cmd_admin(struct cli *c, int argc, char **argv);	/* dashboard admins */

#endif
