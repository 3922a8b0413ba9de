/* Timer wheel: hierarchical, 6 levels x 64 slots, 1 ms ticks.
 *
 * Time. The wheel counts whole milliseconds ("ticks"). now_ms is the last tick
 * it has processed: floor(now_us / 1000) of the latest sf_wheel_expire (or of
 * sf_wheel_init), never negative, never moving backwards. An entry's due tick
 * is E = ceil(deadline_us / 1000), so it is popped by the first expire whose
 * now_us >= E * 1000 >= deadline_us: never early, and less than 1 ms late for
 * a driver that calls expire at the time sf_wheel_next_deadline() returned.
 *
 * Placement ("which bits differ"). With T = now_ms and E > T, an entry sits at
 * the lowest level L in 0..4 such that E >> 6(L+1) == T >> 6(L+1), in slot
 * (E >> 6L) & 63; that slot's index differs from T's index at level L. Level 5
 * takes the rest, in slot (E >> 30) & 63 when E >> 30 is at most 63 periods
 * ahead of T >> 30; beyond that (about 795 days) the entry is clamped into the
 * farthest level-5 slot and placed again when that slot is reached. A slot at
 * level L >= 1 is "reached" at the first tick after T whose low 6L bits are
 * zero and whose level-L index is the slot's: its entries then cascade (are
 * placed again relative to the new T, which moves them down). A level-0 slot
 * is reached at the tick with its index: its entries are due and fire.
 *
 * Due slot. Level-0 slot T & 63 never holds a future entry, so it holds the
 * entries that are already due: armed with E <= T. They fire at the start of
 * the next sf_wheel_expire, whatever its now_us.
 *
 * Skipping. Expire jumps straight from one reached non-empty slot to the
 * next: it finds, per level, the first non-empty slot after the current index
 * (at most 64 sentinel checks per level), so a jump of days with nothing armed
 * costs one scan of 6 x 64 list heads, not one step per tick. Lists are
 * intrusive and doubly linked around sentinel heads (bare two-pointer links,
 * so the 384 heads cost 3 KiB on a 32-bit CPU, 6 KiB on a 64-bit one), so arm
 * and cancel are O(1).
 */
#include "core/wheel.h"
#include "base/assert.h"

#include <stddef.h>

#define SLOT_BITS 6
#define SLOT_MASK (SF_WHEEL_SLOTS - 1)
#define TOP_LEVEL (SF_WHEEL_LEVELS - 1)

/* Paths that buy speed with code size are left out of builds optimised
 * for size (-Os: the firmware build, bench/footprint.sh), which take the
 * general path; both give the same bytes. */
#if defined(__OPTIMIZE_SIZE__)
#define FAST_PATHS 0
#else
#define FAST_PATHS 1
#endif

static int64_t ceil_ms(int64_t us)
{
	return us / 1000 + (us % 1000 > 0 ? 1 : 0);
}
static int64_t floor_ms(int64_t us)
{
	return us / 1000 - (us % 1000 < 0 ? 1 : 0);
}

static void list_init(sf_tlink_t *head)
{
	head->next = head;
	head->prev = head;
}

static bool list_empty(const sf_tlink_t *head)
{
	return head->next == head;
}

static void list_append(sf_tlink_t *head, sf_tlink_t *t)
{
	t->prev = head->prev;
	t->next = head;
	head->prev->next = t;
	head->prev = t;
}

static void list_unlink(sf_tlink_t *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = NULL;
	t->prev = NULL;
}

/* Moves every entry of src to the end of dst; src becomes empty. */
static void list_splice(sf_tlink_t *dst, sf_tlink_t *src)
{
	if (list_empty(src))
		return;
	src->next->prev = dst->prev;
	dst->prev->next = src->next;
	src->prev->next = dst;
	dst->prev = src->prev;
	list_init(src);
}

/* The timer a list link belongs to (the link is its first member). */
static sf_timer_t *timer_of(sf_tlink_t *l)
{
	return (sf_timer_t *)(void *)l;
}

static sf_tlink_t *due_slot(sf_wheel_t *w)
{
	return &w->slots[0][w->now_ms & SLOT_MASK];
}

