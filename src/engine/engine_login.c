/*
 * engine_login - the login guard inside the engine: authentication
 * attempts (Dovecot auth policy, logwatch, the dashboard's own login)
 * become bruteforce.c observations; what its rules conclude becomes
 * bans (engine_ban_add, so every enforcement point refuses them), alerts
 * and events. See engine.h for the contract.
 *
 * Order of a check: allow list > deny list > active ban > the rules'
 * current state (tarpit, refuse). The allow list is never banned, nor
 * (trust_known) an address from a network the account logged in from.
 * Password hashes are turned into fingerprints at once and never logged,
 * stored or put in an event. Loop thread only.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/slice.h"
#include "core/window.h"
#include "engine/bruteforce.h"
#include "engine/engine_int.h"
#include "engine/weakpw.h"

#define LOGIN_EXPIRE_SCAN	20000	/* entries examined per table per tick */
#define LOGIN_QUOTE_MAX		64	/* bytes of an account name in a log line */

#define LOGIN_NET_BATCH		16384	/* networks waiting to be saved */
#define LOGIN_NET_INDEX		(2 * LOGIN_NET_BATCH)	/* hash slots: a power of 2 */
/* A network already known is saved again (its last success and count)
   at most this often: the store's copy is for the next start, and
   known_ttl is days, so a busy server does not rewrite every known
   network every second. A new network is saved by the next tick. */
#define LOGIN_NET_REFRESH_S	60
#define LOGIN_COALESCE_SLOTS	4096	/* events that merge per tick: a power of 2 */
#define LOGIN_ALERT_SLOTS	8192	/* alerts remembered for alert_interval */
#define LOGIN_ALERT_PROBE	8	/* slots looked at per alert */

/*
 * Repeats within one second become one event that says how many it
 * stands for (store_event.count, and "... (37 checks in 1 s)" in the
 * reason), as the policy path does for DUNNO:
 * - refusals by engine_auth_check (TARPIT, REJECT) of one client, source,
 *   verdict and reason: a banned attacker hammering Dovecot without the
 *   firewall must not flood the event history (and push the admin's
 *   events out of its retention); nor the log: with merge_log the first
 *   refusal is logged by the caller at once (Dovecot's auth policy logs
 *   the request), the repeats (auth_verdict.repeat) in one line when the
 *   tick ends, as engine.c does for the policy service;
 * - logins reported (AUTH_OK, AUTH_FAIL) of one client, account, source
 *   and reason in the same second: a mail client opens several
 *   connections at once, each one a login.
 * Only with an event loop (a tick to flush).
 */
struct login_coalesced {
	bool		 used;
	bool		 login;		/* AUTH_OK/AUTH_FAIL: the account matches too */
	bool		 merge_log;	/* a refusal: the tick logs the repeats */
	const char	*verdict;	/* a static string */
	struct mw_addr	 addr;
	char		*source, *account, *reason;
	int64_t		 first_ms;
	uint32_t	 count;
};

/* An alert raised lately: the same one again within [login]
   alert_interval is only counted. key hashes account, network and kind
   (64 bits: a collision is not a practical concern). */
struct login_alert_seen {
	uint64_t	 key;
	int64_t		 until;		/* unix seconds; 0: free */
};

/* A network logged in from, waiting to be queued for the store (a new
   one by the next tick, a known one within LOGIN_NET_REFRESH_S). */
struct login_pending {
	char		*account;
	uint64_t	 hash;		/* login_pending_hash(account, net) */
	struct mw_cidr	 net;
	int64_t		 first, last;
	uint32_t	 successes;
};

struct engine_login {
	struct engine		*e;
	const struct cfg	*cfg;
	struct bf		*bf;
	struct engine_login_stats stats;
	bool			 full_logged;	/* "table full" said once */
	struct weakpw_cache	*weak;
	struct login_pending	*pending;	/* LOGIN_NET_BATCH */
	size_t			 npending;
	/* pending index + 1 by hash (0 = free), open addressing: a success
	   from a known network finds its entry in O(1), not by scanning the
	   batch (every successful login passes here). */
	uint16_t		*pending_index;	/* LOGIN_NET_INDEX */
	struct login_coalesced	*coalesce;	/* LOGIN_COALESCE_SLOTS, or NULL */
	struct login_alert_seen	*alerts_seen;	/* LOGIN_ALERT_SLOTS */
	size_t			 ncoalesced;
	uint64_t		 pending_dropped;
	bool			 pending_learned;	/* a new network waits */
	int64_t			 last_net_flush;	/* unix seconds */
};

static int64_t
login_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static bool
login_load_net(void *ctx, const struct store_login_net *n)
{
	struct engine_login *l = ctx;

	bf_known_add(l->bf, n->account, &n->net.addr, n->first_success,
	    n->last_success);
	return true;
}

/* Hands the tick's networks to the store's writer thread (one
   transaction there; the loop does not wait for it). */
