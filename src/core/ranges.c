/* The range set (see ranges.h): linear, allocation-free. With a few
 * entries a scan beats any structure; a receive window's worth (up to
 * SF_RANGES_EXT_MAX) is still scanned once per out-of-order segment. */
#include "core/ranges.h"
#include "base/assert.h"

#include <string.h>

#include "synfin/wire.h"

void sf_ranges_init(sf_ranges_t *s, uint8_t cap)
{
	s->r = s->own;
	s->cnt = 0;
	s->cap = cap == 0 || cap > SF_RANGES_MAX ? SF_RANGES_MAX : cap;
}

void sf_ranges_rehome(sf_ranges_t *s, sf_range_t *mem, uint16_t cap)
{
	SF_ASSERT(mem != NULL && s->cnt <= cap && cap <= SF_RANGES_EXT_MAX);
	memcpy(mem, s->r, s->cnt * sizeof *mem);
	s->r = mem;
	s->cap = cap;
}

static bool touches(const sf_range_t *o, uint32_t l, uint32_t r)
{
	return sf_seq_le(o->left, r) && sf_seq_ge(o->right, l);
}

static void remove_at(sf_ranges_t *s, uint16_t i)
{
	memmove(&s->r[i], &s->r[i + 1], (size_t)(s->cnt - i - 1) * sizeof s->r[0]);
	s->cnt--;
}

bool sf_ranges_add(sf_ranges_t *s, uint32_t left, uint32_t right, sf_ranges_evict_t evict)
{
	if (!sf_seq_lt(left, right))
		return true;
	/* Absorb every range it touches (a merge can bridge several). */
	for (uint16_t i = 0; i < s->cnt;) {
		if (touches(&s->r[i], left, right)) {
			left = sf_seq_min(left, s->r[i].left);
			right = sf_seq_max(right, s->r[i].right);
			remove_at(s, i);
		} else {
			i++;
		}
	}
	if (s->cnt == s->cap) {
		uint16_t victim = (uint16_t)(s->cnt - 1); /* the oldest */
		if (evict == SF_EVICT_HIGHEST) {
			victim = 0;
			for (uint16_t i = 1; i < s->cnt; i++)
				if (sf_seq_gt(s->r[i].left, s->r[victim].left))
					victim = i;
			if (sf_seq_gt(left, s->r[victim].left))
				return false;
		}
		remove_at(s, victim);
	}
	memmove(&s->r[1], &s->r[0], (size_t)s->cnt * sizeof s->r[0]);
	s->r[0] = (sf_range_t){left, right};
	s->cnt++;
	return true;
}

void sf_ranges_trim(sf_ranges_t *s, uint32_t seq)
{
	for (uint16_t i = 0; i < s->cnt;) {
		if (sf_seq_le(s->r[i].right, seq)) {
			remove_at(s, i);
			continue;
		}
		if (sf_seq_lt(s->r[i].left, seq))
			s->r[i].left = seq;
		i++;
	}
}

uint32_t sf_ranges_advance(sf_ranges_t *s, uint32_t seq)
{
	for (uint16_t i = 0; i < s->cnt;) {
		if (sf_seq_le(s->r[i].left, seq)) {
			seq = sf_seq_max(seq, s->r[i].right);
			remove_at(s, i);
			i = 0; /* the new seq may reach a range passed over */
		} else {
			i++;
		}
	}
	return seq;
}

uint32_t sf_ranges_bytes_from(const sf_ranges_t *s, uint32_t seq)
{
	uint32_t n = 0;
	for (uint16_t i = 0; i < s->cnt; i++)
		if (sf_seq_gt(s->r[i].right, seq))
			n += s->r[i].right - sf_seq_max(s->r[i].left, seq);
	return n;
}

uint32_t sf_ranges_highest(const sf_ranges_t *s, uint32_t floor)
{
	uint32_t h = floor;
	for (uint16_t i = 0; i < s->cnt; i++)
		h = sf_seq_max(h, s->r[i].right);
	return h;
}

const sf_range_t *sf_ranges_find(const sf_ranges_t *s, uint32_t seq)
{
	for (uint16_t i = 0; i < s->cnt; i++)
		if (sf_seq_ge(seq, s->r[i].left) && sf_seq_lt(seq, s->r[i].right))
			return &s->r[i];
	return NULL;
}

uint32_t sf_ranges_next_left(const sf_ranges_t *s, uint32_t seq, uint32_t limit)
{
	uint32_t end = limit;
	for (uint16_t i = 0; i < s->cnt; i++)
		if (sf_seq_gt(s->r[i].left, seq))
			end = sf_seq_min(end, s->r[i].left);
	return end;
}