/* Links an armed entry into the slot its due tick calls for, relative to the
 * wheel's current tick (see the file comment). */
static void place(sf_wheel_t *w, sf_timer_t *t)
{
	int64_t due = ceil_ms(t->deadline_us);
	unsigned level = 0, slot;
	if (due <= w->now_ms) {
		slot = (unsigned)(w->now_ms & SLOT_MASK);
	} else {
		/* e and n step down to each level's resolution together (shifts
		 * by a constant: cheap on a 32-bit CPU, unlike 64-bit shifts by a
		 * variable) until their bits above the level agree. */
		uint64_t e = (uint64_t)due, n = (uint64_t)w->now_ms;
		for (uint64_t above = (e ^ n) >> SLOT_BITS; level < TOP_LEVEL && above;
		     above >>= SLOT_BITS) {
			e >>= SLOT_BITS;
			n >>= SLOT_BITS;
			level++;
		}
		if (level == TOP_LEVEL && e - n > SLOT_MASK)
			e = n + SLOT_MASK; /* clamp: placed again when reached */
		slot = (unsigned)(e & SLOT_MASK);
	}
	t->level = (uint8_t)level;
	list_append(&w->slots[level][slot], &t->link);
}

/* The first tick after now_ms at which some non-empty slot is reached (an
 * entry fires or cascades), ignoring the due slot; INT64_MAX if none. Never
 * later than the due tick of any entry in the slots. The lowest non-empty
 * level decides: everything at level L is reached before the next multiple
 * of 64^(L+1) ms, and nothing above level L is reached before it. */
static int64_t next_event(const sf_wheel_t *w)
{
	uint64_t q = (uint64_t)w->now_ms; /* now_ms >> (SLOT_BITS * level) */
	for (unsigned level = 0; level < SF_WHEEL_LEVELS; level++, q >>= SLOT_BITS) {
		unsigned cur = (unsigned)(q & SLOT_MASK);
		unsigned last = level == 0 ? SF_WHEEL_SLOTS - 1 : SF_WHEEL_SLOTS;
		for (unsigned d = 1; d <= last; d++) {
			if (!list_empty(&w->slots[level][(cur + d) & SLOT_MASK]))
				return (int64_t)((q + d) << (SLOT_BITS * level));
		}
	}
	return INT64_MAX;
}

/* At tick now_ms, re-places the entries of every slot reached at this tick on
 * levels 1..5 (a slot is reached when the tick's low 6L bits are zero). */
static void cascade(sf_wheel_t *w)
{
	/* The levels reached: 1..top, as many as the tick has low 6-bit
	 * groups of zeros; idx[L] is the tick's slot index at level L. */
	unsigned idx[SF_WHEEL_LEVELS], top = 0;
	uint64_t n = (uint64_t)w->now_ms;
	while (top < TOP_LEVEL && (n & SLOT_MASK) == 0) {
		n >>= SLOT_BITS;
		idx[++top] = (unsigned)(n & SLOT_MASK);
	}
	for (unsigned level = top; level >= 1; level--) {
		sf_tlink_t batch;
		list_init(&batch);
		list_splice(&batch, &w->slots[level][idx[level]]);
		while (!list_empty(&batch)) {
			sf_timer_t *t = timer_of(batch.next);
			list_unlink(&t->link);
			place(w, t);
		}
	}
}

/* Fires every entry of the due slot. The slot is emptied first, so entries
 * that callbacks arm into it (deadline at or before now_ms) wait for the
 * caller to decide; callbacks may cancel or re-arm any entry, including ones
 * still waiting in `batch`, because each is unlinked before its callback. */
static void fire_due(sf_wheel_t *w, void (*fn)(void *ctx, sf_timer_t *t), void *ctx)
{
	sf_tlink_t batch;
	list_init(&batch);
	list_splice(&batch, due_slot(w));
	while (!list_empty(&batch)) {
		sf_timer_t *t = timer_of(batch.next);
		list_unlink(&t->link);
		t->armed = 0;
		w->count--;
		if (fn != NULL)
			fn(ctx, t);
	}
}

