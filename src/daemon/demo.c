/*
 * demo - the generated attack of `mailwardd --demo`; see demo.h.
 *
 * One timer tick every DEMO_TICK_MS runs the steps due at that tick
 * (a table of ranges and periods), each through the engine exactly as a
 * listener would: engine_auth_check, then engine_auth_report of the
 * outcome (as Dovecot does unless refused), engine_decide for Postfix
 * policy requests, engine_ban_add for the DNSBL listings. The engine,
 * the login guard and the store do the rest: bans, alerts, events.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "daemon/demo.h"
#include "engine/engine.h"
#include "store/store.h"

#define DEMO_TICK_MS	250	/* one step of the scenario */
#define DEMO_MAIN_TICKS	240	/* the scenario: 60 s */
#define DEMO_TRICKLE	20	/* then something every 5 s */
#define DEMO_PW_LEN	12	/* characters of the demo password */

struct demo {
	struct event	*timer;
	struct engine	*e;
	struct mw_arena	*a;
	unsigned	 tick;
	uint32_t	 rnd;
};

static uint32_t
demo_rand(struct demo *d)
{
	/* xorshift32: varied but repeatable runs */
	d->rnd ^= d->rnd << 13;
	d->rnd ^= d->rnd >> 17;
	d->rnd ^= d->rnd << 5;
	return d->rnd;
}

static struct mw_addr
demo_addr(const char *text)
{
	struct mw_addr a;

	MW_ASSERT(mw_addr_parse(text, &a) == 0);
	return a;
}

static struct mw_addr
demo_addr4(unsigned a, unsigned b, unsigned c, unsigned dd)
{
	struct mw_addr addr;

	mw_addr_from_v4((uint32_t)(a << 24 | b << 16 | c << 8 | dd), &addr);
	return addr;
}

/* A login attempt as Dovecot's auth policy would report it. */
static void
demo_login(struct demo *d, struct mw_addr addr, const char *service,
    const char *account, bool success)
{
	struct auth_observation	 o = { .source = "authpolicy",
	    .service = service, .addr = addr, .has_addr = true,
	    .account = account, .phase = AUTH_PHASE_BEFORE };
	struct auth_verdict	 v;

	engine_auth_check(d->e, &o, d->a, &v);
	if (v.kind == AUTH_VERDICT_REJECT)
		return;		/* refused before the password was checked */
	o.phase = success ? AUTH_PHASE_SUCCESS : AUTH_PHASE_FAILURE;
	engine_auth_report(d->e, &o);
}

static void
demo_verdict(void *ctx, const struct verdict *v)
{
	(void)ctx;
	(void)v;
}

/* A Postfix policy request at RCPT time on port 25. */
static void
demo_mail(struct demo *d, struct mw_addr addr, const char *sender)
{
	struct observation	 obs = { .listener = "policy", .addr = addr,
	    .has_addr = true, .server_port = 25, .protocol_state = "RCPT",
	    .client_name = "unknown", .helo = "mail.example.net",
	    .sender = sender, .recipient = "info@example.com",
	    .sasl_username = "", .policy_context = "", .instance = "demo" };
	struct engine_pending	*p;

	p = engine_decide(d->e, &obs, d->a, demo_verdict, d);
	engine_cancel(&p);	/* the verdict is in the events already */
}

static void
demo_dnsbl_ban(struct demo *d, const char *text, const char *why)
{
	struct mw_addr		 addr = demo_addr(text);
	struct mw_cidr		 net;
	struct store_ban	 b;
	const char		*error;

	mw_cidr_from_addr(&addr, 128, &net);
	if (engine_ban_add(d->e, &net, 3600, STORE_BAN_DNSBL, why, &b,
	    &error) < 0)
		log_warn("demo: ban %s: %s", text, error);
}

static void
demo_step(struct demo *d, unsigned t)
{
	static const char *const listed[] = { "198.51.100.66", "198.51.100.67",
	    "198.51.100.68" };
	char	 acct[48];

	/* password guessing on IMAP and POP3 */
	if (t < 60)
		demo_login(d, demo_addr("203.0.113.10"), "imap",
		    "info@example.com", false);
	if (t < 80 && t % 2 == 0)
		demo_login(d, demo_addr("203.0.113.11"), "pop3",
		    "admin@example.com", false);
	/* a spraying run: one attempt per account */
	if (t >= 20 && t < 110 && t % 3 == 0) {
		(void)snprintf(acct, sizeof(acct), "user%02u@example.com",
		    (t - 20) / 3 + 1);
		demo_login(d, demo_addr("198.51.100.23"), "smtp", acct, false);
	}
	/* a distributed attack on one account */
	if (t >= 60 && t < 150 && t % 2 == 0)
		demo_login(d, demo_addr4(192, 0, 2, 10 + (t - 60) / 2 % 20),
		    "imap", "ceo@example.com", false);
	/* a success after failures: a possible takeover */
	if (t >= 120 && t < 124)
		demo_login(d, demo_addr("203.0.113.50"), "imap",
		    "sales@example.com", false);
	if (t == 126)
		demo_login(d, demo_addr("203.0.113.50"), "imap",
		    "sales@example.com", true);
	/* DNSBL-listed senders */
	if (t == 30 || t == 70 || t == 110)
		demo_dnsbl_ban(d, listed[(t - 30) / 40], "listed in "
		    "zen.spamhaus.org (127.0.0.2, SBL) [demo]");
	/* mail: refused from the banned and listed, accepted from others */
	if (t >= 20 && t % 2 == 1) {
		switch (demo_rand(d) % 4) {
		case 0:
			demo_mail(d, demo_addr(listed[demo_rand(d) % 3]),
			    "offer@spam.example");
			break;
		case 1:
			demo_mail(d, demo_addr("203.0.113.10"),
			    "info@example.com");
			break;
		default:
			demo_mail(d, demo_addr4(192, 0, 2, 100 +
			    demo_rand(d) % 50), "friend@example.org");
			break;
		}
	}
}

