/*
 * mailwardd - the mailward daemon: flags, configuration, privilege
 * separation, signals, and the event loop that owns the engine.
 *
 * Start-up order: read and validate the config (exit 78 on errors);
 * create the state directory; open the store with the service user's
 * identity (so its files belong to that user); bind the listeners as root
 * (a unix socket in Postfix's spool needs it); then drop root for good.
 * SIGHUP re-reads the config and keeps the old one when the new one has
 * errors; SIGTERM stops accepting, flushes and exits. Acknowledged state
 * is in the store before the acknowledgement, so kill -9 loses nothing
 * but ban hit counters of the last second.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "daemon/demo.h"
#include "dnsbl/dnsbl.h"
#include "enforce/firewall.h"
#include "engine/engine.h"
#include "listen/admin.h"
#include "listen/authpolicy.h"
#include "listen/dashboard.h"
#include "listen/policy.h"
#include "sources/logwatch.h"
#include "store/store.h"

#define DEFAULT_CONFIG	"/etc/mailward/mailward.conf"
#define RETIRE_GRACE_S	10	/* an old cfg outlives in-flight DNS lookups */

struct daemon {
	const char		*config_path;
	struct event_base	*base;
	struct cfg		*cfg;
	struct cfg		*retired;	/* previous cfg, freed by a timer */
	struct event		*retire_timer;
	struct store		*st;
	struct dnsbl		*dnsbl;
	struct engine		*engine;
	struct policy_server	*policy;
	struct authpolicy_server *authpolicy;	/* NULL: [authpolicy] off */
	struct admin_server	*admin;
	struct logwatch		*logwatch;	/* NULL: [logwatch] off */
	struct firewall		*fw;		/* nftables helper (enforce/) */
	struct dashboard	*dashboard;
	bool			 demo;		/* --demo */
	struct demo		*demo_run;
	struct event		*sig_hup, *sig_term, *sig_int;
};

static void
usage(FILE *out)
{
	fprintf(out,
"usage: mailwardd [-f] [-c FILE] [-d] [--demo]\n"
"       mailwardd -t [-c FILE]\n"
"\n"
"The mailward daemon: answers Postfix policy requests from allow/deny\n"
"lists, bans and DNS blocklists, and serves the admin API used by the\n"
"`mailward` command.\n"
"\n"
"  -c FILE   configuration file (default " DEFAULT_CONFIG ")\n"
"  -f        stay in the foreground and log to stderr (else: background, syslog)\n"
"  -d        debug logging (overrides [daemon] log_level)\n"
"  -t        check the configuration and exit (0 valid, 78 invalid)\n"
"  --demo    replay a generated attack through the engine for the dashboard\n"
"            (about a minute), with an admin \"demo\" whose password is\n"
"            printed; refuses a state_dir holding a real store (use\n"
"            scripts/run.sh --demo); never touches the firewall\n"
"  -h        this help;  -V  version\n"
"\n"
"Signals: SIGHUP reloads the configuration, SIGTERM stops cleanly.\n"
"See mailwardd(8), mailward.conf(5) and mailward(1).\n");
}

static int
daemon_prepare_state_dir(const struct cfg *cfg, const struct passwd *pw)
{
	const char *dir = cfg->daemon.state_dir;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		log_error_errno("mailwardd: cannot create state directory %s", dir);
		return -1;
	}
	if (pw != NULL && chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
		log_error_errno("mailwardd: cannot give %s to user %s", dir,
		    pw->pw_name);
		return -1;
	}
	return 0;
}

/* Temporarily (effective ids) or permanently become pw. */
static int
daemon_become(const struct passwd *pw, bool permanent)
{
	if (permanent) {
		if (seteuid(0) < 0 || setgroups(0, NULL) < 0 ||
		    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
			log_error_errno("mailwardd: cannot drop privileges to %s",
			    pw->pw_name);
			return -1;
		}
		if (setuid(0) == 0)
			mw_panic("mailwardd: regained root after dropping it");
		return 0;
	}
	if (setegid(pw->pw_gid) < 0 || seteuid(pw->pw_uid) < 0) {
		log_error_errno("mailwardd: cannot switch to user %s", pw->pw_name);
		return -1;
	}
	return 0;
}

static int
daemon_unbecome(void)
{
	if (seteuid(0) < 0 || setegid(0) < 0) {
		log_error_errno("mailwardd: cannot regain root");
		return -1;
	}
	return 0;
}

static void
daemon_on_retire(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	cfg_free(&d->retired);
}

/* [logwatch] starts, follows the new file list, or stops with the
   configuration; files are opened as the service user (logwatch.h). */
