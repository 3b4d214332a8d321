/*
 * test_sources_logwatch - the file follower on real files in a temporary
 * directory: start at the end, partial lines held back, rotation by
 * rename (the old file's rest first), copytruncate, resume from a saved
 * position (and not when the inode changed), a file that appears later,
 * overlong lines, and the position saved before the lines are handed on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sources/logpat.h"
#include "sources/logwatch.h"

struct t {
	char		 dir[64], path[128], rotated[128];
	char		 lines[32][64];
	size_t		 nlines;
	uint64_t	 saved_inode, saved_offset, saved_head;
	unsigned	 saves;
	uint64_t	 saved_at_line[32];	/* saved offset when each line came */
	size_t		 count;		/* every line, also past 32 */
};

static int
t_save(void *ctx, const char *path, const struct logwatch_pos *pos)
{
	struct t *t = ctx;

	assert_string_equal(path, t->path);
	t->saved_inode = pos->inode;
	t->saved_offset = pos->offset;
	t->saved_head = pos->head;
	t->saves++;
	return 0;
}

static void
t_line(void *ctx, struct mw_slice line)
{
	struct t *t = ctx;

	if (t->count++ >= 32)
		return;
	(void)snprintf(t->lines[t->nlines], sizeof(t->lines[0]), "%.*s",
	    (int)(line.len > 60 ? 60 : line.len), line.ptr);
	t->saved_at_line[t->nlines] = t->saved_offset;
	t->nlines++;
}

static void
append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static uint64_t
inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

static uint64_t
size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/mw-logwatch-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	(void)snprintf(t->path, sizeof(t->path), "%s/mail.log", t->dir);
	(void)snprintf(t->rotated, sizeof(t->rotated), "%s/mail.log.1", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	(void)unlink(t->path);
	(void)unlink(t->rotated);
	(void)rmdir(t->dir);
	free(t);
	return 0;
}

static void
poll_once(struct t *t, struct logwatch_file *f)
{
	assert_false(logwatch_file_poll(f, LOGWATCH_POLL_BYTES, t_save, t_line, t));
}

/* History is not replayed; appended lines are, a partial line only once
   it ends, and the position covering them is saved before they come. */