static void
login_flush_pending(struct engine_login *l)
{
	struct store_login_net	*v;

	if (l->npending == 0)
		return;
	v = mw_calloc(l->npending, sizeof(*v));
	for (size_t i = 0; i < l->npending; i++)
		v[i] = (struct store_login_net){ .account = l->pending[i].account,
		    .net = l->pending[i].net,
		    .first_success = l->pending[i].first,
		    .last_success = l->pending[i].last,
		    .successes = l->pending[i].successes };
	store_login_net_queue(engine_store(l->e), v, l->npending);
	for (size_t i = 0; i < l->npending; i++)
		free(l->pending[i].account);
	free(v);
	l->npending = 0;
	l->pending_learned = false;
	memset(l->pending_index, 0, LOGIN_NET_INDEX * sizeof(*l->pending_index));
}

/* Writes the merged events of the last tick. */
static void
login_coalesce_flush(struct engine_login *l)
{
	for (size_t i = 0; l->ncoalesced > 0 && i < LOGIN_COALESCE_SLOTS; i++) {
		struct login_coalesced	*c = &l->coalesce[i];
		char			 reason[STORE_MAX_TEXT + 64];
		struct store_event	 ev;

		if (!c->used)
			continue;
		if (c->count > 1)
			(void)snprintf(reason, sizeof(reason), "%s%s(%u %s in "
			    "1 s)", c->reason, c->reason[0] != '\0' ? " " : "",
			    c->count, c->login ? "logins" : "checks");
		else
			(void)snprintf(reason, sizeof(reason), "%s", c->reason);
		if (c->merge_log && c->count > 1) {
			char addr[MW_ADDR_STRLEN];

			/* The refusals its caller did not log (repeat). */
			log_info("login: client %s (%s): %s: %s (%u more in the "
			    "last second)", mw_addr_format(&c->addr, addr,
			    sizeof(addr)), c->source, c->verdict, c->reason,
			    c->count - 1);
		}
		ev = (struct store_event){ .time_ms = c->first_ms,
		    .addr = c->addr, .listener = c->source,
		    .verdict = c->verdict, .reason = reason,
		    .account = c->account, .sender = "", .recipient = "",
		    .count = c->count };
		store_event_append(engine_store(l->e), &ev);
		free(c->source);
		free(c->account);
		free(c->reason);
		memset(c, 0, sizeof(*c));
		l->ncoalesced--;
	}
}

static bool
login_coalesce_same(const struct login_coalesced *c,
    const struct store_event *ev, bool login, bool merge_log)
{
	return c->login == login && c->merge_log == merge_log &&
	    c->verdict == ev->verdict &&
	    mw_addr_cmp(&c->addr, &ev->addr) == 0 &&
	    strcmp(c->source, ev->listener) == 0 &&
	    strncmp(c->reason, ev->reason, STORE_MAX_TEXT) == 0 &&
	    (!login || (c->first_ms / 1000 == ev->time_ms / 1000 &&
	    strncmp(c->account, ev->account, STORE_MAX_TEXT) == 0));
}

/* True when the event was merged into (or started) a pending one;
   *repeat_r tells which (true: merged into an earlier one). ev->verdict
   must be a static string (it is compared by address). merge_log: the
   flush logs the repeats (a refusal whose caller skips them). */
static bool
login_coalesce(struct engine_login *l, const struct store_event *ev,
    bool login, bool merge_log, bool *repeat_r)
{
	size_t i;

	if (l->coalesce == NULL)
		return false;
	i = (size_t)(mw_addr_hash(&ev->addr) ^ (login ? mw_hash_bytes(
	    ev->account, strnlen(ev->account, STORE_MAX_TEXT), 0) : 0)) &
	    (LOGIN_COALESCE_SLOTS - 1);
	for (size_t probe = 0; probe < 8; probe++,
	    i = (i + 1) & (LOGIN_COALESCE_SLOTS - 1)) {
		struct login_coalesced *c = &l->coalesce[i];

		if (!c->used) {
			*c = (struct login_coalesced){ .used = true,
			    .login = login, .merge_log = merge_log,
			    .verdict = ev->verdict,
			    .addr = ev->addr,
			    .source = mw_strdup(ev->listener),
			    .account = mw_strndup(ev->account, strnlen(
			    ev->account, STORE_MAX_TEXT)),
			    .reason = mw_strndup(ev->reason, strnlen(
			    ev->reason, STORE_MAX_TEXT)),
			    .first_ms = ev->time_ms, .count = 1 };
			l->ncoalesced++;
			*repeat_r = false;
			return true;
		}
		if (login_coalesce_same(c, ev, login, merge_log)) {
			c->count++;
			*repeat_r = true;
			return true;
		}
	}
	return false;	/* neighbourhood full: its own event */
}

int
engine_login_new(struct engine *e, const struct cfg *cfg,
    struct engine_login **l_r, char **error_r)
{
	struct engine_login	*l = mw_calloc(1, sizeof(*l));
	struct bf_config	 c;