static void
daemon_logwatch(struct daemon *d, const struct cfg *cfg)
{
	char *error = NULL;

	if (!cfg->logwatch.enabled)
		logwatch_free(&d->logwatch);
	else if ((d->logwatch == NULL ? logwatch_new(d->base, cfg, d->engine,
	    d->st, &d->logwatch, &error) : logwatch_reload(d->logwatch, cfg,
	    &error)) < 0)
		mw_panic("logwatch: %s", error);	/* checked before */
}

static int
daemon_reload(struct daemon *d, char **error_r)
{
	struct cfg	*fresh;
	char		*error = NULL;
	struct timeval	 grace = { RETIRE_GRACE_S, 0 };
	enum log_level	 level;

	if (cfg_load(d->config_path, &fresh, &error) < 0) {
		log_error("mailwardd: reload: %s has errors; keeping the running "
		    "configuration:\n%s", d->config_path, error != NULL ? error : "");
		if (error_r != NULL)
			*error_r = error;
		else
			free(error);
		return -1;
	}
	if (logwatch_check_config(fresh, &error) < 0) {
		log_error("mailwardd: reload: %s; keeping the running "
		    "configuration", error);
		if (error_r != NULL)
			*error_r = error;
		else
			free(error);
		cfg_free(&fresh);
		return -1;
	}
	if (d->dnsbl != NULL && dnsbl_reconfigure(d->dnsbl, fresh, &error) < 0) {
		log_error("mailwardd: reload: dnsbl: %s; keeping the running "
		    "configuration", error);
		if (error_r != NULL)
			*error_r = error;
		else
			free(error);
		cfg_free(&fresh);
		return -1;
	}
	engine_reload(d->engine, fresh, d->dnsbl);
	if (d->policy != NULL)
		policy_server_reload(d->policy, fresh);
	if (d->admin != NULL)
		admin_server_reload(d->admin, fresh);
	daemon_logwatch(d, fresh);
	firewall_reload(d->fw, fresh);
	if (d->authpolicy != NULL)
		authpolicy_server_reload(d->authpolicy, fresh);
	if ((d->authpolicy != NULL) != fresh->authpolicy.enabled)
		log_warn("mailwardd: reload: [authpolicy] enabled changed; "
		    "takes effect at the next restart");
	if (d->dashboard != NULL)
		dashboard_reload(d->dashboard, fresh);
	if (log_level_parse(fresh->daemon.log_level, &level) == 0)
		log_set_level(level);
	/* Lookups in flight may still point into the old cfg's zones. */
	cfg_free(&d->retired);
	d->retired = d->cfg;
	d->cfg = fresh;
	event_add(d->retire_timer, &grace);
	log_info("mailwardd: configuration reloaded from %s", d->config_path);
	return 0;
}

static void
daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		(void)daemon_reload(d, NULL);
		return;
	}
	log_info("mailwardd: %s received; stopping", strsignal((int)sig));
	event_base_loopexit(d->base, NULL);
}

static json_t *
daemon_firewall_json(struct firewall *fw)
{
	struct firewall_status s;

	firewall_get_status(fw, &s);
	return json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:f, s:I, s:s, s:I}",
	    "enabled", s.state != FIREWALL_DISABLED,
	    "state", firewall_state_name(s.state), "reason", s.reason,
	    "table", s.table, "helper_pid", (json_int_t)s.helper_pid,
	    "worker_pid", (json_int_t)s.worker_pid,
	    "elements", (json_int_t)s.elements,
	    "allow_elements", (json_int_t)s.allow_elements,
	    "transactions", (json_int_t)s.transactions,
	    "transaction_errors", (json_int_t)s.transaction_errors,
	    "elements_failed", (json_int_t)s.elements_failed,
	    "worker_starts", (json_int_t)s.worker_starts,
	    "resyncs", (json_int_t)s.resyncs,
	    "last_resync_elements", (json_int_t)s.last_resync_elements,
	    "last_resync_seconds", s.last_resync_s,
	    "queued_bytes", (json_int_t)s.queued_bytes,
	    "last_error", s.last_error,
	    "last_error_time", (json_int_t)s.last_error_time);
}

