/* The impairment engine shared by the simulated link (sim.c) and the
 * impairment wrapper (impair.c): one direction of a lossy, delaying,
 * rate-limited wire.
 *
 * A frame handed to sf_imp_submit() goes through, in this order: blackout
 * (link down at send time: lost), the bottleneck queue (rate limit; dropped
 * when queue_limit frames are already waiting or being serialised), random
 * and every-Nth loss, propagation delay plus uniform jitter, reorder hold,
 * one-bit corruption and duplication. Surviving frames wait in a min-heap
 * ordered by (delivery time, send order) until sf_imp_pop() takes them.
 *
 * Every frame draws the same fixed set of random numbers from a seeded
 * xoshiro256** generator whatever its fate, so the same seed and the same
 * call sequence give identical results, and changing one impairment does
 * not shift the pattern of another.
 *
 * All memory is allocated by sf_imp_init(): a pool of `slot_cnt` frames of
 * `mtu` bytes, the heap and the rate-limit queue. Nothing is allocated per
 * frame; when the pool is full a frame is dropped and counted as a queue
 * drop.
 */
#ifndef SYNFIN_LINK_IMPAIR_ENGINE_H
#define SYNFIN_LINK_IMPAIR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/netdev.h"

/* Frames one direction can hold at most, and the storage cap that lowers it
 * for large MTUs (at least 64 frames are always kept). */
#define SF_IMP_MAX_SLOTS 4096u
#define SF_IMP_MAX_BYTES (16u << 20)
#define SF_IMP_MIN_SLOTS 64u
/* Largest delay, jitter or reorder hold accepted (about 12 days), so that
 * delivery times cannot overflow. */
#define SF_IMP_MAX_TIME_US ((int64_t)1 << 40)
/* queue_limit 0 means this many frames (netdev.h). */
#define SF_IMP_DEFAULT_QUEUE_LIMIT 1000u

typedef struct sf_imp_slot {
	int64_t due_us;
	uint64_t order; /* send order: breaks ties between equal due times */
	uint16_t len;
} sf_imp_slot_t;

typedef struct sf_imp {
	sf_impair_t cfg;
	uint64_t rng[4]; /* xoshiro256** state */
	uint16_t mtu;
	uint32_t slot_cnt;
	uint8_t *storage;     /* slot_cnt * mtu bytes */
	sf_imp_slot_t *slots; /* slot_cnt */
	uint32_t *free_stack; /* indices of free slots */
	uint32_t free_cnt;
	uint32_t *heap; /* slot indices, min-heap on (due_us, order) */
	uint32_t heap_cnt;
	int64_t *rate_q; /* departure times of frames in the bottleneck */
	uint32_t rate_q_cap, rate_q_head, rate_q_cnt;
	int64_t link_free_us; /* when the serialiser finishes its last frame */
	uint64_t frame_cnt;   /* frames submitted, for loss_every */
	uint64_t order;       /* next send order number */
	sf_sim_stats_t stats;
	/* Optional: told of every frame the engine loses (blackout, queue,
	 * loss, no slot), before it is forgotten. Set after sf_imp_init. */
	void (*on_lost)(void *ctx, const uint8_t *frame, size_t len, int64_t now_us);
	void *on_lost_ctx;
} sf_imp_t;

/* Initialises `e` for frames of at most `mtu` bytes. `cfg` NULL means a
 * perfect wire (frames are still queued and delivered in order at once).
 * Allocates all memory the engine will use. Returns 0 or SF_ENOMEM /
 * SF_EINVAL (mtu 0, a probability outside 0..1, a time below 0 or above
 * SF_IMP_MAX_TIME_US). On failure `e` needs no sf_imp_fini()
 * but calling it is harmless. */
int sf_imp_init(sf_imp_t *e, uint64_t seed, uint16_t mtu, const sf_impair_t *cfg);
/* Frees what sf_imp_init() allocated; `e` may then be initialised again. */
void sf_imp_fini(sf_imp_t *e);
/* Offers one frame sent at `now_us`. The frame is copied. Returns 0 when
 * the engine took it (even if it is then lost, as on a wire) or SF_EINVAL
 * when len is 0 or above the MTU. */
int sf_imp_submit(sf_imp_t *e, const uint8_t *frame, size_t len, int64_t now_us);
/* Takes the earliest frame due at `now_us` (delivery time, then send
 * order) into buf. Returns its length, 0 when none is due, or SF_ENOBUFS
 * when `cap` is too small (that frame is then discarded). */
int sf_imp_pop(sf_imp_t *e, uint8_t *buf, size_t cap, int64_t now_us);
/* Delivery time of the earliest held frame, or SF_NO_DEADLINE. */
int64_t sf_imp_next_deadline(const sf_imp_t *e);
/* Frames currently held (waiting for their delivery time). */
static inline uint32_t sf_imp_pending(const sf_imp_t *e)
{
	return e->heap_cnt;
}

#endif