	l->e = e;
	l->cfg = cfg;
	bf_config_from_cfg(cfg, &c);
	l->bf = bf_new(&c);
	l->pending = mw_calloc(LOGIN_NET_BATCH, sizeof(*l->pending));
	l->pending_index = mw_calloc(LOGIN_NET_INDEX,
	    sizeof(*l->pending_index));
	l->weak = weakpw_cache_new();
	l->alerts_seen = mw_calloc(LOGIN_ALERT_SLOTS, sizeof(*l->alerts_seen));
	if (engine_has_loop(e))
		l->coalesce = mw_calloc(LOGIN_COALESCE_SLOTS,
		    sizeof(*l->coalesce));
	*l_r = l;
	/* The networks each account used recently: known-good from the
	   first request on. */
	if (store_login_net_query(engine_store(e), NULL, (int64_t)time(NULL) -
	    (int64_t)cfg->login.known_ttl, login_load_net, l) < 0) {
		if (asprintf(error_r, "loading login networks: %s",
		    store_last_error(engine_store(e))) < 0)
			*error_r = NULL;
		engine_login_free(l_r);
		return -1;
	}
	return 0;
}

void
engine_login_free(struct engine_login **lp)
{
	struct engine_login *l = *lp;

	if (l == NULL)
		return;
	login_flush_pending(l);
	login_coalesce_flush(l);
	free(l->coalesce);
	free(l->alerts_seen);
	free(l->pending);
	free(l->pending_index);
	weakpw_cache_free(&l->weak);
	bf_free(&l->bf);
	free(l);
	*lp = NULL;
}

void
engine_login_reload(struct engine_login *l, const struct cfg *cfg)
{
	struct bf_config c;

	l->cfg = cfg;
	bf_config_from_cfg(cfg, &c);
	bf_set_config(l->bf, &c);
}

void
engine_login_tick(struct engine_login *l)
{
	struct bf_stats s;
	int64_t		now = (int64_t)time(NULL);

	if (l->pending_learned || now - l->last_net_flush >= LOGIN_NET_REFRESH_S) {
		login_flush_pending(l);
		l->last_net_flush = now;
	}
	login_coalesce_flush(l);
	(void)bf_expire(l->bf, now, LOGIN_EXPIRE_SCAN);
	bf_get_stats(l->bf, &s);
	if (s.evicted > 0 && !l->full_logged) {
		log_warn("login: a tracking table is full (addresses %zu, "
		    "networks %zu, accounts %zu, account+address %zu); the "
		    "least recently seen entries are dropped (raise [login] "
		    "max_* to keep more)", s.addresses, s.networks, s.accounts,
		    s.pairs);
		l->full_logged = true;
	}
}

void
engine_login_forget(struct engine_login *l, const struct mw_cidr *net)
{
	bf_forget(l->bf, net);
}

/* --- helpers ---------------------------------------------------------- */

static const char *
login_source(const struct auth_observation *o)
{
	return o->source != NULL && o->source[0] != '\0' ? o->source :
	    "authpolicy";
}

static const char *
login_account(const struct auth_observation *o)
{
	return o->account != NULL ? o->account : "";
}

static int64_t
login_time_ms(const struct auth_observation *o)
{
	return o->time_ms > 0 ? o->time_ms : login_now_ms();
}

static void
login_event(struct engine_login *l, const struct auth_observation *o,
    const struct mw_addr *addr, const char *verdict, const char *reason)
{
	struct store_event ev = {
		.time_ms = login_time_ms(o), .addr = *addr,
		.listener = login_source(o), .verdict = verdict,
		.reason = reason, .account = login_account(o),
		.sender = "", .recipient = "",
	};

	store_event_append(engine_store(l->e), &ev);
}

static const char login_verdict_reject[] = "REJECT";
static const char login_verdict_tarpit[] = "TARPIT";
static const char login_verdict_ok[] = "AUTH_OK";
static const char login_verdict_fail[] = "AUTH_FAIL";

/* An event merged with its repeats (see struct login_coalesced): login
   is true for AUTH_OK/AUTH_FAIL, false for TARPIT/REJECT. verdict is
   one of the login_verdict_* strings (merging compares the pointers).
   True when it was merged into an earlier event of this tick (a repeat:
   with o->merge_log the tick logs how many); false when it started one
   or is an event of its own (coalescing off, or the slots near its hash
   taken). */
static bool
login_merged_event(struct engine_login *l, const struct auth_observation *o,
    const char *verdict, bool login, const char *reason)
{
	struct store_event ev = {
		.time_ms = login_time_ms(o), .addr = o->addr,
		.listener = login_source(o), .verdict = verdict,
		.reason = reason, .account = login_account(o), .sender = "",
		.recipient = "",
	};
	bool repeat = false;

	if (!login_coalesce(l, &ev, login, !login && o->merge_log, &repeat))
		store_event_append(engine_store(l->e), &ev);
	return repeat;
}

/* True for a repeat (see login_merged_event). */
static bool
login_refusal(struct engine_login *l, const struct auth_observation *o,
    bool reject, const char *reason)
{
	return login_merged_event(l, o, reject ? login_verdict_reject :
	    login_verdict_tarpit, false, reason);
}

static void
login_auth_event(struct engine_login *l, const struct auth_observation *o,
    bool failure, const char *reason)
{
	(void)login_merged_event(l, o, failure ? login_verdict_fail :
	    login_verdict_ok, true, reason);
}

