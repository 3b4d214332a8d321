/*
 * window - sliding time windows with bounded memory; time is passed in
 * (unix seconds), so the same code runs live and over old log lines.
 *
 * struct mw_window counts events in MW_WINDOW_SLOTS buckets of slot_s
 * seconds: the sum covers the last MW_WINDOW_SLOTS * slot_s seconds,
 * sliding by one bucket (a 10-minute window slides every 75 s). 20 bytes;
 * counts saturate at 65535 per bucket.
 *
 * struct mw_distinct estimates how many distinct things (accounts,
 * addresses) were seen in the window: one 64-bit bitmap per generation
 * (MW_DISTINCT_GENS generations of slot_s seconds), read over their
 * union: up to MW_DISTINCT_EXACT items the bits set (a lower bound: two
 * items may share a bit), beyond by linear counting (Whang et al. 1990),
 * within about 20% up to 100, saturating near 260. 40 bytes.
 *
 * Events older than the window, or in the future of the newest bucket by
 * less than a slot, are handled; an event older than every bucket is
 * dropped (returns false). Callers pick slot_s = window / SLOTS (or GENS)
 * with mw_window_slot; keep it the same for one structure.
 */
#ifndef MW_CORE_WINDOW_H
#define MW_CORE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_WINDOW_SLOTS		8
#define MW_DISTINCT_GENS	4
#define MW_DISTINCT_MAX		266	/* estimate when every bit is set */
#define MW_DISTINCT_EXACT	12	/* up to this many bits: their count */

struct mw_window {
	uint32_t	 head;			/* bucket index of the newest bucket */
	uint16_t	 n[MW_WINDOW_SLOTS];
};

struct mw_distinct {
	uint32_t	 head;			/* generation index of the newest */
	uint64_t	 bits[MW_DISTINCT_GENS];
};

/* Seconds per bucket for a window of window_s seconds split in parts
   (MW_WINDOW_SLOTS or MW_DISTINCT_GENS); at least 1. The sum then covers
   between (parts - 1) and parts buckets: up to one bucket LESS than
   window_s. */
uint32_t mw_window_slot(uint32_t window_s, unsigned parts);
/* Seconds per bucket such that the sum never covers less than window_s:
   an event at most window_s old is always counted, one MW_WINDOW_SLOTS
   buckets old (less than window_s + slot + parts seconds) never is. Detectors use this one, so that "5 failures
   in 10 minutes" spread evenly over 10 minutes is never missed (it errs
   by at most one bucket towards counting). */
uint32_t mw_window_cover_slot(uint32_t window_s, unsigned parts);

/* Adds k events at now. False when now is older than the oldest bucket
   (nothing counted). */
bool	 mw_window_add(struct mw_window *w, uint32_t slot_s, int64_t now,
	    uint32_t k);
/* Events in the window ending at now. */
uint32_t mw_window_sum(const struct mw_window *w, uint32_t slot_s, int64_t now);
/* Forgets everything. */
void	 mw_window_clear(struct mw_window *w);

/* Records item hash h (any well-mixed 64-bit hash) at now. Returns true
   when the item was not yet in the window's bitmap (probably new). */
bool	 mw_distinct_add(struct mw_distinct *d, uint32_t slot_s, int64_t now,
	    uint64_t h);
/* Estimated distinct items in the window ending at now. */
uint32_t mw_distinct_count(const struct mw_distinct *d, uint32_t slot_s,
	    int64_t now);
bool	 mw_distinct_empty(const struct mw_distinct *d, uint32_t slot_s,
	    int64_t now);

/* 64-bit hash of bytes (FNV-1a with a final avalanche), for keys and
   distinct counting. seed separates uses. */
uint64_t mw_hash_bytes(const void *p, size_t len, uint64_t seed);

#endif
