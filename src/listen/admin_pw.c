/*
 * admin_pw - argon2id password hashing and verification for the
 * dashboard's admins, on one worker thread.
 *
 * crypto_pwhash_str with libsodium's MODERATE limits (3 passes, 256 MiB)
 * takes most of a second: far too long for the event loop, which also
 * answers Postfix. One thread does the jobs in turn (a bounded memory
 * cost: one 256 MiB area at a time); at most ADMIN_PW_QUEUE jobs wait,
 * so a login flood is refused early (503) instead of queueing work.
 * Results come back through a pipe the loop watches. Passwords are
 * copied once, wiped (sodium_memzero) as soon as the job ran, and never
 * logged. An unknown admin name still costs one verification (of a dummy
 * hash made on first use), so timing does not tell names apart.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "listen/admin_int.h"

#define ADMIN_PW_OPS	crypto_pwhash_OPSLIMIT_MODERATE
#define ADMIN_PW_MEM	crypto_pwhash_MEMLIMIT_MODERATE

enum admin_pw_kind { ADMIN_PW_HASH, ADMIN_PW_VERIFY };

struct admin_pw_job {
	struct admin_pw		*pw;
	enum admin_pw_kind	 kind;
	char			*password;	/* wiped and freed after the run */
	size_t			 len;
	char			 hash[crypto_pwhash_STRBYTES];
	bool			 has_hash;	/* verify: hash given */
	bool			 ok;
	bool			 cancelled;
	admin_pw_done_fn	*fn;
	void			*ctx;
	struct admin_pw_job	*next;
};

struct admin_pw {
	struct event		*ev;
	int			 fds[2];	/* worker writes, loop reads */
	pthread_t		 thread;
	bool			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	/* under mu: */
	struct admin_pw_job	*todo, **todo_tail;
	size_t			 ntodo;
	struct admin_pw_job	*done;
	struct admin_pw_job	*running;
	bool			 stop;
	uint64_t		 last_us;
	/* worker only: */
	char			 dummy[crypto_pwhash_STRBYTES];
	bool			 has_dummy;
};

static uint64_t
admin_pw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
admin_pw_wipe(struct admin_pw_job *j)
{
	if (j->password != NULL) {
		sodium_memzero(j->password, j->len);
		free(j->password);
		j->password = NULL;
	}
}

static void
admin_pw_run(struct admin_pw *pw, struct admin_pw_job *j)
{
	if (j->kind == ADMIN_PW_HASH) {
		j->ok = crypto_pwhash_str(j->hash, j->password, j->len,
		    ADMIN_PW_OPS, ADMIN_PW_MEM) == 0;
		if (!j->ok)
			log_error("admin: password hashing failed (out of "
			    "memory? it needs %zu MiB)",
			    (size_t)(ADMIN_PW_MEM >> 20));
		return;
	}
	if (!j->has_hash) {
		/* Same work for an unknown name; the result is false. */
		if (!pw->has_dummy) {
			char dummy_pw[32];

			randombytes_buf(dummy_pw, sizeof(dummy_pw));
			pw->has_dummy = crypto_pwhash_str(pw->dummy, dummy_pw,
			    sizeof(dummy_pw), ADMIN_PW_OPS, ADMIN_PW_MEM) == 0;
		}
		/* the dummy never matches: the result is discarded */
		j->ok = pw->has_dummy && crypto_pwhash_str_verify(pw->dummy,
		    j->password, j->len) == 0 && false;
		return;
	}
	j->ok = crypto_pwhash_str_verify(j->hash, j->password, j->len) == 0;
}

static void *
admin_pw_main(void *arg)
{
	struct admin_pw		*pw = arg;
	struct admin_pw_job	*j;
	uint64_t		 t0;
	char			 one = 1;

	pthread_mutex_lock(&pw->mu);
	for (;;) {
		while (pw->todo == NULL && !pw->stop)
			pthread_cond_wait(&pw->cv, &pw->mu);
		if (pw->stop)
			break;
		j = pw->todo;
		if ((pw->todo = j->next) == NULL)
			pw->todo_tail = &pw->todo;
		pw->ntodo--;
		pw->running = j;
		pthread_mutex_unlock(&pw->mu);

		t0 = admin_pw_now_us();
		admin_pw_run(pw, j);
		admin_pw_wipe(j);

		pthread_mutex_lock(&pw->mu);
		pw->last_us = admin_pw_now_us() - t0;
		pw->running = NULL;
		j->next = pw->done;
		pw->done = j;
		/* a full pipe already holds a wake-up */
		if (write(pw->fds[1], &one, 1) < 0 && errno != EAGAIN)
			log_warn_errno("admin: password worker: cannot wake the "
			    "loop");
	}
	pthread_mutex_unlock(&pw->mu);
	return NULL;
}

/* Loop thread: runs the callbacks of finished jobs. */
static void
admin_pw_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct admin_pw		*pw = arg;
	struct admin_pw_job	*list, *next;
	char			 buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&pw->mu);
	list = pw->done;
	pw->done = NULL;
	pthread_mutex_unlock(&pw->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		if (!list->cancelled)
			list->fn(list->ctx, list->ok, list->ok &&
			    list->kind == ADMIN_PW_HASH ? list->hash : NULL);
		sodium_memzero(list->hash, sizeof(list->hash));
		free(list);
	}
}

