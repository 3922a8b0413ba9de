/* The Ethernet/ARP link layer (include/synfin/eth.h): an interface that owns a
 * stack and puts Ethernet II framing and ARP (RFC 826) between it and a MAC
 * driver.
 *
 * Output: the stack's transmit callback lands in eth_output(), which finds
 * the next hop (the destination inside our subnet, the gateway outside it)
 * in the ARP cache. A resolved next hop gets the frame at once; otherwise the
 * datagram waits in a bounded queue (RFC 1122 §2.3.2.2: keep at least the
 * latest one, so a full queue displaces its oldest datagram) and a request is
 * broadcast, repeated at most once per arp_retry_ms (RFC 1122 §2.3.2.1) and
 * given up after arp_retries, dropping what waited.
 *
 * Input: frames for our MAC or broadcast from a unicast sender; IPv4 goes to
 * the stack, ARP follows RFC 826's "Packet Reception" algorithm: a sender
 * already in the cache is refreshed (merge); a packet whose target is our
 * address adds its sender and, if a request, is answered.
 *
 * The cache is a small array (arp_entries, default 8) searched linearly: a
 * host on a LAN talks to a handful of next hops, usually one gateway, and a
 * scan of eight 24-byte entries is cheaper than hashing. All memory comes
 * from the stack config's allocator in one block at creation.
 */
#include <string.h>

#include "base/alloc.h"
#include "synfin/eth.h"

enum { E_FREE = 0, E_INCOMPLETE, E_REACHABLE };

typedef struct arp_entry {
	uint32_t addr;
	uint8_t mac[SF_ETH_ADDR_LEN];
	uint8_t state;       /* E_* */
	uint8_t tries;       /* requests sent while incomplete */
	int64_t deadline_us; /* incomplete: next request; reachable: expiry */
} arp_entry_t;

typedef struct waiting {
	uint32_t next_hop; /* 0: free slot */
	uint32_t seq;      /* arrival order */
	uint32_t len;
	uint8_t *data; /* mtu bytes in the interface's block */
} waiting_t;

struct sf_eth {
	sf_eth_config_t cfg;
	sf_stack_t *st;
	sf_allocator_t al;
	sf_trace_sink_t trace;
	uint32_t addr, mask;
	int prefix_len;
	uint32_t mtu; /* largest datagram */
	int64_t now_us;
	arp_entry_t *cache;
	waiting_t *q;
	uint32_t q_seq;
	uint8_t *tx; /* the frame being built: mtu + 14 bytes, at least 60 */
	uint32_t announces_left;
	int64_t announce_at_us;
	size_t block_len;
	sf_eth_stats_t stats;
};

