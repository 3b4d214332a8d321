/*
 * demo - `mailwardd --demo`: a generated attack replayed through the real
 * engine, so a new user sees the dashboard fill within a minute.
 *
 * The demo runs only on a state directory of its own: demo_prepare
 * refuses a directory whose store was not made by a demo (a marker file,
 * DEMO, is written beside a new store), so demo data never lands in a
 * production store. It creates (or resets) the admin "demo" with a fresh
 * random password, printed once. The attack (about 60 s): password
 * guessing on IMAP and POP3 (login failures through engine_auth_report,
 * which bans), a spraying run over many accounts, a distributed attack
 * on one account, a success after failures (an alert), DNSBL-listed
 * senders (bans of source dnsbl) refused by the policy decisions that
 * follow, and ordinary clients; then a trickle of traffic every few
 * seconds. Addresses are from the documentation ranges (RFC 5737).
 * The firewall is never touched in demo mode (the daemon skips it).
 */
#ifndef MW_DAEMON_DEMO_H
#define MW_DAEMON_DEMO_H

#include <stdbool.h>

#include "core/cfg.h"
#include "core/mem.h"

struct event_base;
struct engine;
struct store;
struct demo;

#define DEMO_ADMIN	"demo"

/* Before the store is opened: 0 when cfg's state directory holds no
   store yet (then the marker is written) or a demo's store (which is
   then removed: every demo starts afresh); -1 with a message logged
   otherwise. */
int	 demo_prepare(const struct cfg *cfg) MW_MUST_CHECK;
/* Creates or resets the admin "demo"; *password_r (malloc'd) is the new
   password. */
int	 demo_admin(struct store *st, char **password_r) MW_MUST_CHECK;
/* Starts the replay on base. */
struct demo *demo_start(struct event_base *base, struct engine *e);
void	 demo_free(struct demo **d);

#endif
