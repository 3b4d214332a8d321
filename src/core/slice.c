/*
 * slice - borrowed byte views and strict number parsing; see slice.h.
 * UNSAFE: raw memory (pointer arithmetic on slices).
 */
#include "core/slice.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct mw_slice
mw_slice_from_cstr(const char *s)
{
	return (struct mw_slice){ s, strlen(s) };
}

bool
mw_slice_eq(struct mw_slice a, struct mw_slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool
mw_slice_eq_cstr(struct mw_slice a, const char *s)
{
	return mw_slice_eq(a, mw_slice_from_cstr(s));
}

bool
mw_slice_case_eq_cstr(struct mw_slice a, const char *s)
{
	size_t n = strlen(s);

	return a.len == n && (n == 0 || strncasecmp(a.ptr, s, n) == 0);
}

bool
mw_slice_starts_with(struct mw_slice s, struct mw_slice prefix)
{
	return s.len >= prefix.len &&
	    (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

bool
mw_slice_split(struct mw_slice s, char sep, struct mw_slice *head_r,
    struct mw_slice *tail_r)
{
	const char *p = s.len > 0 ? memchr(s.ptr, sep, s.len) : NULL;

	if (p == NULL)
		return false;
	*head_r = (struct mw_slice){ s.ptr, (size_t)(p - s.ptr) };
	*tail_r = (struct mw_slice){ p + 1, s.len - head_r->len - 1 };
	return true;
}

struct mw_slice
mw_slice_trim(struct mw_slice s)
{
	while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* Bit 7 of each byte of the result is set for the bytes of w that are
   < 0x20, == 0x7f or == c, exactly so for the lowest such byte: a borrow
   of the subtractions starts only at a true hit and can only mark bytes
   above it. */
static uint64_t
slice_ctl_mask(uint64_t w, uint64_t cs)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	const uint64_t	 high = 0x8080808080808080ULL;
	uint64_t	 del = w ^ (0x7f * ones), eq = w ^ cs;

	return (((w - 0x20 * ones) & ~w) | ((del - ones) & ~del) |
	    ((eq - ones) & ~eq)) & high;
}

static size_t
slice_find_ctl_or(struct mw_slice s, char c)
{
	size_t i = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (s.len >= 8) {
		uint64_t cs = 0x0101010101010101ULL * (unsigned char)c;
		uint64_t w, m;

		for (; i + 8 <= s.len; i += 8) {
			memcpy(&w, s.ptr + i, sizeof(w));
			if ((m = slice_ctl_mask(w, cs)) != 0)
				return i + (size_t)__builtin_ctzll(m) / 8;
		}
		if (i == s.len)
			return s.len;
		/* The last 8 bytes, overlapping bytes already seen: those had
		   no hit, so no borrow starts there, and they are masked. */
		memcpy(&w, s.ptr + s.len - 8, sizeof(w));
		m = slice_ctl_mask(w, cs) & (~0ULL << (8 * (i + 8 - s.len)));
		return m != 0 ? s.len - 8 + (size_t)__builtin_ctzll(m) / 8 :
		    s.len;
	}
#endif
	for (; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];

		if (ch < 0x20 || ch == 0x7f || ch == (unsigned char)c)
			return i;
	}
	return s.len;
}

size_t
mw_slice_find_ctl(struct mw_slice s)
{
	/* NUL is a control character already. */
	return slice_find_ctl_or(s, '\0');
}

/* Exact per-byte flags (bit 7 of each byte; no borrow between bytes):
   bytes < 0x20, and bytes equal to those of cs. */
static uint64_t
slice_lt20(uint64_t w)
{
	const uint64_t high = 0x8080808080808080ULL;

	return ~(((w & ~high) + 0x6060606060606060ULL) | w) & high;
}

static uint64_t
slice_eq(uint64_t w, uint64_t cs)
{
	const uint64_t	 high = 0x8080808080808080ULL;
	uint64_t	 y = w ^ cs;

	return ~(((y & ~high) + ~high) | y) & high;
}

/* Bit 7 of byte k to bit k. */
static uint64_t
slice_gather(uint64_t m)
{
	return ((m >> 7) * 0x0102040810204080ULL) >> 56;
}

void
mw_slice_classify64_portable(const char *p, char c, uint64_t *lf_r,
    uint64_t *c_r, uint64_t *ctl_r)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	uint64_t	 lf = 0, cm = 0, ctl = 0;

	for (unsigned k = 0; k < 8; k++) {
		uint64_t w;

		memcpy(&w, p + 8 * k, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		lf |= slice_gather(slice_eq(w, '\n' * ones)) << (8 * k);
		cm |= slice_gather(slice_eq(w, (unsigned char)c * ones)) <<
		    (8 * k);
		ctl |= slice_gather(slice_lt20(w) | slice_eq(w, 0x7f * ones)) <<
		    (8 * k);
	}
	*lf_r = lf;
	*c_r = cm;
	*ctl_r = ctl & ~lf;
}

#if defined(__SSE2__)
static void
slice_classify64_sse2(const char *p, char c, uint64_t *lf_r, uint64_t *c_r,
    uint64_t *ctl_r)
{
	const __m128i	 vlf = _mm_set1_epi8('\n'), vc = _mm_set1_epi8(c);
	const __m128i	 v1f = _mm_set1_epi8(0x1f), vdel = _mm_set1_epi8(0x7f);
	uint64_t	 lf = 0, cm = 0, ctl = 0;

	for (unsigned k = 0; k < 4; k++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + 16 * k));
		/* x <= 0x1f, unsigned: max(x, 0x1f) == 0x1f */
		__m128i low = _mm_cmpeq_epi8(_mm_max_epu8(x, v1f), v1f);

		lf |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(x, vlf)) << (16 * k);
		cm |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(x, vc)) << (16 * k);
		ctl |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(low,
		    _mm_cmpeq_epi8(x, vdel))) << (16 * k);
	}
	*lf_r = lf;
	*c_r = cm;
	*ctl_r = ctl & ~lf;
}
#endif

