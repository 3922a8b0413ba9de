/* The impairment engine: one direction of a simulated wire with loss,
 * duplication, reordering, corruption, delay, jitter, a rate-limited
 * bottleneck queue and a blackout window. See impair_engine.h for the
 * pipeline order and the determinism rules; sim.c and impair.c are its two
 * users. Memory comes from sf_imp_init() only: the per-frame path copies
 * into preallocated slots and never allocates.
 */
#include "link/impair_engine.h"

#include <stdlib.h>
#include <string.h>

#include "synfin/error.h"
#include "synfin/wire.h"

/* ---- random numbers: splitmix64 to seed, xoshiro256** to draw ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t draw_u64(sf_imp_t *e)
{
	uint64_t *s = e->rng;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1) with 53 bits. */
static double to_unit(uint64_t x)
{
	return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, max] (max >= 0); the modulo bias is below 2^-40 for any
 * jitter a test would use. */
static int64_t to_range(uint64_t x, int64_t max)
{
	if (max <= 0)
		return 0;
	return (int64_t)(x % ((uint64_t)max + 1));
}

/* ---- the delivery heap: min on (due_us, order) ---- */

static bool slot_before(const sf_imp_t *e, uint32_t a, uint32_t b)
{
	const sf_imp_slot_t *sa = &e->slots[a], *sb = &e->slots[b];
	if (sa->due_us != sb->due_us)
		return sa->due_us < sb->due_us;
	return sa->order < sb->order;
}

static void heap_push(sf_imp_t *e, uint32_t idx)
{
	uint32_t i = e->heap_cnt++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!slot_before(e, idx, e->heap[parent]))
			break;
		e->heap[i] = e->heap[parent];
		i = parent;
	}
	e->heap[i] = idx;
}

static uint32_t heap_pop(sf_imp_t *e)
{
	uint32_t top = e->heap[0];
	uint32_t last = e->heap[--e->heap_cnt];
	uint32_t i = 0;
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= e->heap_cnt)
			break;
		if (child + 1 < e->heap_cnt && slot_before(e, e->heap[child + 1], e->heap[child]))
			child++;
		if (!slot_before(e, e->heap[child], last))
			break;
		e->heap[i] = e->heap[child];
		i = child;
	}
	if (e->heap_cnt > 0)
		e->heap[i] = last;
	return top;
}

/* ---- setup ---- */

static bool prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0;
}

static bool time_ok(int64_t t_us)
{
	return t_us >= 0 && t_us <= SF_IMP_MAX_TIME_US;
}

static bool cfg_ok(const sf_impair_t *c)
{
	return prob_ok(c->loss) && prob_ok(c->dup) && prob_ok(c->reorder) && prob_ok(c->corrupt) &&
	       prob_ok(c->ce_mark) && time_ok(c->reorder_us) && time_ok(c->delay_us) &&
	       time_ok(c->jitter_us);
}

int sf_imp_init(sf_imp_t *e, uint64_t seed, uint16_t mtu, const sf_impair_t *cfg)
{
	memset(e, 0, sizeof(*e));
	if (mtu == 0 || (cfg && !cfg_ok(cfg)))
		return SF_EINVAL;
	if (cfg)
		e->cfg = *cfg;
	e->mtu = mtu;
	uint64_t sm = seed;
	for (int i = 0; i < 4; i++)
		e->rng[i] = splitmix64(&sm);

	uint32_t n = SF_IMP_MAX_BYTES / mtu;
	if (n > SF_IMP_MAX_SLOTS)
		n = SF_IMP_MAX_SLOTS;
	if (n < SF_IMP_MIN_SLOTS)
		n = SF_IMP_MIN_SLOTS;
	e->slot_cnt = n;
	e->storage = malloc((size_t)n * mtu);
	e->slots = calloc(n, sizeof(*e->slots));
	e->free_stack = calloc(n, sizeof(*e->free_stack));
	e->heap = calloc(n, sizeof(*e->heap));
	if (e->cfg.rate_bps) {
		e->rate_q_cap =
		        e->cfg.queue_limit ? e->cfg.queue_limit : SF_IMP_DEFAULT_QUEUE_LIMIT;
		e->rate_q = calloc(e->rate_q_cap, sizeof(*e->rate_q));
	}
	if (!e->storage || !e->slots || !e->free_stack || !e->heap ||
	    (e->cfg.rate_bps && !e->rate_q)) {
		sf_imp_fini(e);
		return SF_ENOMEM;
	}
	/* Hand out low slot numbers first. */
	for (uint32_t i = 0; i < n; i++)
		e->free_stack[i] = n - 1 - i;
	e->free_cnt = n;
	e->link_free_us = INT64_MIN;
	return 0;
}

