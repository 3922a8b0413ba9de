/* IPv4 fragment reassembly (RFC 791 §3.2, RFC 815), bounded in time and
 * memory.
 *
 * A fixed number of slots (cfg.frag_slots), each with a 64 KiB buffer and a
 * bitmap of 8-byte blocks, is allocated with the stack: nothing is allocated
 * per fragment. A datagram whose fragments overlap is discarded whole (as
 * Linux does since 2018, and RFC 5722 requires for IPv6: overlaps are only
 * ever used to evade inspection). Slots older than cfg.frag_timeout_ms are
 * reclaimed; when all slots are busy the oldest is given up, so a flood of
 * never-completed datagrams costs a fixed amount of memory.
 */
#include <string.h>

#include "core/stack.h"

#ifndef SF_NO_IPFRAG /* the stubs in stack.h stand in for this file */

#define FRAG_BUF    65535
#define FRAG_BLOCKS ((FRAG_BUF + 7) / 8)

struct sf_frag_slot {
	bool used;
	uint8_t proto;
	uint16_t id;
	uint32_t src;
	int64_t started_us;
	uint32_t total;    /* payload length once the last fragment arrived, else 0 */
	uint32_t received; /* payload bytes held */
	sf_ipv4_t first;   /* header of the first fragment (offset 0), when seen */
	bool have_first;
	uint8_t map[FRAG_BLOCKS / 8 + 1];
	uint8_t data[FRAG_BUF];
};

int sf_frag_init(sf_stack_t *st)
{
	if (!st->cfg.frag_slots)
		return 0;
	st->frags = sf_core_alloc(st, (size_t)st->cfg.frag_slots * sizeof *st->frags);
	if (!st->frags)
		return SF_ENOMEM;
	for (uint32_t i = 0; i < st->cfg.frag_slots; i++)
		st->frags[i].used = false;
	return 0;
}

void sf_frag_fini(sf_stack_t *st)
{
	sf_core_free(st, st->frags, (size_t)st->cfg.frag_slots * sizeof *st->frags);
	st->frags = NULL;
}

static bool test_and_set(uint8_t *map, uint32_t first, uint32_t last, bool *overlap)
{
	for (uint32_t b = first; b <= last; b++) {
		if (map[b / 8] & (1u << (b % 8)))
			*overlap = true;
		map[b / 8] |= (uint8_t)(1u << (b % 8));
	}
	return !*overlap;
}

static void release(sf_frag_slot_t *s)
{
	s->used = false;
}

void sf_frag_expire(sf_stack_t *st)
{
	for (uint32_t i = 0; i < st->cfg.frag_slots; i++) {
		sf_frag_slot_t *s = &st->frags[i];
		if (s->used && st->now_us - s->started_us >= st->cfg.frag_timeout_ms * 1000ll) {
			release(s);
			st->stats.drops[SF_DROP_IP_FRAGMENT]++;
		}
	}
}

static sf_frag_slot_t *find_slot(sf_stack_t *st, const sf_ipv4_t *ip)
{
	sf_frag_slot_t *free_slot = NULL, *oldest = NULL;
	for (uint32_t i = 0; i < st->cfg.frag_slots; i++) {
		sf_frag_slot_t *s = &st->frags[i];
		if (s->used && s->src == ip->src && s->id == ip->id && s->proto == ip->proto)
			return s;
		if (!s->used && !free_slot)
			free_slot = s;
		if (s->used && (!oldest || s->started_us < oldest->started_us))
			oldest = s;
	}
	sf_frag_slot_t *s = free_slot;
	if (!s) {
		s = oldest; /* all busy: the oldest datagram is given up */
		st->stats.drops[SF_DROP_IP_FRAGMENT]++;
	}
	s->used = true;
	s->src = ip->src;
	s->id = ip->id;
	s->proto = ip->proto;
	s->started_us = st->now_us;
	s->total = s->received = 0;
	s->have_first = false;
	memset(s->map, 0, sizeof s->map);
	return s;
}

/* Takes one fragment. Returns true and sets *ip, *payload, *len when it
 * completed a datagram (valid until the next call). */
bool sf_frag_input(sf_stack_t *st, sf_ipv4_t *ip, const uint8_t **payload, size_t *len)
{
	if (!st->cfg.frag_slots) {
		sf_core_drop(st, SF_DROP_IP_FRAGMENT, 0, ip, NULL);
		return false;
	}
	sf_frag_expire(st);
	uint32_t off = ip->frag_off, n = (uint32_t)*len;
	/* Every fragment but the last carries a multiple of 8 bytes, and no
	 * datagram exceeds 65535 bytes. */
	if ((ip->mf && (n % 8 || n == 0)) || off + n > FRAG_BUF - SF_IPV4_HDR_LEN) {
		sf_core_drop(st, SF_DROP_IP_MALFORMED, 0, ip, NULL);
		return false;
	}
	sf_frag_slot_t *s = find_slot(st, ip);
	if (n) {
		bool overlap = false;
		test_and_set(s->map, off / 8, (off + n - 1) / 8, &overlap);
		if (overlap || (s->total && off + n > s->total) || (!ip->mf && s->total)) {
			release(s);
			sf_core_drop(st, SF_DROP_IP_FRAGMENT, 0, ip, NULL);
			return false;
		}
		memcpy(s->data + off, *payload, n);
		s->received += n;
	}
	if (!ip->mf)
		s->total = off + n;
	if (off == 0) {
		s->first = *ip;
		s->have_first = true;
	}
	if (!s->total || s->received != s->total || !s->have_first)
		return false; /* waiting for more */
	*ip = s->first;
	ip->mf = false;
	ip->frag_off = 0;
	ip->total_len = (uint16_t)(s->total + ip->hdr_len);
	*payload = s->data;
	*len = s->total;
	release(s);
	return true;
}

#endif /* SF_NO_IPFRAG */