static void
daemon_admin_status(void *ctx, json_t *status)
{
	struct daemon		*d = ctx;
	struct policy_stats	 ps;
	json_t			*listeners = json_object();

	json_object_set_new(status, "demo", json_boolean(d->demo));
	if (d->policy != NULL) {
		policy_server_get_stats(d->policy, &ps);
		json_object_set_new(listeners, "policy", json_pack(
		    "{s:I, s:I, s:I, s:I}",
		    "connections", (json_int_t)ps.connections,
		    "connections_total", (json_int_t)ps.connections_total,
		    "requests", (json_int_t)ps.requests,
		    "malformed", (json_int_t)ps.malformed));
	}
	if (d->authpolicy != NULL) {
		struct authpolicy_stats as;

		authpolicy_server_get_stats(d->authpolicy, &as);
		json_object_set_new(listeners, "authpolicy", json_pack(
		    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:I, s:I}",
		    "connections", (json_int_t)as.connections,
		    "connections_total", (json_int_t)as.connections_total,
		    "requests", (json_int_t)as.requests,
		    "allow_checks", (json_int_t)as.allow_checks,
		    "reports", (json_int_t)as.reports,
		    "allowed", (json_int_t)as.verdicts[AUTH_VERDICT_ALLOW],
		    "tarpitted", (json_int_t)as.verdicts[AUTH_VERDICT_TARPIT],
		    "refused", (json_int_t)as.verdicts[AUTH_VERDICT_REJECT],
		    "policy_rejects", (json_int_t)as.policy_rejects,
		    "malformed", (json_int_t)as.malformed,
		    "unauthorized", (json_int_t)as.unauthorized,
		    "over_limit", (json_int_t)as.over_limit,
		    "fail_open", (json_int_t)as.fail_open));
	}
	if (d->logwatch != NULL) {
		struct logwatch_stats ls;

		logwatch_get_stats(d->logwatch, &ls);
		json_object_set_new(listeners, "logwatch", json_pack(
		    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		    "files", (json_int_t)ls.files,
		    "files_open", (json_int_t)ls.files_open,
		    "lines", (json_int_t)ls.lines,
		    "failures", (json_int_t)ls.failures,
		    "reported", (json_int_t)ls.reported,
		    "repeated_summaries", (json_int_t)ls.repeats,
		    "overlong", (json_int_t)ls.overlong));
	}
	if (d->dashboard != NULL) {
		struct dashboard_stats ds;

		dashboard_get_stats(d->dashboard, &ds);
		json_object_set_new(listeners, "dashboard", json_pack(
		    "{s:I, s:I, s:I, s:I}",
		    "requests", (json_int_t)ds.requests,
		    "sessions", (json_int_t)ds.sessions,
		    "streams", (json_int_t)ds.streams,
		    "logins", (json_int_t)ds.logins));
	}
	json_object_set_new(status, "listeners", listeners);
	if (d->fw != NULL)
		json_object_set_new(status, "firewall", daemon_firewall_json(d->fw));
}

static int
daemon_admin_reload(void *ctx, char **error_r)
{
	return daemon_reload(ctx, error_r);
}

static void
daemon_shutdown(struct daemon *d)
{
	demo_free(&d->demo_run);
	dashboard_free(&d->dashboard);
	admin_server_free(&d->admin);
	authpolicy_server_free(&d->authpolicy);
	policy_server_free(&d->policy);
	logwatch_free(&d->logwatch);
	firewall_free(&d->fw);
	engine_free(&d->engine);
	dnsbl_free(&d->dnsbl);
	/* DNS queries still out free themselves when evdns hands them back:
	   let the loop run those callbacks before it goes away. */
	if (d->base != NULL)
		for (int i = 0; i < 4; i++)
			(void)event_base_loop(d->base, EVLOOP_NONBLOCK);
	store_close(&d->st);
	if (d->sig_hup != NULL)
		event_free(d->sig_hup);
	if (d->sig_term != NULL)
		event_free(d->sig_term);
	if (d->sig_int != NULL)
		event_free(d->sig_int);
	if (d->retire_timer != NULL)
		event_free(d->retire_timer);
	cfg_free(&d->retired);
	cfg_free(&d->cfg);
	if (d->base != NULL)
		event_base_free(d->base);
}

/* epoll with a changelist: the enable/disable pairs libevent makes per
   request (evhttp, which serves the dashboard and admin API: read off,
   write on, write off, read on) become one epoll_ctl per loop turn
   instead of one each (bench/README.md). No lock: only the loop thread
   ever touches the base (the other threads, the store's writer and the
   password worker, wake it through pipes), and a locked base takes and
   drops a mutex around every callback and every event_add or event_del
   (about 20 ns a policy request, perf). */
