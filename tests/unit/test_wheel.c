/* Timer wheel: arm, cancel and re-arm; firing never early and less than 1 ms
 * late; far deadlines (hours to years, past the top level's range) firing on
 * time after cascading; a driver that sleeps until sf_wheel_next_deadline()
 * neither spins nor misses; callbacks that re-arm, arm and cancel; deadlines
 * in the past; and a seeded random model test with 100k timers checking that
 * every timer fires in exactly the expire call in which it becomes due. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/wheel.h"

#define MS   INT64_C(1000)
#define SEC  (1000 * MS)
#define HOUR (3600 * SEC)
#define DAY  (24 * HOUR)

static int64_t ceil_ms(int64_t us)
{
	return us / 1000 + (us % 1000 > 0 ? 1 : 0);
}
/* When a timer with this deadline becomes due: its deadline rounded up to ms. */
static int64_t due_us(int64_t deadline_us)
{
	return ceil_ms(deadline_us) * MS;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t rnd_below(int64_t n)
{
	return n <= 0 ? 0 : (int64_t)(rnd() % (uint64_t)n);
}

/* ---- simple timers that record when they fired ---- */

struct rec {
	sf_timer_t t; /* first member: the callback casts back */
	int fired;
	int64_t fired_at;
};

struct clock_ctx {
	int64_t now_us; /* the now_us passed to the current expire */
	int total;
};

static void record_fire(void *ctx, sf_timer_t *t)
{
	struct clock_ctx *c = ctx;
	struct rec *r = (struct rec *)t;
	assert_false(sf_timer_armed(t));
	assert_null(t->link.next);
	assert_null(t->link.prev);
	r->fired++;
	r->fired_at = c->now_us;
	c->total++;
}

static void expire_at(sf_wheel_t *w, struct clock_ctx *c, int64_t now_us)
{
	c->now_us = now_us;
	sf_wheel_expire(w, now_us, record_fire, c);
}

static void test_arm_cancel_rearm(void **state)
{
	(void)state;
	static sf_wheel_t w;
	struct clock_ctx c = {0, 0};
	struct rec a = {0}, b = {0};
	sf_wheel_init(&w, 0);
	assert_int_equal(w.count, 0);
	assert_true(sf_wheel_next_deadline(&w) == INT64_MAX);

	sf_wheel_cancel(&w, &a.t); /* never armed: no-op */
	assert_int_equal(w.count, 0);

	sf_wheel_arm(&w, &a.t, 5 * MS);
	assert_true(sf_timer_armed(&a.t));
	assert_int_equal(w.count, 1);
	assert_true(sf_wheel_next_deadline(&w) == 5 * MS);
	sf_wheel_cancel(&w, &a.t);
	assert_false(sf_timer_armed(&a.t));
	assert_int_equal(w.count, 0);
	sf_wheel_cancel(&w, &a.t); /* twice: no-op */
	assert_int_equal(w.count, 0);
	expire_at(&w, &c, 10 * MS);
	assert_int_equal(a.fired, 0);

	/* Re-arm moves the timer; the count does not grow. */
	sf_wheel_arm(&w, &a.t, 15 * MS);
	sf_wheel_arm(&w, &b.t, 12 * MS);
	sf_wheel_arm(&w, &a.t, 30 * MS);
	assert_int_equal(w.count, 2);
	assert_true(sf_wheel_next_deadline(&w) == 12 * MS);
	expire_at(&w, &c, 20 * MS);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	assert_true(b.fired_at == 20 * MS);
	assert_int_equal(w.count, 1);
	assert_true(sf_wheel_next_deadline(&w) == 30 * MS);
	expire_at(&w, &c, 30 * MS - 1);
	assert_int_equal(a.fired, 0);
	expire_at(&w, &c, 30 * MS);
	assert_int_equal(a.fired, 1);
	assert_int_equal(w.count, 0);
	assert_true(sf_wheel_next_deadline(&w) == INT64_MAX);
	/* Fired timers can be armed again. */
	sf_wheel_arm(&w, &a.t, 31 * MS);
	expire_at(&w, &c, 40 * MS);
	assert_int_equal(a.fired, 2);
	assert_int_equal(c.total, 3);
}

/* Sub-millisecond deadlines, driven in 7 us steps: each timer fires at the
 * first step at or after its deadline rounded up to the ms, never before its
 * deadline and less than 1 ms (plus one step) after it. */
static void test_never_early_at_most_1ms_late(void **state)
{
	(void)state;
	enum { N = 500, STEP = 7 };
	static sf_wheel_t w;
	static struct rec r[N];
	struct clock_ctx c = {0, 0};
	memset(r, 0, sizeof r);
	rng_state = 7;
	int64_t start = 123456; /* not on a ms boundary */
	sf_wheel_init(&w, start);
	int64_t deadline[N];
	for (int i = 0; i < N; i++) {
		deadline[i] = start + 1 + rnd_below(150 * MS);
		if (i % 5 == 0) /* some exactly on a ms boundary */
			deadline[i] -= deadline[i] % MS;
		if (deadline[i] <= start)
			deadline[i] += MS;
		sf_wheel_arm(&w, &r[i].t, deadline[i]);
	}
	for (int64_t now = start + STEP; w.count > 0; now += STEP) {
		assert_true(now < start + 200 * MS);
		expire_at(&w, &c, now);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].fired, 1);
		int64_t due = due_us(deadline[i]);
		assert_true(r[i].fired_at >= deadline[i]);
		assert_true(r[i].fired_at >= due && r[i].fired_at < due + STEP);
		assert_true(r[i].fired_at - deadline[i] < MS + STEP);
	}
}