void sf_wheel_init(sf_wheel_t *w, int64_t now_us)
{
	int64_t now_ms = floor_ms(now_us);
	w->now_ms = now_ms < 0 ? 0 : now_ms;
	w->count = 0;
	for (unsigned level = 0; level < SF_WHEEL_LEVELS; level++) {
		for (unsigned slot = 0; slot < SF_WHEEL_SLOTS; slot++)
			list_init(&w->slots[level][slot]);
	}
}

/* t must be zero-initialised before its first use (next/prev NULL, armed 0)
 * and may be armed in one wheel at a time. Re-arming an armed entry moves it.
 * Safe to call from an expire callback, for any entry. */
void sf_wheel_arm(sf_wheel_t *w, sf_timer_t *t, int64_t deadline_us)
{
	if (t->armed) {
		/* The same due tick: the entry already sits where it must (its
		 * place depends only on the due tick and on ticks the wheel has
		 * processed since, which cascading takes care of). */
		if (FAST_PATHS && ceil_ms(deadline_us) == ceil_ms(t->deadline_us)) {
			t->deadline_us = deadline_us;
			return;
		}
		sf_wheel_cancel(w, t);
	}
	t->deadline_us = deadline_us;
	t->armed = 1;
	w->count++;
	place(w, t);
}

/* Disarms t; a no-op when t is not armed. Safe from an expire callback. */
void sf_wheel_cancel(sf_wheel_t *w, sf_timer_t *t)
{
	if (!t->armed)
		return;
	SF_ASSERT(w->count > 0);
	list_unlink(&t->link);
	t->armed = 0;
	w->count--;
}

/* Processes ticks now_ms+1 .. floor(now_us / 1000) in order, only stopping at
 * ticks where some slot is reached: cascades, then fires that tick's entries.
 * Entries that were already due when the call began fire first. An entry a
 * callback arms with a due tick at or before the tick being processed is not
 * fired by this call: it is left in the due slot for the next one (so a
 * callback that keeps re-arming into the past cannot loop forever). A now_us
 * earlier than the wheel's time does not move it back. fn must not call
 * sf_wheel_expire or sf_wheel_init on the same wheel. */
void sf_wheel_expire(sf_wheel_t *w, int64_t now_us, void (*fn)(void *ctx, sf_timer_t *t), void *ctx)
{
	int64_t target = floor_ms(now_us);
	if (target < w->now_ms)
		target = w->now_ms;

	sf_tlink_t deferred;
	list_init(&deferred);
	for (;;) {
		fire_due(w, fn, ctx);
		list_splice(&deferred, due_slot(w));
		if (w->now_ms >= target)
			break;
		int64_t tick = w->count == 0 ? INT64_MAX : next_event(w);
		if (tick > target) {
			w->now_ms = target;
			break;
		}
		w->now_ms = tick;
		cascade(w);
	}
	list_splice(due_slot(w), &deferred);
}

/* Returns INT64_MAX when nothing is armed. Otherwise, if some entry is already
 * due (armed with a deadline at or before the wheel's tick and not yet fired),
 * returns now_ms * 1000: call sf_wheel_expire now. Otherwise returns a time
 * t, a multiple of 1000, with
 *     now_ms * 1000 < t <= min over armed entries of ceil_ms(deadline_us) * 1000,
 * i.e. strictly after every now_us the wheel has seen and never after the
 * moment the earliest entry becomes due (its deadline rounded up to the ms).
 * t is exactly that moment when the earliest event is a level-0 slot, and the
 * time of the next cascade otherwise (the driver wakes, expire cascades, and
 * asking again gives a later, tighter answer). A driver that sleeps until t
 * and then calls sf_wheel_expire(t) therefore never spins (every wake-up
 * fires or cascades a non-empty slot) and never wakes late. Due ticks whose
 * time in microseconds does not fit in int64 are reported as INT64_MAX. */
int64_t sf_wheel_next_deadline(const sf_wheel_t *w)
{
	if (w->count == 0)
		return INT64_MAX;
	if (!list_empty(&w->slots[0][w->now_ms & SLOT_MASK]))
		return w->now_ms * 1000;
	int64_t tick = next_event(w);
	if (tick > INT64_MAX / 1000)
		return INT64_MAX;
	return tick * 1000;
}