static const uint8_t bcast_mac[SF_ETH_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[SF_ETH_ADDR_LEN];

void sf_eth_config_default(sf_eth_config_t *c)
{
	memset(c, 0, sizeof *c);
	c->mac[0] = 0x02; /* locally administered, unicast */
	c->mac[5] = 0x01;
	c->arp_entries = 8;
	c->arp_queue = 4;
	c->arp_timeout_ms = 60000;
	c->arp_retry_ms = 1000;
	c->arp_retries = 3;
	c->announce_cnt = 2;
	c->announce_interval_ms = 2000;
}

/* ---- counting and tracing ---- */

static void drop(sf_eth_t *e, sf_drop_reason_t why)
{
	e->stats.drops[why]++;
#ifndef SF_NO_TRACE /* as the stack's events (src/core/stack.h) */
	if (e->trace.fn) {
		sf_event_t ev = {.kind = SF_EV_DROP, .now_us = e->now_us, .drop = why};
		e->trace.fn(e->trace.ctx, &ev);
	}
#endif
}

static void advance(sf_eth_t *e, int64_t now_us)
{
	if (now_us > e->now_us)
		e->now_us = now_us;
}

/* ---- sending ---- */

/* Sends e->tx with a header to `dst` of `type`; the payload of `len` bytes
 * is already at e->tx + 14. Short frames are padded to the Ethernet
 * minimum with zeros (RFC 894: the receiver ignores the padding). */
static int send_frame(sf_eth_t *e, const uint8_t dst[SF_ETH_ADDR_LEN], uint16_t type, size_t len)
{
	sf_ether_t h = {.type = type};
	memcpy(h.dst, dst, SF_ETH_ADDR_LEN);
	memcpy(h.src, e->cfg.mac, SF_ETH_ADDR_LEN);
	(void)sf_ether_emit(&h, e->tx, SF_ETH_HDR_LEN);
	size_t n = SF_ETH_HDR_LEN + len;
	if (n < SF_ETH_MIN_FRAME) {
		memset(e->tx + n, 0, SF_ETH_MIN_FRAME - n);
		n = SF_ETH_MIN_FRAME;
	}
	e->stats.frames_out++;
	int rc = e->cfg.transmit(e->cfg.transmit_ctx, e->tx, n, e->now_us);
	if (rc < 0)
		e->stats.tx_errors++;
	return rc;
}

/* One ARP packet from us: `tpa` with `tha`, in a frame to `dst`. */
static void send_arp(sf_eth_t *e, uint16_t op, const uint8_t dst[SF_ETH_ADDR_LEN],
                     const uint8_t tha[SF_ETH_ADDR_LEN], uint32_t tpa)
{
	sf_arp_t a = {.op = op, .spa = e->addr, .tpa = tpa};
	memcpy(a.sha, e->cfg.mac, SF_ETH_ADDR_LEN);
	memcpy(a.tha, tha, SF_ETH_ADDR_LEN);
	(void)sf_arp_emit(&a, e->tx + SF_ETH_HDR_LEN, SF_ARP_LEN);
	(void)send_frame(e, dst, SF_ETHERTYPE_ARP, SF_ARP_LEN);
}

static void send_request(sf_eth_t *e, arp_entry_t *a)
{
	e->stats.arp_requests_out++;
	a->tries++;
	a->deadline_us = e->now_us + (int64_t)e->cfg.arp_retry_ms * 1000;
	send_arp(e, SF_ARP_REQUEST, bcast_mac, zero_mac, a->addr);
}

/* ---- the waiting queue ---- */

/* Drops every datagram waiting for `next_hop`, each counted as `why`. */
static void drop_waiting(sf_eth_t *e, uint32_t next_hop, sf_drop_reason_t why)
{
	for (uint32_t i = 0; i < e->cfg.arp_queue; i++)
		if (e->q[i].next_hop == next_hop) {
			e->q[i].next_hop = 0;
			drop(e, why);
		}
}

/* Sends what waited for a now resolved entry, oldest first. */
static void send_waiting(sf_eth_t *e, const arp_entry_t *a)
{
	for (;;) {
		waiting_t *w = NULL;
		for (uint32_t i = 0; i < e->cfg.arp_queue; i++)
			if (e->q[i].next_hop == a->addr &&
			    (!w || e->q[i].seq - w->seq > (1u << 31)))
				w = &e->q[i];
		if (!w)
			return;
		w->next_hop = 0;
		memcpy(e->tx + SF_ETH_HDR_LEN, w->data, w->len);
		(void)send_frame(e, a->mac, SF_ETHERTYPE_IPV4, w->len);
	}
}

/* Keeps a copy of a datagram for `next_hop`. A full queue gives up its
 * oldest datagram for the newest (RFC 1122 §2.3.2.2). */
static void enqueue(sf_eth_t *e, uint32_t next_hop, const uint8_t *dgram, size_t len)
{
	waiting_t *w = NULL;
	for (uint32_t i = 0; i < e->cfg.arp_queue; i++) {
		waiting_t *c = &e->q[i];
		if (!c->next_hop) {
			w = c;
			break;
		}
		if (!w || c->seq - w->seq > (1u << 31))
			w = c;
	}
	if (w->next_hop)
		drop(e, SF_DROP_ARP_QUEUE_FULL);
	w->next_hop = next_hop;
	w->seq = e->q_seq++;
	w->len = (uint32_t)len;
	memcpy(w->data, dgram, len);
	e->stats.queued++;
}

/* ---- the cache ---- */

static arp_entry_t *find(const sf_eth_t *e, uint32_t addr)
{
	for (uint32_t i = 0; i < e->cfg.arp_entries; i++)
		if (e->cache[i].state != E_FREE && e->cache[i].addr == addr)
			return &e->cache[i];
	return NULL;
}

static void forget(sf_eth_t *e, arp_entry_t *a, sf_drop_reason_t why)
{
	if (a->state == E_INCOMPLETE)
		drop_waiting(e, a->addr, why);
	a->state = E_FREE;
}

/* A free entry for `addr`, or the one to replace: the resolved entry
 * closest to expiry, else the incomplete one asked for longest. */
static arp_entry_t *entry_new(sf_eth_t *e, uint32_t addr)
{
	arp_entry_t *victim = NULL;
	for (uint32_t i = 0; i < e->cfg.arp_entries; i++) {
		arp_entry_t *c = &e->cache[i];
		if (c->state == E_FREE) {
			victim = c;
			break;
		}
		if (!victim || (c->state == E_REACHABLE && victim->state != E_REACHABLE) ||
		    (c->state == victim->state && c->deadline_us < victim->deadline_us))
			victim = c;
	}
	if (victim->state != E_FREE) {
		e->stats.cache_evictions++;
		forget(e, victim, SF_DROP_ARP_UNRESOLVED);
	}
	*victim = (arp_entry_t){.addr = addr, .state = E_INCOMPLETE};
	return victim;
}

static void learn(sf_eth_t *e, arp_entry_t *a, const uint8_t mac[SF_ETH_ADDR_LEN])
{
	bool was_waiting = a->state == E_INCOMPLETE;
	memcpy(a->mac, mac, SF_ETH_ADDR_LEN);
	a->state = E_REACHABLE;
	a->tries = 0;
	a->deadline_us = e->now_us + (int64_t)e->cfg.arp_timeout_ms * 1000;
	if (was_waiting)
		send_waiting(e, a);
}

int sf_eth_arp_lookup(const sf_eth_t *e, uint32_t addr, uint8_t mac[SF_ETH_ADDR_LEN])
{
	const arp_entry_t *a = find(e, addr);
	if (!a)
		return SF_EUNREACH;
	if (a->state != E_REACHABLE)
		return SF_EAGAIN;
	memcpy(mac, a->mac, SF_ETH_ADDR_LEN);
	return 0;
}

/* ---- output: the stack's transmit callback ---- */

static int eth_output(void *ctx, const uint8_t *dgram, size_t len, int64_t now_us)
{
	sf_eth_t *e = ctx;
	advance(e, now_us);
	if (len < SF_IPV4_HDR_LEN || len > e->mtu)
		return SF_EINVAL;
	uint32_t dst = sf_be32(dgram + 16);
	if (dst == 0xffffffffu || (e->mask != 0xffffffffu && (dst & ~e->mask) == ~e->mask &&
	                           (dst & e->mask) == (e->addr & e->mask))) {
		memcpy(e->tx + SF_ETH_HDR_LEN, dgram, len);
		return send_frame(e, bcast_mac, SF_ETHERTYPE_IPV4, len);
	}
	uint32_t hop =
	        e->cfg.gateway && (dst & e->mask) != (e->addr & e->mask) ? e->cfg.gateway : dst;
	arp_entry_t *a = find(e, hop);
	if (a && a->state == E_REACHABLE && a->deadline_us > e->now_us) {
		memcpy(e->tx + SF_ETH_HDR_LEN, dgram, len);
		return send_frame(e, a->mac, SF_ETHERTYPE_IPV4, len);
	}
	if (a && a->state == E_REACHABLE) /* expired: ask again */
		*a = (arp_entry_t){.addr = hop, .state = E_INCOMPLETE};
	if (!a)
		a = entry_new(e, hop);
	enqueue(e, hop, dgram, len);
	if (a->tries == 0)
		send_request(e, a);
	return 0;
}

/* ---- input ---- */

/* RFC 826 "Packet Reception", for hardware Ethernet and protocol IPv4. */
static int arp_input(sf_eth_t *e, const uint8_t *p, size_t len)
{
	sf_arp_t a;
	if (sf_arp_parse(p, len, &a) < 0) {
		drop(e, SF_DROP_ARP_MALFORMED);
		return SF_EMALFORMED;
	}
	if (a.op == SF_ARP_REQUEST)
		e->stats.arp_requests_in++;
	else
		e->stats.arp_replies_in++;
	/* A sender that cannot be a host: a group or our own MAC, a special
	 * address, or someone else claiming our address (RFC 5227 §2.4: a
	 * conflict; we keep ours and learn nothing from it). spa 0 is an ARP
	 * probe (RFC 5227 §2.1.1): answered, never cached. */
	bool probe = a.spa == 0;
	if (sf_ether_is_group(a.sha) || memcmp(a.sha, e->cfg.mac, SF_ETH_ADDR_LEN) == 0 ||
	    a.spa == e->addr ||
	    (!probe && sf_ipv4_addr_is_special(a.spa, e->addr, e->prefix_len))) {
		drop(e, SF_DROP_ARP_IGNORED);
		return SF_EINVAL;
	}
	arp_entry_t *known = probe ? NULL : find(e, a.spa);
	if (known)
		learn(e, known, a.sha); /* the merge step */
	if (a.tpa != e->addr) {
		if (!known)
			drop(e, SF_DROP_ARP_IGNORED); /* about others: nothing to learn */
		return 0;
	}
	if (!known && !probe)
		learn(e, entry_new(e, a.spa), a.sha);
	if (a.op == SF_ARP_REQUEST) {
		e->stats.arp_replies_out++;
		send_arp(e, SF_ARP_REPLY, a.sha, a.sha, a.spa);
	}
	return 0;
}

int sf_eth_input(sf_eth_t *e, const uint8_t *frame, size_t len, int64_t now_us)
{
	advance(e, now_us);
	e->stats.frames_in++;
	sf_ether_t h;
	if (sf_ether_parse(frame, len, &h) < 0) {
		drop(e, SF_DROP_ETH_TRUNCATED);
		return SF_ETRUNCATED;
	}
	if (sf_ether_is_group(h.src) || memcmp(h.src, e->cfg.mac, SF_ETH_ADDR_LEN) == 0) {
		drop(e, SF_DROP_ETH_BAD_SOURCE);
		return SF_EINVAL;
	}
	if (memcmp(h.dst, e->cfg.mac, SF_ETH_ADDR_LEN) != 0 && !sf_ether_is_broadcast(h.dst)) {
		drop(e, SF_DROP_ETH_NOT_FOR_US);
		return SF_EINVAL;
	}
	const uint8_t *p = frame + SF_ETH_HDR_LEN;
	size_t plen = len - SF_ETH_HDR_LEN;
	switch (h.type) {
	case SF_ETHERTYPE_IPV4:
		return sf_stack_input(e->st, p, plen, e->now_us);
	case SF_ETHERTYPE_ARP:
		return arp_input(e, p, plen);
	default:
		drop(e, SF_DROP_ETH_TYPE);
		return SF_ENOTSUP;
	}
}

/* ---- timers ---- */

void sf_eth_poll(sf_eth_t *e, int64_t now_us)
{
	advance(e, now_us);
	if (e->announces_left && e->announce_at_us <= e->now_us) {
		/* RFC 5227 §2.3: an ARP Announcement is a request with our
		 * address as both sender and target. */
		e->announces_left--;
		e->announce_at_us = e->now_us + (int64_t)e->cfg.announce_interval_ms * 1000;
		e->stats.arp_announces_out++;
		send_arp(e, SF_ARP_REQUEST, bcast_mac, zero_mac, e->addr);
	}
	for (uint32_t i = 0; i < e->cfg.arp_entries; i++) {
		arp_entry_t *a = &e->cache[i];
		if (a->state == E_FREE || a->deadline_us > e->now_us)
			continue;
		if (a->state == E_REACHABLE)
			forget(e, a, SF_DROP_ARP_UNRESOLVED);
		else if (a->tries >= e->cfg.arp_retries)
			forget(e, a, SF_DROP_ARP_UNRESOLVED);
		else
			send_request(e, a);
	}
	sf_stack_poll(e->st, e->now_us);
}

int64_t sf_eth_next_deadline(const sf_eth_t *e)
{
	int64_t d = sf_stack_next_deadline(e->st);
	if (e->announces_left && e->announce_at_us < d)
		d = e->announce_at_us;
	for (uint32_t i = 0; i < e->cfg.arp_entries; i++)
		if (e->cache[i].state != E_FREE && e->cache[i].deadline_us < d)
			d = e->cache[i].deadline_us;
	return d;
}

/* ---- creation ---- */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int sf_eth_create(const sf_eth_config_t *cfg, const sf_config_t *stack_cfg, int64_t now_us,
                  sf_eth_t **out)
{
	if (!cfg || !stack_cfg || !out || !cfg->transmit || sf_ether_is_group(cfg->mac) ||
	    memcmp(cfg->mac, zero_mac, SF_ETH_ADDR_LEN) == 0 || cfg->arp_entries == 0 ||
	    cfg->arp_entries > 4096 || cfg->arp_queue == 0 || cfg->arp_queue > 4096 ||
	    cfg->arp_retries == 0 || cfg->arp_retries > 255 || stack_cfg->prefix_len < 0 ||
	    stack_cfg->prefix_len > 32 || stack_cfg->mtu < 68)
		return SF_EINVAL;
	sf_allocator_t al = stack_cfg->allocator;
	if (!al.alloc || !al.free)
		al = sf_default_allocator();
	uint32_t mtu = stack_cfg->mtu;
	size_t tx_len =
	        mtu + SF_ETH_HDR_LEN < SF_ETH_MIN_FRAME ? SF_ETH_MIN_FRAME : mtu + SF_ETH_HDR_LEN;
	size_t off_cache = align8(sizeof(sf_eth_t));
	size_t off_q = off_cache + align8(cfg->arp_entries * sizeof(arp_entry_t));
	size_t off_data = off_q + align8(cfg->arp_queue * sizeof(waiting_t));
	size_t off_tx = off_data + align8((size_t)cfg->arp_queue * mtu);
	size_t total = off_tx + tx_len;
	uint8_t *block = al.alloc(al.ctx, total);
	if (!block)
		return SF_ENOMEM;
	memset(block, 0, off_data);
	sf_eth_t *e = (sf_eth_t *)block;
	e->cfg = *cfg;
	e->al = al;
	e->trace = stack_cfg->trace;
	e->addr = stack_cfg->addr;
	e->prefix_len = stack_cfg->prefix_len;
	e->mask = stack_cfg->prefix_len ? ~(uint32_t)0 << (32 - stack_cfg->prefix_len) : 0;
	e->mtu = mtu;
	e->now_us = now_us;
	e->cache = (arp_entry_t *)(block + off_cache);
	e->q = (waiting_t *)(block + off_q);
	for (uint32_t i = 0; i < cfg->arp_queue; i++)
		e->q[i].data = block + off_data + (size_t)i * mtu;
	e->tx = block + off_tx;
	e->block_len = total;
	e->announces_left = cfg->announce_cnt;
	e->announce_at_us = now_us;
	e->stats.bytes_allocated = total;

	sf_config_t sc = *stack_cfg;
	sc.allocator = al;
	sc.transmit = eth_output;
	sc.transmit_ctx = e;
	int rc = sf_stack_create(&sc, now_us, &e->st);
	if (rc < 0) {
		al.free(al.ctx, block, total);
		return rc;
	}
	*out = e;
	return 0;
}

void sf_eth_destroy(sf_eth_t *e)
{
	if (!e)
		return;
	sf_stack_destroy(e->st);
	sf_allocator_t al = e->al;
	al.free(al.ctx, e, e->block_len);
}

sf_stack_t *sf_eth_stack(sf_eth_t *e)
{
	return e->st;
}

void sf_eth_stats(const sf_eth_t *e, sf_eth_stats_t *out)
{
	*out = e->stats;
}