/* Drives the wheel the way the stack's driver does: sleep until
 * sf_wheel_next_deadline(), expire, repeat. Checks the answer is always after
 * the wheel's time, never after the earliest armed due time, and that every
 * wake-up that fires nothing is bounded (cascades only). */
static int drive_by_next_deadline(sf_wheel_t *w, struct clock_ctx *c, int max_wakeups)
{
	int wakeups = 0;
	while (w->count > 0) {
		int64_t nd = sf_wheel_next_deadline(w);
		assert_true(nd > w->now_ms * MS);
		assert_true(nd % MS == 0);
		assert_true(nd != INT64_MAX);
		expire_at(w, c, nd);
		assert_true(w->now_ms * MS == nd);
		assert_true(++wakeups <= max_wakeups);
	}
	return wakeups;
}

static void test_far_deadlines(void **state)
{
	(void)state;
	static sf_wheel_t w;
	static const int64_t delays[] = {
	        63 * MS,
	        64 * MS,
	        65 * MS,
	        4096 * MS + 1,
	        HOUR + 1,
	        HOUR + 500 * MS,
	        25 * HOUR,
	        DAY + 1,
	        10 * DAY + 77,
	        365 * DAY + 3,
	        794 * DAY,
	        796 * DAY,
	        1000 * DAY,
	        5 * 365 * DAY,
	        (INT64_C(1) << 36) * MS,
	        (INT64_C(1) << 36) * MS - 1,
	        3 * 365 * DAY + 1,
	};
	enum { N = sizeof delays / sizeof delays[0] };
	struct rec r[N];
	memset(r, 0, sizeof r);

	/* Start near a 2^36 ms boundary so the top level wraps on the way. */
	static const int64_t starts[] = {0, 987654321, ((INT64_C(1) << 36) - 5) * MS + 17};
	for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
		struct clock_ctx c = {0, 0};
		memset(r, 0, sizeof r);
		sf_wheel_init(&w, starts[s]);
		for (int i = 0; i < N; i++)
			sf_wheel_arm(&w, &r[i].t, starts[s] + delays[i]);
		/* Each timer cascades at most 5 times per 2^36 ms of clamping. */
		int wakeups = drive_by_next_deadline(&w, &c, N * 6 * 4);
		assert_true(wakeups >= N - 2); /* a few share a due time */
		for (int i = 0; i < N; i++) {
			assert_int_equal(r[i].fired, 1);
			assert_true(r[i].fired_at == due_us(starts[s] + delays[i]));
		}
	}

	/* The same deadlines with a driver that polls every 997 ms for a day and
	 * then every 61 s: cascades happen inside long jumps too. */
	struct clock_ctx c = {0, 0};
	memset(r, 0, sizeof r);
	sf_wheel_init(&w, 0);
	for (int i = 0; i < 9; i++) /* up to 10 days */
		sf_wheel_arm(&w, &r[i].t, delays[i]);
	int64_t now = 0;
	while (w.count > 0) {
		now += now < DAY ? 997 * MS : 61 * SEC;
		assert_true(now < 11 * DAY);
		expire_at(&w, &c, now);
	}
	int64_t last_step = 61 * SEC;
	for (int i = 0; i < 9; i++) {
		assert_int_equal(r[i].fired, 1);
		int64_t step = delays[i] < DAY ? 997 * MS : last_step;
		assert_true(r[i].fired_at >= due_us(delays[i]));
		assert_true(r[i].fired_at < due_us(delays[i]) + step);
	}
}

