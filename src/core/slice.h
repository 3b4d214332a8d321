/*
 * slice - borrowed, length-delimited views of bytes (not NUL-terminated)
 * and number parsing that checks the whole input, has no sign, catches
 * overflow and takes an explicit maximum.
 * UNSAFE: raw memory (pointer arithmetic on slices).
 */
#ifndef MW_CORE_SLICE_H
#define MW_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/mem.h"

struct mw_slice {
	const char	*ptr;
	size_t		 len;
};

#define MW_SLICE_LIT(s)	((struct mw_slice){ (s), sizeof(s) - 1 })

struct mw_slice	 mw_slice_from_cstr(const char *s);
bool	 mw_slice_eq(struct mw_slice a, struct mw_slice b);
bool	 mw_slice_eq_cstr(struct mw_slice a, const char *s);
bool	 mw_slice_case_eq_cstr(struct mw_slice a, const char *s);
bool	 mw_slice_starts_with(struct mw_slice s, struct mw_slice prefix);
/* Splits at the first sep: false (outputs untouched) when there is none. */
bool	 mw_slice_split(struct mw_slice s, char sep, struct mw_slice *head_r,
	    struct mw_slice *tail_r);
/* Removes leading and trailing spaces and tabs. */
struct mw_slice	 mw_slice_trim(struct mw_slice s);
/* No control characters (< 0x20, 0x7f) and no NUL; UTF-8 bytes allowed. */
bool	 mw_slice_is_printable(struct mw_slice s);
/* The index of the first control character (< 0x20, 0x7f; NUL and LF
   included) in s, or s.len when there is none. Eight bytes per step: the
   line scanner of the protocol parsers. */
size_t	 mw_slice_find_ctl(struct mw_slice s);
/* The bytes of p[0..n) (n <= 64) as bit masks, bit i for p[i]: *lf_r
   LFs, *c_r bytes equal to c (a printable character), *ctl_r the other
   control characters (< 0x20, 0x7f; NUL included). Bits from n up are 0.
   SSE2 where the compiler targets it (16 bytes a step), else 8 bytes a
   step with mw_slice_classify64_portable (public for its unit test; it
   reads 64 bytes). The line scanner of the protocol parsers. */
void	 mw_slice_classify64(const char *p, size_t n, char c, uint64_t *lf_r,
	    uint64_t *c_r, uint64_t *ctl_r);
void	 mw_slice_classify64_portable(const char *p, char c, uint64_t *lf_r,
	    uint64_t *c_r, uint64_t *ctl_r);
/* NUL-terminated copy in a. */
char	*mw_slice_dup(struct mw_arena *a, struct mw_slice s);

/* Decimal, digits only, value <= max. 0 on success, -1 otherwise. */
int	 mw_slice_to_u64(struct mw_slice s, uint64_t max, uint64_t *num_r)
	    MW_MUST_CHECK;
int	 mw_slice_to_u32(struct mw_slice s, uint32_t max, uint32_t *num_r)
	    MW_MUST_CHECK;
int	 mw_parse_u64(const char *s, uint64_t max, uint64_t *num_r)
	    MW_MUST_CHECK;
int	 mw_parse_u32(const char *s, uint32_t max, uint32_t *num_r)
	    MW_MUST_CHECK;
/* Signed decimal ("-3", "12"), |value| <= max. */
int	 mw_parse_i32(const char *s, int32_t max, int32_t *num_r) MW_MUST_CHECK;

/* Durations: "90" (seconds), "90s", "15m", "2h", "7d", "1w"; compound
   forms such as "1h30m". Result in seconds, at most max. "permanent" and
   "0" are not accepted here: callers that allow them check first. */
int	 mw_parse_duration(const char *s, uint64_t max, uint64_t *secs_r)
	    MW_MUST_CHECK;
/* "2h30m" style text for secs into buf; 0 renders "0s". */
const char *mw_format_duration(uint64_t secs, char *buf, size_t size);

/* Copies the printable part of s, replacing other bytes with '?', cut at
   max bytes with "..." appended. For peer strings in logs. */
char	*mw_sanitize(struct mw_arena *a, struct mw_slice s, size_t max);

#endif