static struct event_base *
daemon_base_new(void)
{
	struct event_config	*ec = event_config_new();
	struct event_base	*base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

static int
daemon_write_pid(const char *path)
{
	FILE *f;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((f = fopen(path, "w")) == NULL) {
		log_error_errno("mailwardd: cannot write pid file %s", path);
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct daemon		 d = { .config_path = DEFAULT_CONFIG };
	struct passwd		*pw = NULL;
	struct admin_hooks	 hooks;
	char			*error = NULL, *demo_pw = NULL;
	bool			 foreground = false, debug = false, check = false;
	enum log_level		 level = LOG_LEVEL_INFO;
	int			 c, rc = EX_SOFTWARE;

	static const struct option longopts[] = {
		{ "demo", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "c:fdthV", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': d.demo = true; break;
		case 'c': d.config_path = optarg; break;
		case 'f': foreground = true; break;
		case 'd': debug = true; break;
		case 't': check = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("mailwardd %s\n", MW_VERSION); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	log_open("mailwardd", LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	if (cfg_load(d.config_path, &d.cfg, &error) < 0) {
		fprintf(stderr, "mailwardd: %s has errors:\n%s\n", d.config_path,
		    error != NULL ? error : "(no detail)");
		free(error);
		return EX_CONFIG;
	}
	if (logwatch_check_config(d.cfg, &error) < 0) {
		fprintf(stderr, "mailwardd: %s has errors:\n%s\n", d.config_path,
		    error);
		free(error);
		cfg_free(&d.cfg);
		return EX_CONFIG;
	}
	if (check) {
		printf("%s: OK\n", d.config_path);
		cfg_free(&d.cfg);
		return 0;
	}
	if (log_level_parse(d.cfg->daemon.log_level, &level) < 0)
		level = LOG_LEVEL_INFO;
	if (debug)
		level = LOG_LEVEL_DEBUG;
	log_open("mailwardd", foreground ? LOG_TARGET_STDERR : LOG_TARGET_SYSLOG,
	    level);
	signal(SIGPIPE, SIG_IGN);

	if (geteuid() == 0 && d.cfg->daemon.user[0] != '\0') {
		if ((pw = getpwnam(d.cfg->daemon.user)) == NULL) {
			log_error("mailwardd: [daemon] user %s does not exist; create "
			    "it (useradd --system %s) or set user = to stay root",
			    d.cfg->daemon.user, d.cfg->daemon.user);
			rc = EX_CONFIG;
			goto out;
		}
	} else if (geteuid() == 0) {
		log_warn("mailwardd: running as root: set [daemon] user to drop "
		    "privileges");
	}
	if (daemon_prepare_state_dir(d.cfg, pw) < 0)
		goto out;
	if (d.demo && demo_prepare(d.cfg) < 0) {
		rc = EX_CONFIG;
		goto out;
	}
	if (!foreground && daemon(0, 0) < 0) {
		log_error_errno("mailwardd: cannot go to the background");
		goto out;
	}
	/* The firewall helper is forked while root, before any thread. */
	if (d.demo)
		log_info("mailwardd: --demo: the firewall is left alone");
	else
		d.fw = firewall_start(d.cfg, pw != NULL ? pw->pw_uid : 0,
	    pw != NULL ? pw->pw_gid : 0, foreground ? LOG_TARGET_STDERR :
	    LOG_TARGET_SYSLOG, level);
	if (evthread_use_pthreads() < 0 || (d.base = daemon_base_new()) == NULL) {
		log_error("mailwardd: cannot create the event loop");
		goto out;
	}

	/* The store's files belong to the service user. */
	if (pw != NULL && daemon_become(pw, false) < 0)
		goto out;
	if (store_open(d.cfg, &d.st, &error) < 0) {
		log_error("mailwardd: store: %s", error != NULL ? error : "?");
		rc = EX_CANTCREAT;
		goto out;
	}
	if (d.demo && demo_admin(d.st, &demo_pw) < 0)
		goto out;
	if (pw != NULL && daemon_unbecome() < 0)
		goto out;
	if (d.cfg->dnsbl.enabled && d.cfg->dnsbl.nzones > 0 &&
	    dnsbl_new(d.base, d.cfg, &d.dnsbl, &error) < 0) {
		log_error("mailwardd: dnsbl: %s", error != NULL ? error : "?");
		rc = EX_CONFIG;
		goto out;
	}
	if (engine_new(d.base, d.cfg, d.st, d.dnsbl, &d.engine, &error) < 0) {
		log_error("mailwardd: engine: %s", error != NULL ? error : "?");
		goto out;
	}
	if (d.fw != NULL)
		firewall_attach(d.fw, d.base, d.engine);
	if (policy_server_new(d.base, d.cfg, d.engine, &d.policy, &error) < 0) {
		log_error("mailwardd: policy listener: %s", error != NULL ? error : "?");
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (d.cfg->authpolicy.enabled && authpolicy_server_new(d.base, d.cfg,
	    d.engine, &d.authpolicy, &error) < 0) {
		log_error("mailwardd: %s", error != NULL ? error : "?");
		rc = EX_UNAVAILABLE;
		goto out;
	}
	hooks = (struct admin_hooks){ .ctx = &d, .status = daemon_admin_status,
	    .reload = daemon_admin_reload, .config_path = d.config_path };
	if (admin_server_new(d.base, d.cfg, d.engine, &hooks, &d.admin,
	    &error) < 0) {
		log_error("mailwardd: admin socket: %s", error != NULL ? error : "?");
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (d.cfg->dashboard.enabled && dashboard_new(d.base, d.cfg, d.engine,
	    d.admin, d.demo, &d.dashboard, &error) < 0) {
		log_error("mailwardd: dashboard: %s", error != NULL ? error : "?");
		rc = EX_UNAVAILABLE;
		goto out;
	}
	/* Bound as root: hand the sockets to the service user, and to its
	   group unless an admin/postfix group was configured. */
	if (pw != NULL) {
		if (chown(d.cfg->admin.socket, pw->pw_uid,
		    d.cfg->admin.group[0] != '\0' ? (gid_t)-1 : pw->pw_gid) < 0)
			log_warn_errno("mailwardd: chown %s", d.cfg->admin.socket);
		if (d.cfg->policy.unix_socket[0] != '\0' &&
		    chown(d.cfg->policy.unix_socket, pw->pw_uid,
		    d.cfg->policy.unix_socket_group[0] != '\0' ? (gid_t)-1 :
		    pw->pw_gid) < 0)
			log_warn_errno("mailwardd: chown %s",
			    d.cfg->policy.unix_socket);
		if (d.authpolicy != NULL &&
		    d.cfg->authpolicy.unix_socket[0] != '\0' &&
		    chown(d.cfg->authpolicy.unix_socket, pw->pw_uid,
		    d.cfg->authpolicy.unix_socket_group[0] != '\0' ? (gid_t)-1 :
		    pw->pw_gid) < 0)
			log_warn_errno("mailwardd: chown %s",
			    d.cfg->authpolicy.unix_socket);
		if (daemon_become(pw, true) < 0)
			goto out;
	}
	if (daemon_write_pid(d.cfg->daemon.pid_file) < 0)
		goto out;
	daemon_logwatch(&d, d.cfg);	/* as the service user: see logwatch.h */

	d.sig_hup = evsignal_new(d.base, SIGHUP, daemon_on_signal, &d);
	d.sig_term = evsignal_new(d.base, SIGTERM, daemon_on_signal, &d);
	d.sig_int = evsignal_new(d.base, SIGINT, daemon_on_signal, &d);
	d.retire_timer = evtimer_new(d.base, daemon_on_retire, &d);
	event_add(d.sig_hup, NULL);
	event_add(d.sig_term, NULL);
	event_add(d.sig_int, NULL);

	log_info("mailwardd: %s ready (pid %ld): policy %s%s%s, admin socket %s, "
	    "store %s, %zu DNSBL zone(s)", MW_VERSION, (long)getpid(),
	    d.cfg->policy.listen[0] != '\0' ? d.cfg->policy.listen : "-",
	    d.cfg->policy.unix_socket[0] != '\0' ? " and " : "",
	    d.cfg->policy.unix_socket, d.cfg->admin.socket, d.cfg->store.path,
	    d.cfg->dnsbl.enabled ? d.cfg->dnsbl.nzones : 0);
	if (d.demo) {
		d.demo_run = demo_start(d.base, d.engine);
		log_info("demo: DEMO DATA: log in at %s://%s/ as %s, password %s",
		    d.cfg->dashboard.tls ? "https" : "http",
		    d.cfg->dashboard.listen, DEMO_ADMIN, demo_pw);
		if (isatty(STDOUT_FILENO))
			printf("\nmailwardd --demo: log in at %s://%s/ as %s, "
			    "password %s\n\n", d.cfg->dashboard.tls ? "https" :
			    "http", d.cfg->dashboard.listen, DEMO_ADMIN, demo_pw);
		fflush(stdout);
	}
	event_base_dispatch(d.base);
	rc = 0;
out:
	free(error);
	free(demo_pw);
	daemon_shutdown(&d);
	if (rc == 0)
		log_info("mailwardd: stopped");
	return rc;
}