/* The account name fit for a log line. */
static const char *
login_quote(struct mw_arena *a, const char *account)
{
	return mw_sanitize(a, mw_slice_from_cstr(account), LOGIN_QUOTE_MAX);
}

/* How long the next login-guard ban of net lasts: ban_time, doubled for
   every earlier ban within escalation_period, at most ban_max; past
   ban_max permanent (0) when ban_permanent is set. */
static uint64_t
login_ban_duration(struct engine_login *l, unsigned level)
{
	uint64_t d = l->cfg->login.ban_time, max = l->cfg->login.ban_max;

	for (unsigned i = 0; i < level; i++) {
		if (d >= max) {
			if (l->cfg->login.ban_permanent)
				return 0;
			break;
		}
		d = d > max / 2 ? max : d * 2;
	}
	return d > max ? max : d;
}

/* Bans net for the rules' reason, unless the allow list covers it or an
   active ban already does. */
static void
login_ban(struct engine_login *l, const struct auth_observation *o,
    const struct mw_cidr *net, const char *reason)
{
	struct engine_list_entry le;
	struct store_ban	 old, b;
	struct store_escalation	 esc = { .net = *net };
	enum store_ban_source	 source;
	const char		*error;
	char			 text[MW_CIDR_STRLEN], dur[32], why[96] = "";
	uint64_t		 duration;
	int64_t			 now = (int64_t)time(NULL);
	int			 found;

	mw_cidr_format(net, text, sizeof(text));
	if (engine_list_match(l->e, STORE_LIST_ALLOW, &net->addr, &le)) {
		log_info("login: %s: not banned (allow list): %s", text, reason);
		return;
	}
	if (engine_ban_find(l->e, &net->addr, &old) && old.net.bits <= net->bits)
		return;	/* already refused */
	source = strcmp(login_source(o), "logwatch") == 0 ?
	    STORE_BAN_LOGWATCH : STORE_BAN_LOGIN;
	/* Escalation: banned again within escalation_period of the last
	   login-guard ban, one level up (the ban time doubles). */
	if ((found = store_escalation_get(engine_store(l->e), net, &esc)) < 0)
		log_warn("login: reading the escalation of %s: %s; banning as a "
		    "first offence", text, store_last_error(engine_store(l->e)));
	if (found > 0 && now - esc.last_ban <=
	    (int64_t)l->cfg->login.escalation_period) {
		esc.level++;
		(void)snprintf(why, sizeof(why), ", repeat offender: ban %u "
		    "within %s", esc.bans + 1, mw_format_duration(
		    l->cfg->login.escalation_period, dur, sizeof(dur)));
	} else {
		esc.level = 0;
	}
	if (found <= 0)
		esc.bans = 0;
	esc.bans++;
	esc.last_ban = now;
	duration = login_ban_duration(l, esc.level);
	if (engine_ban_add(l->e, net, duration, source, reason, &b,
	    &error) < 0) {
		log_error("login: ban %s: %s", text, error);
		return;
	}
	l->stats.bans++;
	if (store_escalation_put(engine_store(l->e), &esc) < 0)
		log_warn("login: saving the escalation of %s: %s", text,
		    store_last_error(engine_store(l->e)));
	if (duration == 0)
		(void)snprintf(dur, sizeof(dur), "permanently");
	else {
		char d[24];

		(void)snprintf(dur, sizeof(dur), "for %s",
		    mw_format_duration(duration, d, sizeof(d)));
	}
	log_info("login: ban %s %s (%s%s): %s", text, dur,
	    store_ban_source_name(source), why, reason);
	{
		char ev_reason[STORE_MAX_TEXT];

		(void)snprintf(ev_reason, sizeof(ev_reason), "%s %s: %s", text,
		    dur, reason);
		login_event(l, o, &net->addr, "BAN", ev_reason);
	}
}

/* A JSON string literal of s (the evidence is built without jansson:
   the engine does not link it). */
static void
login_json_str(struct mw_buf *b, const char *s)
{
	MW_ASSERT(mw_buf_append(b, "\"", 1) == 0);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			MW_ASSERT(mw_buf_printf(b, "\\%c", c) == 0);
		else if (c < 0x20 || c == 0x7f)
			MW_ASSERT(mw_buf_printf(b, "\\u%04x", c) == 0);
		else
			MW_ASSERT(mw_buf_append(b, s, 1) == 0);
	}
	MW_ASSERT(mw_buf_append(b, "\"", 1) == 0);
}

static const char *const login_alert_kinds[] = {
	[BF_ALERT_NONE] = "distributed_attack",
	[BF_ALERT_AFTER_FAILURES] = "after_failures",
	[BF_ALERT_NEW_NETWORK] = "new_network",
};

/* True when the same alert (account, network, kind) was raised less
   than alert_interval ago; otherwise remembers this one. The table is
   bounded: a full neighbourhood gives up its entry that ends first. */