static void test_past_deadline(void **state)
{
	(void)state;
	static sf_wheel_t w;
	struct clock_ctx c = {0, 0};
	struct rec a = {0}, b = {0}, d = {0};
	sf_wheel_init(&w, 50 * SEC + 400);
	sf_wheel_arm(&w, &a.t, 10 * SEC);
	sf_wheel_arm(&w, &b.t, INT64_MIN);
	sf_wheel_arm(&w, &d.t, 50 * SEC); /* exactly the wheel's ms */
	assert_int_equal(w.count, 3);
	/* Already due: "call expire now". */
	assert_true(sf_wheel_next_deadline(&w) == 50 * SEC);
	/* Fires at the next expire even though time has not moved. */
	expire_at(&w, &c, 50 * SEC + 400);
	assert_int_equal(a.fired + b.fired + d.fired, 3);
	assert_int_equal(w.count, 0);
	/* And with time moving backwards the wheel stays where it was. */
	sf_wheel_arm(&w, &a.t, 0);
	expire_at(&w, &c, 0);
	assert_int_equal(a.fired, 2);
	assert_true(w.now_ms == 50 * 1000);
	/* A deadline within the current ms is not yet due: it is due at the
	 * next ms boundary, never early. */
	sf_wheel_arm(&w, &a.t, 50 * SEC + 700);
	assert_true(sf_wheel_next_deadline(&w) == 50 * SEC + MS);
	expire_at(&w, &c, 50 * SEC + 900);
	assert_int_equal(a.fired, 2);
	expire_at(&w, &c, 50 * SEC + MS);
	assert_int_equal(a.fired, 3);
}

/* ---- callbacks that re-arm, arm and cancel ---- */

struct cb_ctx {
	sf_wheel_t *w;
	int64_t now_us;
	struct rec *periodic, *victim, *spawned, *past;
	int64_t period;
	int periodic_fires, max_periodic;
	int64_t past_rearms;
};

static void cb_fire(void *ctx, sf_timer_t *t)
{
	struct cb_ctx *c = ctx;
	struct rec *r = (struct rec *)t;
	assert_false(sf_timer_armed(t));
	r->fired++;
	r->fired_at = c->now_us;
	if (r == c->periodic) {
		/* Re-arm the same timer from its own callback. */
		c->periodic_fires++;
		if (c->periodic_fires < c->max_periodic)
			sf_wheel_arm(c->w, t, t->deadline_us + c->period);
		/* First firing: cancel another, arm a third later in this same
		 * expire call and a fourth in the past. */
		if (c->periodic_fires == 1 && c->victim != NULL) {
			sf_wheel_cancel(c->w, &c->victim->t);
			sf_wheel_arm(c->w, &c->spawned->t, c->now_us - 2 * MS);
			sf_wheel_arm(c->w, &c->past->t, 0);
		}
	} else if (r == c->past && c->past_rearms > 0) {
		/* Keeps re-arming itself in the past: must fire once per call. */
		c->past_rearms--;
		sf_wheel_arm(c->w, t, -1);
	}
}