static void
demo_trickle(struct demo *d)
{
	char acct[48];

	demo_mail(d, demo_addr4(192, 0, 2, 100 + demo_rand(d) % 50),
	    "friend@example.org");
	(void)snprintf(acct, sizeof(acct), "user%02u@example.com",
	    demo_rand(d) % 25 + 1);
	demo_login(d, demo_addr4(203, 0, 113, 100 + demo_rand(d) % 100),
	    "imap", acct, false);
}

static void
demo_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct demo *d = arg;

	(void)fd;
	(void)what;
	if (d->tick < DEMO_MAIN_TICKS)
		demo_step(d, d->tick);
	else if (d->tick % DEMO_TRICKLE == 0)
		demo_trickle(d);
	if (d->tick == DEMO_MAIN_TICKS)
		log_info("demo: the generated attack is over; a little traffic "
		    "goes on every 5 s");
	d->tick++;
	mw_arena_reset(d->a);
}

struct demo *
demo_start(struct event_base *base, struct engine *e)
{
	struct demo	*d = mw_calloc(1, sizeof(*d));
	struct timeval	 tv = { 0, DEMO_TICK_MS * 1000 };

	d->e = e;
	d->a = mw_arena_new(4096);
	d->rnd = 2463534242u;
	d->timer = event_new(base, -1, EV_PERSIST, demo_on_tick, d);
	if (d->timer == NULL || event_add(d->timer, &tv) < 0)
		mw_panic("demo: cannot start the timer");
	log_info("demo: replaying a generated attack through the engine "
	    "(about 60 s): password guessing, spraying, a distributed attack, "
	    "a takeover alert, DNSBL-listed senders");
	return d;
}

void
demo_free(struct demo **dp)
{
	struct demo *d = *dp;

	if (d == NULL)
		return;
	if (d->timer != NULL)
		event_free(d->timer);
	mw_arena_free(&d->a);
	free(d);
	*dp = NULL;
}

int
demo_prepare(const struct cfg *cfg)
{
	char		 marker[4096];
	struct stat	 st;
	int		 fd;

	if ((size_t)snprintf(marker, sizeof(marker), "%s/DEMO",
	    cfg->daemon.state_dir) >= sizeof(marker)) {
		log_error("demo: state_dir is too long");
		return -1;
	}
	if (stat(marker, &st) == 0) {
		/* a demo's own store: every demo starts afresh */
		static const char *const suffix[] = { "", "-wal", "-shm" };

		for (size_t i = 0; i < MW_N_ELEMENTS(suffix); i++) {
			char path[4096];

			if ((size_t)snprintf(path, sizeof(path), "%s%s",
			    cfg->store.path, suffix[i]) < sizeof(path) &&
			    unlink(path) < 0 && errno != ENOENT)
				log_warn_errno("demo: cannot remove %s", path);
		}
		return 0;
	}
	if (stat(cfg->store.path, &st) == 0) {
		log_error("mailwardd: --demo: %s holds a store that was not made "
		    "by --demo; demo data never goes into a real store: give "
		    "--demo a configuration with its own state_dir (scripts/run.sh "
		    "--demo does)", cfg->store.path);
		return -1;
	}
	if ((fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) < 0) {
		log_error_errno("mailwardd: --demo: cannot create %s", marker);
		return -1;
	}
	if (write(fd, "made by mailwardd --demo: demo data only\n", 41) != 41)
		log_warn_errno("mailwardd: --demo: writing %s", marker);
	(void)close(fd);
	return 0;
}

int
demo_admin(struct store *st, char **password_r)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	char			 pw[DEMO_PW_LEN + 1], hash[crypto_pwhash_STRBYTES];
	struct store_admin	 a;
	int64_t			 now = (int64_t)time(NULL);

	if (sodium_init() < 0)
		return -1;
	for (size_t i = 0; i < DEMO_PW_LEN; i++)
		pw[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	pw[DEMO_PW_LEN] = '\0';
	if (crypto_pwhash_str(hash, pw, DEMO_PW_LEN,
	    crypto_pwhash_OPSLIMIT_MODERATE,
	    crypto_pwhash_MEMLIMIT_MODERATE) != 0) {
		log_error("demo: hashing the demo password failed");
		return -1;
	}
	a = (struct store_admin){ .name = DEMO_ADMIN, .pwhash = hash,
	    .language = "", .created = now, .updated = now };
	if (store_admin_put(st, &a) < 0) {
		log_error("demo: saving the admin demo: %s", store_last_error(st));
		return -1;
	}
	*password_r = mw_strdup(pw);
	sodium_memzero(pw, sizeof(pw));
	return 0;
}