static bool
login_alert_repeated(struct engine_login *l, const char *account,
    const struct mw_cidr *net, enum bf_alert_kind kind, int64_t now)
{
	struct login_alert_seen	*victim = NULL;
	uint64_t		 key;

	if (l->cfg->login.alert_interval == 0)
		return false;
	key = mw_hash_bytes(account, strlen(account),
	    mw_addr_hash(&net->addr) ^ ((uint64_t)net->bits << 8) ^
	    (uint64_t)kind);
	if (key == 0)
		key = 1;
	for (size_t probe = 0; probe < LOGIN_ALERT_PROBE; probe++) {
		struct login_alert_seen *s = &l->alerts_seen[((size_t)key +
		    probe) & (LOGIN_ALERT_SLOTS - 1)];

		if (s->key == key) {
			if (s->until > now) {
				l->stats.alerts_repeated++;
				return true;
			}
			victim = s;
		} else if (victim == NULL || s->until < victim->until)
			victim = s;
	}
	victim->key = key;
	victim->until = now + (int64_t)l->cfg->login.alert_interval;
	return false;
}

/* Stores an alert (kind BF_ALERT_NONE: a distributed attack), logs it
   and records an event. Evidence: numbers and networks, never a hash. */
static void
login_alert(struct engine_login *l, const struct auth_observation *o,
    enum bf_alert_kind kind, const char *reason, const struct bf_result *r,
    struct mw_arena *a)
{
	struct store		*st = engine_store(l->e);
	struct bf_account_info	 ai;
	struct mw_cidr		 net;
	struct mw_buf		 ev;
	struct store_alert	 al;
	char			 text[MW_CIDR_STRLEN], addr[MW_ADDR_STRLEN];
	int64_t			 id = 0, now = login_time_ms(o) / 1000;

	bf_network_of(l->bf, &o->addr, &net);
	/* An attack on the account comes from everywhere: one per account. */
	if (login_alert_repeated(l, login_account(o), kind == BF_ALERT_NONE ?
	    &(struct mw_cidr){ .bits = 0 } : &net, kind, now)) {
		log_debug("login: account %s: %s (alert already raised within "
		    "alert_interval)", login_quote(a, login_account(o)), reason);
		return;
	}
	mw_buf_init(&ev, a, 0);
	MW_ASSERT(mw_buf_printf(&ev, "{\"source\":") == 0);
	login_json_str(&ev, login_source(o));
	MW_ASSERT(mw_buf_printf(&ev, ",\"service\":") == 0);
	login_json_str(&ev, o->service != NULL ? o->service : "");
	MW_ASSERT(mw_buf_printf(&ev, ",\"window\":%llu,\"address_failures\":%u,"
	    "\"account_failures\":%u,\"account_address_failures\":%u,"
	    "\"address_accounts\":%u,\"account_addresses\":%u,"
	    "\"network\":\"%s\",\"known_networks\":[",
	    (unsigned long long)l->cfg->login.window, r->addr_failures,
	    r->account_failures, r->pair_failures, r->addr_accounts,
	    r->account_addresses, mw_cidr_format(&net, text, sizeof(text))) == 0);
	if (bf_account_info(l->bf, login_account(o), now, &ai))
		for (size_t i = 0; i < ai.nknown; i++)
			MW_ASSERT(mw_buf_printf(&ev, "%s\"%s\"", i > 0 ? "," : "",
			    mw_cidr_format(&ai.known[i].net, text,
			    sizeof(text))) == 0);
	MW_ASSERT(mw_buf_printf(&ev, "]}") == 0);
	al = (struct store_alert){ .time = now, .account = login_account(o),
	    .addr = o->addr, .kind = login_alert_kinds[kind], .reason = reason,
	    .evidence = mw_buf_cstr(&ev) };
	if (store_alert_add(st, &al, &id) < 0)
		log_error("login: saving an alert: %s", store_last_error(st));
	l->stats.alerts++;
	mw_addr_format(&o->addr, addr, sizeof(addr));
	if (kind == BF_ALERT_NONE)
		log_warn("login: alert %lld: account %s under attack: %s",
		    (long long)id, login_quote(a, login_account(o)), reason);
	else
		log_warn("login: alert %lld: possible takeover of %s from %s: %s",
		    (long long)id, login_quote(a, login_account(o)), addr,
		    reason);
	login_event(l, o, &o->addr, "ALERT", mw_arena_printf(a, "alert %lld "
	    "(%s): %s", (long long)id, al.kind, reason));
}

/* --- check and report --------------------------------------------------- */

static void
login_check(struct engine *e, const struct auth_observation *o,
    struct mw_arena *a, struct auth_verdict *v)
{
	struct engine_login	*l = engine_login_of(e);
	struct engine_list_entry le;
	struct store_ban	 ban;
	struct bf_verdict	 bv;
	char			 net[MW_CIDR_STRLEN];
	int64_t			 now;