static void test_callback_rearm(void **state)
{
	(void)state;
	static sf_wheel_t w;
	struct rec p = {0};
	struct cb_ctx c = {.w = &w, .periodic = &p, .period = 10 * MS, .max_periodic = 100};
	sf_wheel_init(&w, 0);
	sf_wheel_arm(&w, &p.t, 10 * MS);
	int wakeups = 0;
	while (w.count > 0) {
		int64_t nd = sf_wheel_next_deadline(&w);
		assert_true(nd > w.now_ms * MS && nd <= p.t.deadline_us);
		c.now_us = nd;
		int before = p.fired;
		sf_wheel_expire(&w, nd, cb_fire, &c);
		/* Either it fires, on time, or the wake-up was a cascade (the
		 * next period crosses a 64 ms boundary). */
		if (p.fired != before) {
			assert_int_equal(p.fired, before + 1);
			assert_true(p.fired_at == p.fired * 10 * MS);
		} else {
			assert_true(nd % (64 * MS) == 0);
		}
		assert_true(++wakeups <= 200);
	}
	assert_int_equal(p.fired, 100);

	/* All in one expire call spanning many periods. */
	memset(&p, 0, sizeof p);
	c.periodic_fires = 0;
	sf_wheel_init(&w, 0);
	sf_wheel_arm(&w, &p.t, 10 * MS);
	c.now_us = 10 * SEC;
	sf_wheel_expire(&w, 10 * SEC, cb_fire, &c);
	assert_int_equal(p.fired, 100);
	assert_int_equal(w.count, 0);
}

static void test_callback_arms_and_cancels_others(void **state)
{
	(void)state;
	static sf_wheel_t w;
	struct rec p = {0}, victim = {0}, spawned = {0}, past = {0};
	struct cb_ctx c = {.w = &w,
	                   .periodic = &p,
	                   .victim = &victim,
	                   .spawned = &spawned,
	                   .past = &past,
	                   .period = 10 * MS,
	                   .max_periodic = 1,
	                   .past_rearms = 3};
	sf_wheel_init(&w, 0);
	sf_wheel_arm(&w, &p.t, 5 * MS);
	sf_wheel_arm(&w, &victim.t, 6 * MS);
	/* One call covering 0..20 ms; at tick 5 the callback cancels the victim
	 * (due at 6), arms `spawned` for 3 ms after the tick being processed and
	 * `past` at time 0. */
	c.now_us = 20 * MS;
	sf_wheel_expire(&w, 20 * MS, cb_fire, &c);
	assert_int_equal(p.fired, 1);
	assert_int_equal(victim.fired, 0);
	assert_false(sf_timer_armed(&victim.t));
	/* spawned: armed at "now_us - 2 ms" = 18 ms relative to the call's
	 * now_us, i.e. after the tick being processed (5): fires in this call. */
	assert_int_equal(spawned.fired, 1);
	/* past: already due when armed from the callback: left for the next
	 * call, which fires it even without time moving. */
	assert_int_equal(past.fired, 0);
	assert_true(sf_timer_armed(&past.t));
	assert_int_equal(w.count, 1);
	assert_true(sf_wheel_next_deadline(&w) == 20 * MS);
	/* It re-arms itself in the past 3 times: once per call, no loop. */
	for (int call = 1; call <= 4; call++) {
		sf_wheel_expire(&w, 20 * MS, cb_fire, &c);
		assert_int_equal(past.fired, call);
	}
	assert_int_equal(w.count, 0);
	sf_wheel_expire(&w, 20 * MS, cb_fire, &c);
	assert_int_equal(past.fired, 4);
}