void sf_imp_fini(sf_imp_t *e)
{
	free(e->storage);
	free(e->slots);
	free(e->free_stack);
	free(e->heap);
	free(e->rate_q);
	memset(e, 0, sizeof(*e));
}

/* ---- the per-frame path ---- */

static bool in_blackout(const sf_impair_t *c, int64_t now_us)
{
	return c->blackout_end_us > c->blackout_start_us && now_us >= c->blackout_start_us &&
	       now_us < c->blackout_end_us;
}

/* Passes the frame through the rate-limited bottleneck. Returns false when
 * the queue is full; otherwise sets *depart_us to when its last bit leaves. */
static bool enter_bottleneck(sf_imp_t *e, size_t len, int64_t now_us, int64_t *depart_us)
{
	uint64_t rate = e->cfg.rate_bps;
	if (!rate) {
		*depart_us = now_us;
		return true;
	}
	/* Frames whose last bit has left by now no longer occupy the queue. */
	while (e->rate_q_cnt && e->rate_q[e->rate_q_head] <= now_us) {
		e->rate_q_head = (e->rate_q_head + 1) % e->rate_q_cap;
		e->rate_q_cnt--;
	}
	if (e->rate_q_cnt >= e->rate_q_cap)
		return false;
	int64_t start = e->link_free_us > now_us ? e->link_free_us : now_us;
	/* Serialisation time len*8/rate, rounded up to whole microseconds. */
	uint64_t ser_us = ((uint64_t)len * 8u * 1000000u + rate - 1) / rate;
	int64_t depart = start + (int64_t)ser_us;
	e->link_free_us = depart;
	e->rate_q[(e->rate_q_head + e->rate_q_cnt) % e->rate_q_cap] = depart;
	e->rate_q_cnt++;
	*depart_us = depart;
	return true;
}

static uint32_t store_frame(sf_imp_t *e, const uint8_t *frame, size_t len, int64_t due_us)
{
	uint32_t idx = e->free_stack[--e->free_cnt];
	sf_imp_slot_t *s = &e->slots[idx];
	memcpy(e->storage + (size_t)idx * e->mtu, frame, len);
	s->len = (uint16_t)len;
	s->due_us = due_us;
	s->order = e->order++;
	return idx;
}

static void tell_lost(const sf_imp_t *e, const uint8_t *frame, size_t len, int64_t now_us)
{
	if (e->on_lost)
		e->on_lost(e->on_lost_ctx, frame, len, now_us);
}