void
mw_slice_classify64(const char *p, size_t n, char c, uint64_t *lf_r,
    uint64_t *c_r, uint64_t *ctl_r)
{
	char		 pad[64];
	uint64_t	 keep = n >= 64 ? ~0ULL : (1ULL << n) - 1;

	if (n < 64) {
		/* Spaces belong to no class. */
		memset(pad, ' ', sizeof(pad));
		memcpy(pad, p, n);
		p = pad;
	}
#if defined(__SSE2__)
	slice_classify64_sse2(p, c, lf_r, c_r, ctl_r);
#else
	mw_slice_classify64_portable(p, c, lf_r, c_r, ctl_r);
#endif
	*lf_r &= keep;
	*c_r &= keep;
	*ctl_r &= keep;
}

bool
mw_slice_is_printable(struct mw_slice s)
{
	return mw_slice_find_ctl(s) == s.len;
}

char *
mw_slice_dup(struct mw_arena *a, struct mw_slice s)
{
	return mw_arena_strndup(a, s.len > 0 ? s.ptr : "", s.len);
}

int
mw_slice_to_u64(struct mw_slice s, uint64_t max, uint64_t *num_r)
{
	uint64_t n = 0;

	if (s.len == 0 || s.len > 20)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.ptr[i] - '0';

		if (d > 9)
			return -1;
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (n > max)
		return -1;
	*num_r = n;
	return 0;
}

int
mw_slice_to_u32(struct mw_slice s, uint32_t max, uint32_t *num_r)
{
	uint64_t n;

	if (mw_slice_to_u64(s, max, &n) < 0)
		return -1;
	*num_r = (uint32_t)n;
	return 0;
}

int
mw_parse_u64(const char *s, uint64_t max, uint64_t *num_r)
{
	return mw_slice_to_u64(mw_slice_from_cstr(s), max, num_r);
}

int
mw_parse_u32(const char *s, uint32_t max, uint32_t *num_r)
{
	return mw_slice_to_u32(mw_slice_from_cstr(s), max, num_r);
}

int
mw_parse_i32(const char *s, int32_t max, int32_t *num_r)
{
	uint64_t	 n;
	bool		 neg = s[0] == '-';

	if (max < 0 || mw_parse_u64(neg ? s + 1 : s, (uint64_t)max, &n) < 0)
		return -1;
	*num_r = neg ? -(int32_t)n : (int32_t)n;
	return 0;
}

int
mw_parse_duration(const char *s, uint64_t max, uint64_t *secs_r)
{
	uint64_t	 total = 0, n;
	size_t		 len = strlen(s), i = 0;

	if (len == 0)
		return -1;
	while (i < len) {
		size_t	 start = i;
		uint64_t unit;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start ||
		    mw_slice_to_u64((struct mw_slice){ s + start, i - start },
		    UINT32_MAX, &n) < 0)
			return -1;
		if (i == len) {
			unit = 1;
			if (start != 0)	/* "1h30" is ambiguous */
				return -1;
		} else {
			switch (s[i++]) {
			case 's': unit = 1; break;
			case 'm': unit = 60; break;
			case 'h': unit = 3600; break;
			case 'd': unit = 86400; break;
			case 'w': unit = 7 * 86400; break;
			default: return -1;
			}
		}
		total += n * unit;	/* n < 2^32, unit < 2^20: no overflow */
		if (total > max)
			return -1;
	}
	*secs_r = total;
	return 0;
}

const char *
mw_format_duration(uint64_t secs, char *buf, size_t size)
{
	static const struct { char unit; uint64_t secs; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t	 off = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (secs == 0) {
		(void)snprintf(buf, size, "0s");
		return buf;
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(units) && secs > 0; i++) {
		uint64_t n = secs / units[i].secs;
		int	 w;

		if (n == 0)
			continue;
		secs -= n * units[i].secs;
		w = snprintf(buf + off, size - off, "%llu%c",
		    (unsigned long long)n, units[i].unit);
		if (w < 0 || (size_t)w >= size - off)
			break;
		off += (size_t)w;
	}
	return buf;
}

char *
mw_sanitize(struct mw_arena *a, struct mw_slice s, size_t max)
{
	size_t	 n = s.len > max ? max : s.len;
	char	*out = mw_arena_alloc(a, n + 4);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (s.len > max) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}