/* Nothing armed: a jump of 10 days is one step, not 8.64e8. */
static void test_big_jump(void **state)
{
	(void)state;
	static sf_wheel_t w;
	struct clock_ctx c = {0, 0};
	struct rec a = {0}, forever = {0};
	sf_wheel_init(&w, 0);
	for (int i = 1; i <= 1000; i++)
		expire_at(&w, &c, i * 10 * DAY);
	assert_true(w.now_ms == 10000 * DAY / MS);
	/* One far timer, many long jumps around it. */
	int64_t base = 10000 * DAY;
	sf_wheel_arm(&w, &a.t, base + 20 * DAY + 5);
	sf_wheel_arm(&w, &forever.t, INT64_MAX);
	expire_at(&w, &c, base + 10 * DAY);
	assert_int_equal(a.fired, 0);
	int64_t nd = sf_wheel_next_deadline(&w);
	assert_true(nd > base + 10 * DAY && nd <= due_us(base + 20 * DAY + 5));
	expire_at(&w, &c, base + 20 * DAY);
	assert_int_equal(a.fired, 0);
	expire_at(&w, &c, base + 20 * DAY + MS);
	assert_int_equal(a.fired, 1);
	assert_true(a.fired_at == base + 20 * DAY + MS);
	/* INT64_MAX never fires; next_deadline stays a valid future time. */
	for (int i = 1; i <= 100; i++)
		expire_at(&w, &c, base + i * 1000 * DAY);
	assert_int_equal(forever.fired, 0);
	assert_int_equal(w.count, 1);
	nd = sf_wheel_next_deadline(&w);
	assert_true(nd > w.now_ms * MS);
	sf_wheel_cancel(&w, &forever.t);
	assert_int_equal(w.count, 0);
}

/* ---- random model test ---- */

#define NT 100000

struct item {
	sf_timer_t t; /* first member */
	int64_t deadline_us;
	uint32_t gen;
	int armed;              /* per the model */
	int deferred;           /* armed from a callback with a due time already passed */
	uint64_t armed_in_call; /* expire calls completed when armed */
};

struct hent {
	int64_t tick;
	uint32_t id, gen;
};

struct model {
	sf_wheel_t w;
	struct item items[NT];
	struct hent *heap;
	size_t heap_len, heap_cap;
	struct hent *deferred; /* (id, gen) that must fire at the next call */
	size_t deferred_len, deferred_cap;
	uint32_t armed_cnt;
	uint64_t calls;    /* expire calls completed */
	int64_t now_us;    /* of the current call */
	int64_t prev_tick; /* wheel tick after the previous call */
	uint64_t fired, rearmed;
};

static void heap_push(struct model *m, struct hent e)
{
	if (m->heap_len == m->heap_cap) {
		m->heap_cap = m->heap_cap ? 2 * m->heap_cap : 1024;
		m->heap = realloc(m->heap, m->heap_cap * sizeof *m->heap);
		assert_non_null(m->heap);
	}
	size_t i = m->heap_len++;
	while (i > 0 && m->heap[(i - 1) / 2].tick > e.tick) {
		m->heap[i] = m->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	m->heap[i] = e;
}

static struct hent heap_pop(struct model *m)
{
	struct hent top = m->heap[0], last = m->heap[--m->heap_len];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m->heap_len)
			break;
		if (c + 1 < m->heap_len && m->heap[c + 1].tick < m->heap[c].tick)
			c++;
		if (m->heap[c].tick >= last.tick)
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (m->heap_len > 0)
		m->heap[i] = last;
	return top;
}

static int hent_alive(const struct model *m, struct hent e)
{
	const struct item *it = &m->items[e.id];
	return it->armed && it->gen == e.gen;
}

