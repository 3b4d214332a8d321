/*
 * unit_util.h - small helpers more than one unit test needs (header only:
 * each test is a binary of its own).
 */
#ifndef MW_TESTS_UNIT_UTIL_H
#define MW_TESTS_UNIT_UTIL_H

#include <stddef.h>
#include <string.h>

/* How often s occurs in text, not overlapping (a captured log's lines). */
static inline size_t
count_of(const char *text, const char *s)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	return n;
}

#endif