static void
test_end_partial_saved_first(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f;

	append(t->path, "old line\n");
	f = logwatch_file_new(t->path, NULL);
	poll_once(t, f);
	assert_int_equal(t->nlines, 0);
	assert_int_equal(t->saved_offset, 9);
	assert_int_equal(t->saved_inode, inode_of(t->path));
	append(t->path, "a\nb");
	poll_once(t, f);
	assert_int_equal(t->nlines, 1);
	assert_string_equal(t->lines[0], "a");
	assert_int_equal(t->saved_at_line[0], 11);	/* saved before "a" came */
	append(t->path, "\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 2);
	assert_string_equal(t->lines[1], "b");
	assert_int_equal(t->saved_offset, size_of(t->path));
	poll_once(t, f);
	assert_int_equal(t->nlines, 2);
	logwatch_file_free(&f);
	logwatch_file_free(&f);	/* NULL-safe */
}

/* mv + new file: what was written to the old file (even after the mv)
   comes first, then the new file from its start. */
static void
test_rotation(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f;
	struct logwatch_file_stats s;

	append(t->path, "");
	f = logwatch_file_new(t->path, NULL);
	poll_once(t, f);
	append(t->path, "c\n");
	assert_int_equal(rename(t->path, t->rotated), 0);
	append(t->rotated, "d\nunterminated");
	append(t->path, "e\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 4);
	assert_string_equal(t->lines[0], "c");
	assert_string_equal(t->lines[1], "d");
	assert_string_equal(t->lines[2], "unterminated");
	assert_string_equal(t->lines[3], "e");
	assert_int_equal(t->saved_inode, inode_of(t->path));
	assert_int_equal(t->saved_offset, 2);
	logwatch_file_get_stats(f, &s);
	assert_int_equal(s.rotations, 1);
	/* the path missing for a while (between mv and create) is no error */
	assert_int_equal(rename(t->path, t->rotated), 0);
	poll_once(t, f);
	append(t->path, "f\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 5);
	assert_string_equal(t->lines[4], "f");
	logwatch_file_free(&f);
}

/* copytruncate: the size drops below the position; read from 0. */
static void
test_truncation(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f;
	struct logwatch_file_stats s;

	append(t->path, "");
	f = logwatch_file_new(t->path, NULL);
	poll_once(t, f);
	append(t->path, "one\ntwo\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 2);
	assert_int_equal(truncate(t->path, 0), 0);
	append(t->path, "x\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 3);
	assert_string_equal(t->lines[2], "x");
	assert_int_equal(t->saved_offset, 2);
	logwatch_file_get_stats(f, &s);
	assert_int_equal(s.truncations, 1);
	logwatch_file_free(&f);
}

/* copytruncate and written again past the old position before the next
   poll: the first bytes changed, so it is read from 0 all the same. */
static void
test_truncation_refilled(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f;
	struct logwatch_file_stats s;
	struct logwatch_pos pos;

	append(t->path, "");
	f = logwatch_file_new(t->path, NULL);
	poll_once(t, f);
	append(t->path, "Nov 23 10:00:01 mx first line, long enough to fill the head hash\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 1);
	assert_true(t->saved_head != 0);
	assert_int_equal(truncate(t->path, 0), 0);
	append(t->path, "Nov 23 10:05:09 mx new line one after the truncation, longer\n"
	    "Nov 23 10:05:09 mx new line two\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 3);
	assert_string_equal(t->lines[1], "Nov 23 10:05:09 mx new line one after the truncation, longer");
	logwatch_file_get_stats(f, &s);
	assert_int_equal(s.truncations, 1);
	/* the same while stopped: same inode, larger, other head */
	pos = (struct logwatch_pos){ t->saved_inode, t->saved_offset,
	    t->saved_head };
	logwatch_file_free(&f);
	assert_int_equal(truncate(t->path, 0), 0);
	append(t->path, "Nov 23 11:00:00 mx a third generation of the file, long line\n"
	    "Nov 23 11:00:00 mx and more lines than before, so it is longer\n"
	    "x\n");
	f = logwatch_file_new(t->path, &pos);
	poll_once(t, f);
	assert_int_equal(t->nlines, 6);
	assert_string_equal(t->lines[3], "Nov 23 11:00:00 mx a third generation of the file, long line");
	logwatch_file_free(&f);
}

/* A restart with the saved position reads only what came after it; with
   another inode (rotated while down) the file is read from its start. */
static void
test_resume(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f;
	struct logwatch_pos pos;

	append(t->path, "");
	f = logwatch_file_new(t->path, NULL);
	poll_once(t, f);
	append(t->path, "1\n2\n");
	poll_once(t, f);
	pos = (struct logwatch_pos){ t->saved_inode, t->saved_offset,
	    t->saved_head };
	logwatch_file_free(&f);		/* "stopped" */
	append(t->path, "3\n");		/* written while down */
	f = logwatch_file_new(t->path, &pos);
	poll_once(t, f);
	assert_int_equal(t->nlines, 3);
	assert_string_equal(t->lines[2], "3");
	logwatch_file_free(&f);
	/* rotated while down */
	assert_int_equal(rename(t->path, t->rotated), 0);
	append(t->path, "4\n5\n");
	pos.offset = t->saved_offset;
	f = logwatch_file_new(t->path, &pos);
	poll_once(t, f);
	assert_int_equal(t->nlines, 5);
	assert_string_equal(t->lines[3], "4");
	assert_string_equal(t->lines[4], "5");
	logwatch_file_free(&f);
}

/* Not there at start: when it appears it is new, read from its start. */
static void
test_appears_later(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f = logwatch_file_new(t->path, NULL);
	struct logwatch_file_stats s;

	poll_once(t, f);
	logwatch_file_get_stats(f, &s);
	assert_false(s.open);
	append(t->path, "first\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 1);
	assert_string_equal(t->lines[0], "first");
	logwatch_file_free(&f);
}

/* A line longer than the patterns take is skipped whole, across reads. */
static void
test_overlong(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f;
	struct logwatch_file_stats s;
	size_t n = 3 * LOGWATCH_READ_CHUNK;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	append(t->path, "");
	f = logwatch_file_new(t->path, NULL);
	poll_once(t, f);
	append(t->path, "before\n");
	append(t->path, big);
	append(t->path, "\nafter\n");
	poll_once(t, f);
	assert_int_equal(t->nlines, 2);
	assert_string_equal(t->lines[0], "before");
	assert_string_equal(t->lines[1], "after");
	logwatch_file_get_stats(f, &s);
	assert_int_equal(s.overlong, 1);
	assert_int_equal(t->saved_offset, size_of(t->path));
	free(big);
	logwatch_file_free(&f);
}

/* Work per poll is bounded (to a read over the budget): a backlog comes
   over several polls, every line once, in order. */
static void
test_bounded_poll(void **state)
{
	struct t *t = *state;
	struct logwatch_file *f;
	FILE *out;
	unsigned polls = 1;

	append(t->path, "");
	f = logwatch_file_new(t->path, NULL);
	poll_once(t, f);
	assert_non_null(out = fopen(t->path, "a"));
	for (int i = 0; i < 5000; i++)
		fprintf(out, "line %05d %053d\n", i, 0);	/* 64 bytes */
	assert_int_equal(fclose(out), 0);
	while (logwatch_file_poll(f, LOGWATCH_READ_CHUNK, t_save, t_line, t))
		polls++;
	assert_true(polls >= 4);
	assert_int_equal(t->count, 5000);
	assert_true(strncmp(t->lines[31], "line 00031 ", 11) == 0);
	assert_int_equal(t->saved_offset, size_of(t->path));
	logwatch_file_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_end_partial_saved_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_refilled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appears_later, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overlong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_poll, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