static void model_arm(struct model *m, uint32_t id, int64_t deadline_us, int from_callback)
{
	struct item *it = &m->items[id];
	if (!it->armed)
		m->armed_cnt++;
	it->armed = 1;
	it->gen++;
	it->deadline_us = deadline_us;
	it->armed_in_call = m->calls;
	it->deferred = from_callback && ceil_ms(deadline_us) <= m->w.now_ms;
	sf_wheel_arm(&m->w, &it->t, deadline_us);
	heap_push(m, (struct hent){ceil_ms(deadline_us), id, it->gen});
	if (it->deferred) {
		if (m->deferred_len == m->deferred_cap) {
			m->deferred_cap = m->deferred_cap ? 2 * m->deferred_cap : 256;
			m->deferred = realloc(m->deferred, m->deferred_cap * sizeof *m->deferred);
			assert_non_null(m->deferred);
		}
		m->deferred[m->deferred_len++] = (struct hent){0, id, it->gen};
	}
}

static void model_cancel(struct model *m, uint32_t id)
{
	struct item *it = &m->items[id];
	if (it->armed)
		m->armed_cnt--;
	it->armed = 0;
	it->deferred = 0;
	it->gen++;
	sf_wheel_cancel(&m->w, &it->t);
}

static int64_t rnd_delay(void)
{
	int64_t p = rnd_below(100);
	if (p < 4)
		return -rnd_below(5 * SEC); /* in the past */
	if (p < 44)
		return rnd_below(200 * MS);
	if (p < 74)
		return rnd_below(60 * SEC);
	if (p < 89)
		return rnd_below(2 * HOUR);
	if (p < 97)
		return rnd_below(30 * DAY);
	return 800 * DAY + rnd_below(1200 * DAY); /* past the top level */
}

static void model_fire(void *ctx, sf_timer_t *t)
{
	struct model *m = ctx;
	struct item *it = (struct item *)t;
	uint32_t id = (uint32_t)(it - m->items);
	int64_t tick = ceil_ms(it->deadline_us);
	assert_false(sf_timer_armed(t));
	assert_true(it->armed);
	/* Never early: due at or before this call's time... */
	assert_true(it->deadline_us <= m->now_us);
	assert_true(tick <= m->w.now_ms);
	/* ...and not already due in the previous call, unless it was armed
	 * after that call or was left over from it on purpose. */
	if (!it->deferred && it->armed_in_call < m->calls)
		assert_true(tick > m->prev_tick);
	it->armed = 0;
	it->deferred = 0;
	it->gen++;
	m->armed_cnt--;
	m->fired++;
	/* Sometimes re-arm from the callback (possibly into the past), or
	 * cancel / arm some other timer. */
	int64_t p = rnd_below(100);
	if (p < 10) {
		m->rearmed++;
		model_arm(m, id, m->w.now_ms * MS + rnd_below(60 * MS) - 3 * MS, 1);
	} else if (p < 13) {
		model_cancel(m, (uint32_t)rnd_below(NT));
	} else if (p < 16) {
		model_arm(m, (uint32_t)rnd_below(NT), m->w.now_ms * MS + rnd_delay(), 1);
	}
}

static void model_check_next_deadline(struct model *m)
{
	while (m->heap_len > 0 && !hent_alive(m, m->heap[0]))
		heap_pop(m);
	assert_int_equal(m->w.count, m->armed_cnt);
	int64_t nd = sf_wheel_next_deadline(&m->w);
	if (m->armed_cnt == 0) {
		assert_true(nd == INT64_MAX);
		return;
	}
	int64_t min_tick = m->heap[0].tick;
	if (min_tick <= m->w.now_ms) {
		assert_true(nd == m->w.now_ms * MS);
	} else {
		assert_true(nd > m->w.now_ms * MS);
		assert_true(nd <= min_tick * MS);
		assert_true(nd % MS == 0);
	}
}

