/* Timer wheel: one absolute deadline per entry, O(1) arm and cancel.
 *
 * Entries are embedded in their owners (a connection, a TIME-WAIT record).
 * Hierarchical wheel with 1 ms slots at level 0 (deadlines round up to the
 * next millisecond, never fire early); deadlines far in the future cascade
 * down. sf_wheel_expire() pops every entry whose deadline <= now, in
 * deadline order within the same slot not guaranteed. No allocation.
 */
#ifndef SF_CORE_WHEEL_H
#define SF_CORE_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

/* A link of the intrusive, circular slot lists: a slot's head is one bare
 * link (two pointers), and every timer starts with one. */
typedef struct sf_tlink {
	struct sf_tlink *next, *prev;
} sf_tlink_t;

typedef struct sf_timer {
	sf_tlink_t link; /* first member; NULL/NULL when unarmed */
	int64_t deadline_us;
	uint8_t level, armed;
} sf_timer_t;

#define SF_WHEEL_LEVELS 6
#define SF_WHEEL_SLOTS  64

typedef struct sf_wheel {
	int64_t now_ms;                                    /* time the wheel has advanced to */
	uint32_t count;                                    /* armed entries */
	sf_tlink_t slots[SF_WHEEL_LEVELS][SF_WHEEL_SLOTS]; /* list heads (sentinels) */
} sf_wheel_t;

void sf_wheel_init(sf_wheel_t *w, int64_t now_us);
/* Arms (or re-arms) t for deadline_us; a deadline in the past fires at the
 * next sf_wheel_expire. */
void sf_wheel_arm(sf_wheel_t *w, sf_timer_t *t, int64_t deadline_us);
void sf_wheel_cancel(sf_wheel_t *w, sf_timer_t *t);
static inline bool sf_timer_armed(const sf_timer_t *t)
{
	return t->armed;
}
/* Advances to now_us and unlinks every entry whose deadline <= now_us,
 * calling fn(ctx, t) for each (fn may re-arm t or arm others). */
void sf_wheel_expire(sf_wheel_t *w, int64_t now_us, void (*fn)(void *ctx, sf_timer_t *t),
                     void *ctx);
/* Earliest deadline of any armed entry, or INT64_MAX. Exact for entries
 * armed at level 0; a lower bound otherwise (the driver wakes, cascades and
 * asks again), never later than the true deadline. */
int64_t sf_wheel_next_deadline(const sf_wheel_t *w);

#endif