int
admin_pw_new(struct event_base *base, struct admin_pw **pw_r, char **error_r)
{
	struct admin_pw	*pw;
	sigset_t	 all, old;
	int		 err;

	if (sodium_init() < 0) {
		*error_r = mw_strdup("libsodium cannot be initialized");
		return -1;
	}
	pw = mw_calloc(1, sizeof(*pw));
	pw->todo_tail = &pw->todo;
	pthread_mutex_init(&pw->mu, NULL);
	pthread_cond_init(&pw->cv, NULL);
	if (pipe2(pw->fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		if (asprintf(error_r, "pipe: %s", strerror(errno)) < 0)
			mw_panic("asprintf: out of memory");
		pw->fds[0] = pw->fds[1] = -1;
		admin_pw_free(&pw);
		return -1;
	}
	pw->ev = event_new(base, pw->fds[0], EV_READ | EV_PERSIST,
	    admin_pw_on_done, pw);
	if (pw->ev == NULL || event_add(pw->ev, NULL) < 0)
		mw_panic("event_new: out of memory");
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&pw->thread, NULL, admin_pw_main, pw);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		if (asprintf(error_r, "starting the password thread: %s",
		    strerror(err)) < 0)
			mw_panic("asprintf: out of memory");
		admin_pw_free(&pw);
		return -1;
	}
	pw->started = true;
	*pw_r = pw;
	return 0;
}

void
admin_pw_free(struct admin_pw **pwp)
{
	struct admin_pw		*pw = *pwp;
	struct admin_pw_job	*j, *next;

	if (pw == NULL)
		return;
	if (pw->started) {
		pthread_mutex_lock(&pw->mu);
		pw->stop = true;
		pthread_cond_signal(&pw->cv);
		pthread_mutex_unlock(&pw->mu);
		pthread_join(pw->thread, NULL);
	}
	for (j = pw->todo; j != NULL; j = next) {
		next = j->next;
		admin_pw_wipe(j);
		free(j);
	}
	for (j = pw->done; j != NULL; j = next) {
		next = j->next;
		free(j);
	}
	if (pw->ev != NULL)
		event_free(pw->ev);
	if (pw->fds[0] >= 0)
		close(pw->fds[0]);
	if (pw->fds[1] >= 0)
		close(pw->fds[1]);
	sodium_memzero(pw->dummy, sizeof(pw->dummy));
	pthread_cond_destroy(&pw->cv);
	pthread_mutex_destroy(&pw->mu);
	free(pw);
	*pwp = NULL;
}

static struct admin_pw_job *
admin_pw_submit(struct admin_pw *pw, enum admin_pw_kind kind,
    const char *hash, const char *password, size_t len,
    admin_pw_done_fn *fn, void *ctx)
{
	struct admin_pw_job *j;

	MW_ASSERT(len <= ADMIN_PW_MAX);
	pthread_mutex_lock(&pw->mu);
	if (pw->ntodo >= ADMIN_PW_QUEUE) {
		pthread_mutex_unlock(&pw->mu);
		return NULL;
	}
	pthread_mutex_unlock(&pw->mu);
	j = mw_calloc(1, sizeof(*j));
	j->pw = pw;
	j->kind = kind;
	j->password = mw_malloc(len + 1);
	memcpy(j->password, password, len);
	j->password[len] = '\0';
	j->len = len;
	j->fn = fn;
	j->ctx = ctx;
	if (hash != NULL && strlen(hash) < sizeof(j->hash)) {
		memcpy(j->hash, hash, strlen(hash) + 1);
		j->has_hash = true;
	}
	pthread_mutex_lock(&pw->mu);
	*pw->todo_tail = j;
	pw->todo_tail = &j->next;
	pw->ntodo++;
	pthread_cond_signal(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
	return j;
}

struct admin_pw_job *
admin_pw_hash(struct admin_pw *pw, const char *password, size_t len,
    admin_pw_done_fn *fn, void *ctx)
{
	return admin_pw_submit(pw, ADMIN_PW_HASH, NULL, password, len, fn, ctx);
}

struct admin_pw_job *
admin_pw_verify(struct admin_pw *pw, const char *hash, const char *password,
    size_t len, admin_pw_done_fn *fn, void *ctx)
{
	return admin_pw_submit(pw, ADMIN_PW_VERIFY, hash, password, len, fn,
	    ctx);
}

void
admin_pw_cancel(struct admin_pw_job **jp)
{
	struct admin_pw_job	*j = *jp, **pp;
	struct admin_pw		*pw;

	if (j == NULL)
		return;
	*jp = NULL;
	pw = j->pw;
	pthread_mutex_lock(&pw->mu);
	for (pp = &pw->todo; *pp != NULL; pp = &(*pp)->next) {
		if (*pp != j)
			continue;
		if ((*pp = j->next) == NULL)
			pw->todo_tail = pp;
		pw->ntodo--;
		pthread_mutex_unlock(&pw->mu);
		admin_pw_wipe(j);
		free(j);
		return;
	}
	/* running or done: freed by admin_pw_on_done, without a callback */
	j->cancelled = true;
	pthread_mutex_unlock(&pw->mu);
}

uint64_t
admin_pw_last_us(struct admin_pw *pw)
{
	uint64_t us;

	pthread_mutex_lock(&pw->mu);
	us = pw->last_us;
	pthread_mutex_unlock(&pw->mu);
	return us;
}