static void model_expire(struct model *m, int64_t now_us)
{
	size_t must_len = m->deferred_len;
	struct hent *must = NULL;
	if (must_len > 0) {
		must = malloc(must_len * sizeof *must);
		assert_non_null(must);
		memcpy(must, m->deferred, must_len * sizeof *must);
	}
	m->deferred_len = 0;

	m->now_us = now_us;
	sf_wheel_expire(&m->w, now_us, model_fire, m);
	m->calls++;
	int64_t tick = m->w.now_ms;
	assert_true(tick * MS <= now_us && tick >= m->prev_tick);

	/* Whatever was left over from the previous call has fired. */
	for (size_t i = 0; i < must_len; i++)
		assert_false(hent_alive(m, must[i]));
	free(must);
	/* Every timer due by now has fired, except those armed into the past
	 * by a callback of this call. */
	static struct hent kept[NT];
	size_t keep = 0;
	while (m->heap_len > 0 && m->heap[0].tick <= tick) {
		struct hent e = heap_pop(m);
		if (!hent_alive(m, e))
			continue;
		if (!m->items[e.id].deferred)
			fail_msg("timer %u due at tick %lld missed at tick %lld", e.id,
			         (long long)e.tick, (long long)tick);
		assert_true(keep < NT);
		kept[keep++] = e;
	}
	for (size_t i = 0; i < keep; i++)
		heap_push(m, kept[i]);
	m->prev_tick = tick;
}

static void test_random_model(void **state)
{
	(void)state;
	struct model *m = calloc(1, sizeof *m);
	assert_non_null(m);
	rng_state = 0x5eed;
	int64_t now = 1000 * SEC + 321;
	sf_wheel_init(&m->w, now);
	m->prev_tick = m->w.now_ms;

	/* Arm all 100k timers, then mix arms, cancels and expires. */
	for (uint32_t id = 0; id < NT; id++) {
		model_arm(m, id, now + rnd_delay(), 0);
		if (id % 1000 == 0)
			model_check_next_deadline(m);
	}
	model_check_next_deadline(m);
	for (int op = 0; op < 400000; op++) {
		int64_t p = rnd_below(100);
		if (p < 30) {
			model_arm(m, (uint32_t)rnd_below(NT), now + rnd_delay(), 0);
		} else if (p < 40) {
			model_cancel(m, (uint32_t)rnd_below(NT));
		} else if (p < 48) {
			/* Driver step: exactly to the next deadline. */
			int64_t nd = sf_wheel_next_deadline(&m->w);
			if (nd != INT64_MAX) {
				if (nd > now)
					now = nd;
				model_expire(m, now);
			}
		} else {
			int64_t q = rnd_below(100);
			if (q < 60)
				now += rnd_below(1500);
			else if (q < 90)
				now += rnd_below(100 * MS);
			else if (q < 99)
				now += rnd_below(30 * SEC);
			else
				now += rnd_below(3 * DAY);
			model_expire(m, now);
		}
		model_check_next_deadline(m);
	}
	/* Drain everything with the next-deadline driver. */
	for (int i = 0; m->w.count > 0; i++) {
		assert_true(i < 5000000);
		int64_t nd = sf_wheel_next_deadline(&m->w);
		if (nd > now)
			now = nd;
		model_expire(m, now);
		model_check_next_deadline(m);
	}
	assert_int_equal(m->armed_cnt, 0);
	print_message("random model: %llu expire calls, %llu fired, %llu re-armed from callbacks\n",
	              (unsigned long long)m->calls, (unsigned long long)m->fired,
	              (unsigned long long)m->rearmed);
	assert_true(m->fired > NT / 2);
	assert_true(m->rearmed > 1000);
	free(m->heap);
	free(m->deferred);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_arm_cancel_rearm),
	        cmocka_unit_test(test_never_early_at_most_1ms_late),
	        cmocka_unit_test(test_far_deadlines),
	        cmocka_unit_test(test_past_deadline),
	        cmocka_unit_test(test_callback_rearm),
	        cmocka_unit_test(test_callback_arms_and_cancels_others),
	        cmocka_unit_test(test_big_jump),
	        cmocka_unit_test(test_random_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