	*v = (struct auth_verdict){ .kind = AUTH_VERDICT_ALLOW,
	    .reason = "no objection" };
	l->stats.checks++;
	if (!o->has_addr) {
		v->reason = "client address unknown";
		return;
	}
	if (engine_list_match(e, STORE_LIST_ALLOW, &o->addr, &le)) {
		v->reason = mw_arena_printf(a, "allow list %s",
		    mw_cidr_format(&le.e.net, net, sizeof(net)));
		return;
	}
	if (engine_list_match(e, STORE_LIST_DENY, &o->addr, &le)) {
		v->kind = AUTH_VERDICT_REJECT;
		v->reason = mw_arena_printf(a, "deny list %s",
		    mw_cidr_format(&le.e.net, net, sizeof(net)));
	} else if (engine_ban_match_hit(e, &o->addr, &ban)) {
		v->kind = AUTH_VERDICT_REJECT;
		v->reason = mw_arena_printf(a, "banned %s (%s): %s",
		    mw_cidr_format(&ban.net, net, sizeof(net)),
		    store_ban_source_name(ban.source), ban.reason);
	} else if (l->cfg->login.enabled) {
		now = login_time_ms(o) / 1000;
		bf_check(l->bf, &o->addr, login_account(o), now, &bv);
		if (bv.kind == BF_TARPIT) {
			v->kind = AUTH_VERDICT_TARPIT;
			v->delay_s = bv.delay_s;
		} else if (bv.kind == BF_REJECT) {
			v->kind = AUTH_VERDICT_REJECT;
		}
		v->reason = mw_arena_strdup(a, bv.reason[0] != '\0' ?
		    bv.reason : "no objection");
	}
	if (v->kind == AUTH_VERDICT_TARPIT) {
		l->stats.tarpits++;
		v->repeat = login_refusal(l, o, false, mw_arena_printf(a,
		    "%u s: %s", v->delay_s, v->reason));
	} else if (v->kind == AUTH_VERDICT_REJECT) {
		l->stats.rejects++;
		v->repeat = login_refusal(l, o, true, v->reason);
	}
}

/* The index of the common password the observation's hash stands for,
   -1 when it is none of them, -2 when it was not compared (no hash,
   check disabled, or another hash length than the configured
   auth_policy_hash_truncate). */
static int
login_common_pw(struct engine_login *l, const struct auth_observation *o)
{
	uint32_t bits = l->cfg->authpolicy.hash_truncate;

	if (!l->cfg->login.weak_password || o->pwhash_bits == 0 ||
	    login_account(o)[0] == '\0' ||
	    o->pwhash_bits != (bits == 0 ? 256 : bits))
		return -2;
	return weakpw_match(l->weak, l->cfg->authpolicy.hash_nonce,
	    login_account(o), bits, o->pwhash);
}

/* A success with a hash: flag the account when its password is a
   common one, clear the flag once it is not any more. */
static void
login_weak_update(struct engine_login *l, const struct auth_observation *o,
    int common, struct mw_arena *a)
{
	struct store	*st = engine_store(l->e);
	int64_t		 since = 0;
	int		 flagged;

	/* The store is read once per cached login, not per success. */
	if ((flagged = weakpw_flag_get(l->weak, login_account(o))) < 0) {
		if ((flagged = store_weak_get(st, login_account(o),
		    &since)) < 0) {
			log_warn("login: reading a weak-password flag: %s",
			    store_last_error(st));
			return;
		}
		weakpw_flag_set(l->weak, login_account(o), flagged);
	}
	if (common >= 0 && flagged == 0) {
		if (store_weak_put(st, login_account(o), login_time_ms(o) /
		    1000) < 0) {
			log_warn("login: saving a weak-password flag: %s",
			    store_last_error(st));
			return;
		}
		weakpw_flag_set(l->weak, login_account(o), 1);
		log_warn("login: account %s: a successful login used one of the "
		    "most common passwords; flagged for a password change",
		    login_quote(a, login_account(o)));
		login_event(l, o, &o->addr, "WEAK_PASSWORD", "a successful login "
		    "used one of the most common passwords");
	} else if (common < 0 && flagged > 0) {
		if (store_weak_put(st, login_account(o), 0) < 0) {
			log_warn("login: clearing a weak-password flag: %s",
			    store_last_error(st));
			return;
		}
		weakpw_flag_set(l->weak, login_account(o), 0);
		log_info("login: account %s: the password is no longer a common "
		    "one; weak-password flag cleared",
		    login_quote(a, login_account(o)));
	}
}

/* A success: the network is queued by the next tick, one batch for all
   of the tick's successes (new networks and refreshed ones alike), which
   the store's writer thread saves: a login never waits for a commit. A
   crash loses at most a tick and a flush of them: a network is learned
   again by its next success. */
static void
login_remember(struct engine_login *l, const struct auth_observation *o,
    bool learned, int64_t now)
{
	struct mw_cidr		 net;
	const char		*account = login_account(o);
	struct login_pending	*p;
	uint64_t		 h;
	size_t			 slot;

	bf_network_of(l->bf, &o->addr, &net);
	h = mw_hash_bytes(account, strnlen(account, STORE_MAX_TEXT),
	    mw_addr_hash(&net.addr) ^ net.bits);
	for (slot = (size_t)h & (LOGIN_NET_INDEX - 1);
	    l->pending_index[slot] != 0;
	    slot = (slot + 1) & (LOGIN_NET_INDEX - 1)) {
		p = &l->pending[l->pending_index[slot] - 1];
		if (p->hash == h && p->net.bits == net.bits &&
		    mw_cidr_contains(&p->net, &o->addr) &&
		    strcmp(p->account, account) == 0) {
			p->first = now < p->first ? now : p->first;
			p->last = now > p->last ? now : p->last;
			p->successes++;
			return;
		}
	}
	if (l->npending == LOGIN_NET_BATCH) {
		if (!learned) {
			l->pending_dropped++;	/* only a last_success refresh */
			return;
		}
		/* A new network is not dropped: save the batch now. */
		login_flush_pending(l);
		slot = (size_t)h & (LOGIN_NET_INDEX - 1);
	}
	l->pending_learned |= learned;
	l->pending_index[slot] = (uint16_t)(l->npending + 1);
	l->pending[l->npending++] = (struct login_pending){
	    .account = mw_strndup(account, strnlen(account, STORE_MAX_TEXT)),
	    .hash = h, .net = net, .first = now, .last = now, .successes = 1 };
}