int sf_imp_submit(sf_imp_t *e, const uint8_t *frame, size_t len, int64_t now_us)
{
	if (len == 0 || len > e->mtu)
		return SF_EINVAL;
	const sf_impair_t *c = &e->cfg;
	e->stats.sent++;
	uint64_t n = ++e->frame_cnt;

	/* The same draws for every frame, whatever happens to it. */
	double u_loss = to_unit(draw_u64(e));
	double u_dup = to_unit(draw_u64(e));
	double u_reorder = to_unit(draw_u64(e));
	double u_corrupt = to_unit(draw_u64(e));
	uint64_t r_bit = draw_u64(e);
	uint64_t r_jitter = draw_u64(e);
	uint64_t r_jitter_dup = draw_u64(e);
	/* Drawn only when random CE marking is on, so a configuration without
	 * it keeps the pattern it always had. */
	double u_ce = c->ce_mark > 0 ? to_unit(draw_u64(e)) : 1.0;

	if (in_blackout(c, now_us)) {
		e->stats.lost++;
		tell_lost(e, frame, len, now_us);
		return 0;
	}
	int64_t depart_us;
	if (!enter_bottleneck(e, len, now_us, &depart_us)) {
		e->stats.queue_drops++;
		tell_lost(e, frame, len, now_us);
		return 0;
	}
	/* Frames waiting ahead of this one at the bottleneck. */
	bool mark_ce = u_ce < c->ce_mark || (c->ce_threshold && e->rate_q_cnt > 0 &&
	                                     e->rate_q_cnt - 1 >= c->ce_threshold);
	/* Lost on the wire after it used the bottleneck, as on a real path. */
	if ((c->loss_every && n % c->loss_every == 0) || u_loss < c->loss) {
		e->stats.lost++;
		tell_lost(e, frame, len, now_us);
		return 0;
	}
	if (e->free_cnt == 0) {
		e->stats.queue_drops++;
		tell_lost(e, frame, len, now_us);
		return 0;
	}
	int64_t base_us = depart_us + c->delay_us;
	int64_t due_us = base_us + to_range(r_jitter, c->jitter_us);
	if (u_reorder < c->reorder) {
		due_us += c->reorder_us;
		e->stats.reordered++;
	}
	uint32_t idx = store_frame(e, frame, len, due_us);
	uint8_t *data = e->storage + (size_t)idx * e->mtu;
	if (mark_ce && len >= 20 && (data[0] >> 4) == 4 && (data[1] & 3) != 0 &&
	    (data[1] & 3) != 3) {
		/* ECT(0) or ECT(1) -> CE, and the header checksum follows
		 * (RFC 1624): the TOS byte is the low half of the first word. */
		uint16_t old_w = (uint16_t)(data[0] << 8 | data[1]);
		data[1] |= 3;
		uint16_t new_w = (uint16_t)(data[0] << 8 | data[1]);
		uint16_t ck = sf_csum_update16((uint16_t)(data[10] << 8 | data[11]), old_w, new_w);
		data[10] = (uint8_t)(ck >> 8);
		data[11] = (uint8_t)ck;
		e->stats.ce_marked++;
	}
	if (u_corrupt < c->corrupt) {
		uint64_t bit = r_bit % ((uint64_t)len * 8u);
		data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		e->stats.corrupted++;
	}
	heap_push(e, idx);
	/* The duplicate is a copy of what went on the wire (corruption and
	 * all) with its own jitter, and is not held back by reordering. */
	if (u_dup < c->dup && e->free_cnt > 0) {
		uint32_t dup =
		        store_frame(e, data, len, base_us + to_range(r_jitter_dup, c->jitter_us));
		heap_push(e, dup);
		e->stats.duplicated++;
	}
	return 0;
}

int sf_imp_pop(sf_imp_t *e, uint8_t *buf, size_t cap, int64_t now_us)
{
	if (e->heap_cnt == 0 || e->slots[e->heap[0]].due_us > now_us)
		return 0;
	uint32_t idx = heap_pop(e);
	e->free_stack[e->free_cnt++] = idx;
	size_t len = e->slots[idx].len;
	if (len > cap)
		return SF_ENOBUFS;
	memcpy(buf, e->storage + (size_t)idx * e->mtu, len);
	e->stats.delivered++;
	return (int)len;
}

int64_t sf_imp_next_deadline(const sf_imp_t *e)
{
	return e->heap_cnt ? e->slots[e->heap[0]].due_us : SF_NO_DEADLINE;
}
