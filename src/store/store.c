/*
 * store - backend selection and dispatch through a const vtable.
 *
 * store_open picks the backend named by cfg->store.backend; every other
 * function forwards to it. Only "sqlite" is built today; "redis" is a
 * known name so the admin gets a clear message instead of "unknown".
 * Ban source names are part of the stored data and of the admin API:
 * never rename one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store_int.h"

static const struct store_backend *const store_backends[] = {
	&store_backend_sqlite,
};

static const char *const store_source_names[] = {
	[STORE_BAN_MANUAL] = "manual",
	[STORE_BAN_DNSBL] = "dnsbl",
	[STORE_BAN_LOGIN] = "login",
	[STORE_BAN_LOGWATCH] = "logwatch",
};

static void
store_fail_open(char **error_r, const char *fmt, ...) MW_PRINTF(2, 3);

static void
store_fail_open(char **error_r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (vasprintf(error_r, fmt, ap) < 0)
		mw_panic("vasprintf: out of memory");
	va_end(ap);
}

int
store_open(const struct cfg *cfg, struct store **store_r, char **error_r)
{
	const char			*name = cfg->store.backend;
	const struct store_backend	*be = NULL;
	struct store			*st;

	*store_r = NULL;
	*error_r = NULL;
	if (name == NULL || name[0] == '\0')
		name = "sqlite";
	for (size_t i = 0; i < MW_N_ELEMENTS(store_backends); i++) {
		if (strcmp(store_backends[i]->name, name) == 0)
			be = store_backends[i];
	}
	if (be == NULL) {
		if (strcmp(name, "redis") == 0)
			store_fail_open(error_r, "store backend redis is not "
			    "available in this build");
		else
			store_fail_open(error_r, "store backend \"%.64s\" is "
			    "unknown; use \"sqlite\"", name);
		return -1;
	}
	if (cfg->store.path == NULL || cfg->store.path[0] == '\0') {
		store_fail_open(error_r, "store: no database path configured");
		return -1;
	}
	st = mw_calloc(1, sizeof(*st));
	st->backend = be;
	if (be->open(st, cfg, error_r) < 0) {
		free(st);
		return -1;
	}
	*store_r = st;
	return 0;
}

void
store_close(struct store **stp)
{
	struct store *st = *stp;

	if (st == NULL)
		return;
	st->backend->close(st);
	free(st);
	*stp = NULL;
}

void
store_set_error(struct store *st, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	/* A cut error text is still the useful part: its start. */
	(void)vsnprintf(st->error, sizeof(st->error), fmt, ap);
	va_end(ap);
}

const char *
store_last_error(struct store *st)
{
	return st->error[0] != '\0' ? st->error : "no error";
}

size_t
store_text_cut(const char *s, size_t max)
{
	size_t	 len = strnlen(s, max + 1);

	if (len <= max)
		return len;
	len = max;
	/* Back off over at most 3 continuation bytes (10xxxxxx) so the cut
	   falls before the lead byte of the split character. */
	for (unsigned i = 0; i < 3 && len > 0 &&
	    ((unsigned char)s[len] & 0xc0) == 0x80; i++)
		len--;
	if (((unsigned char)s[len] & 0xc0) == 0x80)
		return max;	/* not UTF-8 anyway: cut at the byte limit */
	return len;
}

int
store_ban_put(struct store *st, const struct store_ban *b)
{
	return st->backend->ban_put(st, b);
}

int
store_ban_put_many(struct store *st, const struct store_ban *b, size_t n)
{
	return st->backend->ban_put_many(st, b, n);
}

int
store_ban_del(struct store *st, const struct mw_cidr *net)
{
	return st->backend->ban_del(st, net);
}

int
store_ban_load(struct store *st, store_ban_fn *fn, void *ctx)
{
	return st->backend->ban_load(st, fn, ctx);
}

int
store_ban_purge(struct store *st, int64_t now, size_t limit)
{
	return st->backend->ban_purge(st, now, limit);
}

int
store_ban_touch(struct store *st, const struct mw_cidr *nets,
    const uint32_t *hits, const int64_t *last_seen, size_t n)
{
	return st->backend->ban_touch(st, nets, hits, last_seen, n);
}

int
store_list_put(struct store *st, const struct store_list_entry *e)
{
	return st->backend->list_put(st, e);
}

int
store_list_del(struct store *st, enum store_list list,
    const struct mw_cidr *net)
{
	return st->backend->list_del(st, list, net);
}

int
store_list_load(struct store *st, store_list_fn *fn, void *ctx)
{
	return st->backend->list_load(st, fn, ctx);
}

void
store_event_append(struct store *st, const struct store_event *ev)
{
	if (st->event_hook != NULL)
		st->event_hook(st->event_hook_ctx, ev);
	st->backend->event_append(st, ev);
}

void
store_set_event_hook(struct store *st, store_event_hook_fn *fn, void *ctx)
{
	st->event_hook = fn;
	st->event_hook_ctx = fn != NULL ? ctx : NULL;
}