static void
login_report(struct engine *e, const struct auth_observation *o)
{
	struct engine_login	*l = engine_login_of(e);
	struct bf_attempt	 at;
	struct bf_result	 r;
	struct mw_arena		*a = NULL;
	struct mw_cidr		 host;
	char			 win[32];
	bool			 failure = o->phase == AUTH_PHASE_FAILURE;
	int			 common;
	int64_t			 now, when;

	if (!o->has_addr || o->phase == AUTH_PHASE_BEFORE)
		return;
	if (failure)
		l->stats.failures++;
	else
		l->stats.successes++;
	if (!l->cfg->login.enabled) {
		login_auth_event(l, o, failure, o->service != NULL ?
		    o->service : "");
		return;
	}
	/* An attempt older than the window (a log read after a long
	   downtime) is history, not an attack to act on now; one from the
	   future (a log's guessed year, clock skew) counts as now, so that
	   it cannot push the windows past the present. */
	now = (int64_t)time(NULL);
	when = login_time_ms(o) / 1000;
	if (when < now - (int64_t)l->cfg->login.window) {
		l->stats.stale++;
		login_auth_event(l, o, failure, "older than the window (not "
		    "counted)");
		return;
	}
	if (when > now)
		when = now;
	common = login_common_pw(l, o);
	at = (struct bf_attempt){
		.addr = o->addr, .account = login_account(o),
		.service = o->service != NULL ? o->service : "",
		.phase = failure ? BF_FAILURE : BF_SUCCESS,
		.has_pwfp = o->pwhash_bits > 0,
		.common_pw = failure && common >= 0 ? common : -1,
		.now = when,
	};
	if (at.has_pwfp)
		at.pwfp = bf_pwfp(o->pwhash, o->pwhash_bits);
	bf_report(l->bf, &at, &r);
	if (!r.counted)
		l->stats.repeats++;
	login_auth_event(l, o, failure, !r.counted ? "same wrong password "
	    "again (not counted)" : o->service != NULL ? o->service : "");
	/* Texts of alerts need an arena; most reports (a success from a
	   known network) raise none and allocate nothing. */
	if (r.account_attacked || r.alert != BF_ALERT_NONE ||
	    (!failure && common != -2))
		a = mw_arena_new(1024);
	if (r.account_attacked)
		login_alert(l, o, BF_ALERT_NONE, mw_arena_printf(a, "failed "
		    "logins from %u addresses in %s; attempts from addresses "
		    "that never logged in to it are %s", r.account_addresses,
		    mw_format_duration(l->cfg->login.window, win,
		    sizeof(win)), l->cfg->login.distributed_reject ?
		    "refused" : "delayed"), &r, a);
	if (r.ban_address) {
		mw_cidr_from_addr(&o->addr, 128, &host);
		login_ban(l, o, &host, r.address_reason);
	}
	if (r.ban_network)
		login_ban(l, o, &r.network, r.network_reason);
	if (r.alert != BF_ALERT_NONE)
		login_alert(l, o, r.alert, r.alert_reason, &r, a);
	if (!failure && login_account(o)[0] != '\0')
		login_remember(l, o, r.learned, at.now);
	if (!failure && common != -2)
		login_weak_update(l, o, common, a);
	mw_arena_free(&a);
}

