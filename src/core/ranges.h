/* A range set: a few disjoint ranges [left, right) of sequence space, in
 * recency order (the range touched last comes first, as RFC 2018 §4 wants
 * SACK blocks reported). Fixed capacity, no allocation; when full, an
 * eviction policy chooses what is forgotten. One type for every "set of
 * sequence ranges": the receiver's out-of-order list (input.c, and the
 * SACK blocks output.c reports from it) and the sender's SACK scoreboard
 * (recovery.c). Tested alone in tests/unit/test_ranges.c.
 *
 * All comparisons are modulo 2^32 (sf_seq_*): a set must span less than
 * 2^31 bytes, which a receive window or a flight always does.
 */
#ifndef SF_CORE_RANGES_H
#define SF_CORE_RANGES_H

#include <stdbool.h>
#include <stdint.h>

#define SF_RANGES_MAX     8    /* ranges held in the set itself */
#define SF_RANGES_EXT_MAX 1024 /* ranges in storage given by the owner (rehome) */

typedef struct sf_range {
	uint32_t left, right; /* [left, right) in sequence space */
} sf_range_t;

/* The set is not copied by value: r may point into it. */
typedef struct sf_ranges {
	sf_range_t *r;                 /* r[0] most recent: own, or the owner's storage */
	uint16_t cnt, cap;             /* cap <= SF_RANGES_MAX, or SF_RANGES_EXT_MAX */
	sf_range_t own[SF_RANGES_MAX]; /* storage of a small set */
} sf_ranges_t;

/* What a full set forgets to make room. */
typedef enum sf_ranges_evict {
	SF_EVICT_OLDEST,  /* the least recently touched range */
	SF_EVICT_HIGHEST, /* the highest range; a new range above all is refused */
} sf_ranges_evict_t;

/* An empty set holding at most cap ranges (1..SF_RANGES_MAX). */
void sf_ranges_init(sf_ranges_t *s, uint8_t cap);
/* Moves the ranges into mem, which holds cap of them (cnt <= cap <=
 * SF_RANGES_EXT_MAX) and which the owner keeps while the set uses it: a set
 * that outgrows its own storage moves to a larger block (adding still
 * never allocates); sf_ranges_init makes it small again. */
void sf_ranges_rehome(sf_ranges_t *s, sf_range_t *mem, uint16_t cap);
/* Adds [left, right) (ignored when empty), merging every range it
 * overlaps or touches; the result becomes the most recent. Returns false
 * when the range was refused (SF_EVICT_HIGHEST, full, above all). */
bool sf_ranges_add(sf_ranges_t *s, uint32_t left, uint32_t right, sf_ranges_evict_t evict);
/* Forgets everything below seq (ranges ending at or below it go, one
 * straddling it is cut to start there). */
void sf_ranges_trim(sf_ranges_t *s, uint32_t seq);
/* Moves seq over every range that starts at or before it (repeatedly),
 * removes those ranges, and returns the new seq: the receiver's RCV.NXT
 * advancing over out-of-order data that the new segment reached. */
uint32_t sf_ranges_advance(sf_ranges_t *s, uint32_t seq);
/* Bytes in the set at or above seq. */
uint32_t sf_ranges_bytes_from(const sf_ranges_t *s, uint32_t seq);
/* The highest right edge, or floor when the set holds nothing above it. */
uint32_t sf_ranges_highest(const sf_ranges_t *s, uint32_t floor);
/* The range containing seq, or NULL. */
const sf_range_t *sf_ranges_find(const sf_ranges_t *s, uint32_t seq);
/* The lowest left edge above seq, or limit when none is below limit. */
uint32_t sf_ranges_next_left(const sf_ranges_t *s, uint32_t seq, uint32_t limit);

static inline void sf_ranges_clear(sf_ranges_t *s)
{
	s->cnt = 0;
}

#endif