int
store_admin_put(struct store *st, const struct store_admin *a)
{
	return st->backend->admin_put(st, a);
}

int
store_admin_get(struct store *st, const char *name, store_admin_fn *fn,
    void *ctx)
{
	return st->backend->admin_get(st, name, fn, ctx);
}

int
store_admin_del(struct store *st, const char *name)
{
	return st->backend->admin_del(st, name);
}

int
store_admin_list(struct store *st, store_admin_fn *fn, void *ctx)
{
	return st->backend->admin_list(st, fn, ctx);
}

int
store_audit_append(struct store *st, const struct store_audit *a)
{
	return st->backend->audit_append(st, a);
}

int
store_audit_query(struct store *st, const struct store_audit_query *q,
    store_audit_fn *fn, void *ctx)
{
	return st->backend->audit_query(st, q, fn, ctx);
}

int
store_count_query(struct store *st, int64_t since_ms, int64_t until_ms,
    store_count_fn *fn, void *ctx)
{
	return st->backend->count_query(st, since_ms, until_ms, fn, ctx);
}

int
store_event_top(struct store *st, const struct store_top_query *q,
    store_top_fn *fn, void *ctx)
{
	return st->backend->event_top(st, q, fn, ctx);
}

void
store_event_sync(struct store *st)
{
	st->backend->event_sync(st);
}

int
store_event_query(struct store *st, const struct store_event_query *q,
    store_event_fn *fn, void *ctx)
{
	return st->backend->event_query(st, q, fn, ctx);
}

int
store_alert_add(struct store *st, const struct store_alert *a, int64_t *id_r)
{
	return st->backend->alert_add(st, a, id_r);
}

int
store_alert_query(struct store *st, const struct store_alert_query *q,
    store_alert_fn *fn, void *ctx)
{
	return st->backend->alert_query(st, q, fn, ctx);
}

int
store_alert_ack(struct store *st, int64_t id, const char *by, int64_t at)
{
	return st->backend->alert_ack(st, id, by, at);
}

int
store_login_net_put_many(struct store *st, const struct store_login_net *v,
    size_t n)
{
	return st->backend->login_net_put_many(st, v, n);
}

void
store_ban_touch_queue(struct store *st, const struct mw_cidr *nets,
    const uint32_t *hits, const int64_t *last_seen, size_t n)
{
	if (n == 0)
		return;
	if (st->backend->ban_touch_queue != NULL) {
		st->backend->ban_touch_queue(st, nets, hits, last_seen, n);
		return;
	}
	if (st->backend->ban_touch(st, nets, hits, last_seen, n) < 0)
		log_warn("store: updating hit counts of %zu bans: %s", n,
		    store_last_error(st));
}

void
store_login_net_queue(struct store *st, const struct store_login_net *v,
    size_t n)
{
	if (n == 0)
		return;
	if (st->backend->login_net_queue != NULL) {
		st->backend->login_net_queue(st, v, n);
		return;
	}
	if (st->backend->login_net_put_many(st, v, n) < 0)
		log_warn("store: saving %zu login networks: %s", n,
		    store_last_error(st));
}

int
store_login_net_query(struct store *st, const char *account, int64_t since,
    store_login_net_fn *fn, void *ctx)
{
	return st->backend->login_net_query(st, account, since, fn, ctx);
}

int
store_escalation_get(struct store *st, const struct mw_cidr *net,
    struct store_escalation *e_r)
{
	return st->backend->escalation_get(st, net, e_r);
}

int
store_escalation_put(struct store *st, const struct store_escalation *e)
{
	return st->backend->escalation_put(st, e);
}

int
store_weak_put(struct store *st, const char *account, int64_t since)
{
	return st->backend->weak_put(st, account, since);
}

int
store_weak_get(struct store *st, const char *account, int64_t *since_r)
{
	return st->backend->weak_get(st, account, since_r);
}

void
store_get_stats(struct store *st, struct store_stats *stats_r)
{
	st->backend->get_stats(st, stats_r);
}

const char *
store_ban_source_name(enum store_ban_source s)
{
	if ((size_t)s < MW_N_ELEMENTS(store_source_names) &&
	    store_source_names[s] != NULL)
		return store_source_names[s];
	return "unknown";
}

int
store_ban_source_parse(const char *name, enum store_ban_source *s_r)
{
	for (size_t i = 0; i < MW_N_ELEMENTS(store_source_names); i++) {
		if (strcmp(store_source_names[i], name) == 0) {
			*s_r = (enum store_ban_source)i;
			return 0;
		}
	}
	return -1;
}

int
store_logpos_get(struct store *st, const char *name, struct store_logpos *pos_r)
{
	return st->backend->logpos_get(st, name, pos_r);
}

int
store_logpos_put(struct store *st, const char *name,
    const struct store_logpos *pos)
{
	return st->backend->logpos_put(st, name, pos);
}