const char *
engine_account_fold(const char *account, char *buf, size_t size)
{
	size_t i = 0;

	MW_ASSERT(size > 0);
	if (account == NULL)
		account = "";
	/* ASCII only: Dovecot's default auth_username_format %Lu folds
	   the same way, and "Alice" must not be a second account that
	   resets the counts of "alice". */
	for (; account[i] != '\0' && i + 1 < size; i++) {
		char c = account[i];

		buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	buf[i] = '\0';
	return buf;
}

void
engine_auth_check(struct engine *e, const struct auth_observation *o,
    struct mw_arena *a, struct auth_verdict *v_r)
{
	struct auth_observation	 n = *o;
	char			 account[ENGINE_ACCOUNT_MAX + 1];

	n.account = engine_account_fold(o->account, account, sizeof(account));
	login_check(e, &n, a, v_r);
}

void
engine_auth_report(struct engine *e, const struct auth_observation *o)
{
	struct auth_observation	 n = *o;
	char			 account[ENGINE_ACCOUNT_MAX + 1];

	n.account = engine_account_fold(o->account, account, sizeof(account));
	login_report(e, &n);
	sodium_memzero(n.pwhash, sizeof(n.pwhash));
}

void
engine_login_flush(struct engine_login *l)
{
	login_flush_pending(l);
	login_coalesce_flush(l);
}

void
engine_login_get_stats(struct engine *e, struct engine_login_stats *s_r)
{
	struct engine_login	*l = engine_login_of(e);
	struct bf_stats		 bs;

	bf_get_stats(l->bf, &bs);
	*s_r = l->stats;
	s_r->addresses = bs.addresses;
	s_r->networks = bs.networks;
	s_r->accounts = bs.accounts;
	s_r->pairs = bs.pairs;
	s_r->evicted = bs.evicted;
	s_r->bytes = bs.bytes;
}

/* --- queries for the admin API ------------------------------------------- */

static void
login_account_from(const struct bf_account_info *i, struct engine_account *a)
{
	a->failures = i->failures;
	a->addresses = i->addresses;
	a->under_attack = i->under_attack;
	a->attacked_since = i->attacked_since;
	a->last_failure = i->last_failure;
	a->last_success = i->last_success;
}

bool
engine_account_get(struct engine *e, const char *account,
    struct engine_account *a_r)
{
	struct engine_login	*l = engine_login_of(e);
	struct bf_account_info	 i;
	char			 folded[ENGINE_ACCOUNT_MAX + 1];

	*a_r = (struct engine_account){ .account = account,
	    .window_s = (uint32_t)l->cfg->login.window };
	if (!bf_account_info(l->bf, engine_account_fold(account, folded,
	    sizeof(folded)), (int64_t)time(NULL), &i))
		return false;
	login_account_from(&i, a_r);
	return true;
}

struct login_walk {
	engine_account_fn	*fn;
	void			*ctx;
	uint32_t		 window_s;
};

static bool
login_walk_fn(void *ctx, const char *account, const struct bf_account_info *i)
{
	struct login_walk	*w = ctx;
	struct engine_account	 a = { .account = account,
	    .window_s = w->window_s };

	login_account_from(i, &a);
	return w->fn(w->ctx, &a);
}

void
engine_account_walk(struct engine *e, engine_account_fn *fn, void *ctx)
{
	struct engine_login	*l = engine_login_of(e);
	struct login_walk	 w = { fn, ctx, (uint32_t)l->cfg->login.window };

	bf_account_walk(l->bf, (int64_t)time(NULL), login_walk_fn, &w);
}

void
engine_login_explain(struct engine *e, const struct mw_addr *a,
    struct engine_login_explain *x)
{
	struct engine_login	*l = engine_login_of(e);
	struct bf_addr_info	 i;
	struct mw_cidr		 host;
	int			 found;

	memset(x, 0, sizeof(*x));
	x->window_s = (uint32_t)l->cfg->login.window;
	(void)bf_addr_info(l->bf, a, (int64_t)time(NULL), &i);
	x->failures = i.failures;
	x->accounts = i.accounts;
	x->network = i.network;
	x->net_failures = i.net_failures;
	x->net_accounts = i.net_accounts;
	x->last_seen = i.last_seen;
	mw_cidr_from_addr(a, 128, &host);
	found = store_escalation_get(engine_store(e), &host, &x->escalation);
	if (found < 0)
		log_warn("login: reading the escalation of an address: %s",
		    store_last_error(engine_store(e)));
	x->has_escalation = found > 0;
}

struct login_ack_find {
	bool		 found;
	bool		 acked;
	char		 by[64];
	int64_t		 at;
};

static bool
login_ack_find_fn(void *ctx, const struct store_alert *al)
{
	struct login_ack_find *f = ctx;

	f->found = true;
	f->acked = al->ack_at != 0;
	f->at = al->ack_at;
	(void)snprintf(f->by, sizeof(f->by), "%s", al->ack_by);
	return false;
}

int
engine_alert_ack(struct engine *e, int64_t id, const char *by,
    struct mw_arena *a, const char **error_r)
{
	struct store		*st = engine_store(e);
	struct store_alert_query q = { .all = true, .id = id, .limit = 1 };
	struct login_ack_find	 f = { 0 };
	int			 ret;

	if (store_alert_query(st, &q, login_ack_find_fn, &f) < 0) {
		log_error("login: alert %lld: %s", (long long)id,
		    store_last_error(st));
		*error_r = "the store could not be read (see the daemon log)";
		return -1;
	}
	if (!f.found)
		return 0;
	if (f.acked) {
		char when[32];
		time_t t = (time_t)f.at;
		struct tm tm;

		(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime_r(&t, &tm));
		*error_r = mw_arena_printf(a, "alert %lld was already "
		    "acknowledged by %s at %s", (long long)id, f.by, when);
		return -2;
	}
	if ((ret = store_alert_ack(st, id, by, (int64_t)time(NULL))) < 0) {
		log_error("login: alert %lld: %s", (long long)id,
		    store_last_error(st));
		*error_r = "the store refused the change (see the daemon log)";
		return -1;
	}
	return ret;
}
