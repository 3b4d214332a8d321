/*
 * engine_int - what engine.c shares with engine_login.c (the login guard
 * part of the engine). Loop thread only.
 */
#ifndef MW_ENGINE_ENGINE_INT_H
#define MW_ENGINE_ENGINE_INT_H

#include "engine/engine.h"

struct engine_login;

/* engine_login.c: created by engine_new after the bans and lists are
   loaded (it loads its own state from the store); freed by engine_free
   (NULL-safe); ticked by the engine's housekeeping timer. */
int	 engine_login_new(struct engine *e, const struct cfg *cfg,
	    struct engine_login **l_r, char **error_r) MW_MUST_CHECK;
void	 engine_login_free(struct engine_login **l);
void	 engine_login_reload(struct engine_login *l, const struct cfg *cfg);
void	 engine_login_tick(struct engine_login *l);
/* Saves the networks and merged events the next tick would save. */
void	 engine_login_flush(struct engine_login *l);
/* An admin lifted the ban of net: forget its failures. */
void	 engine_login_forget(struct engine_login *l, const struct mw_cidr *net);

/* engine.c */
struct engine_login *engine_login_of(struct engine *e);
/* False without an event loop (tests): nothing may wait for a tick. */
bool	 engine_has_loop(struct engine *e);
/* As engine_ban_find, and counts the refusal as a hit of the ban. */
bool	 engine_ban_match_hit(struct engine *e, const struct mw_addr *a,
	    struct store_ban *ban_r);

#endif
