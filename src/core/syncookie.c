/* SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the
 * SYN,ACK carries the connection's state in its ISS and timestamp, and
 * nothing is kept; the ACK that completes the handshake brings it back.
 *
 * The ISS (our initial sequence number) is:
 *
 *   bits 31..30  the cookie period, mod 4 (a period is 64 s of stack time)
 *   bits 29..27  an index into msstab: the largest entry <= the peer's MSS
 *   bits 26..0   SipHash-2-4 of (the peer's address and port, ours, the
 *                peer's ISN, the full period number, the MSS index), keyed
 *                with the stack's ISN secret and a "cookie" domain byte
 *
 * A cookie is accepted in its own period and the next one (64 to 128 s),
 * so the key effectively rotates every period: an old cookie can no longer
 * be made to verify, and guessing one takes 2^27 tries per 4-tuple.
 *
 * When the peer offered timestamps, our TSval carries the options that
 * cannot ride in the ISS, as Linux does (RFC 7323 §5.4 lets the clock be
 * stepped back this little): its low 6 bits are
 *
 *   bits 3..0  the peer's window scale (0..14), 15 when it sent none
 *   bit 4      SACK-permitted was offered
 *   bit 5      ECN setup was requested (reserved)
 *
 * and the value is the timestamp clock rounded down to a multiple of 64
 * with those bits set, one step of 64 back when that would be ahead of the
 * clock. The peer echoes it in TSecr. Without timestamps only the MSS
 * survives, as with Linux: window scaling and SACK are off for such a
 * connection.
 *
 * Nothing here allocates: a flood of SYNs costs one SYN,ACK each.
 */
#include "core/stack.h"

#ifndef SF_NO_SYNCOOKIE /* the stubs in stack.h stand in for this file */

#define COOKIE_PERIOD_US (64ll * 1000000)
#define HASH_MASK        0x07ffffffu

static const uint16_t msstab[8] = {536, 1024, 1220, 1300, 1360, 1400, 1440, 1460};

enum { TS_WS_NONE = 15, TS_SACK = 1u << 4, TS_ECN = 1u << 5, TS_BITS = 0x3f };

static uint32_t period(const sf_stack_t *st)
{
	return (uint32_t)((st->now_us - st->epoch_us) / COOKIE_PERIOD_US);
}

static uint32_t cookie_hash(const sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport,
                            uint32_t peer_isn, uint32_t count, uint32_t mssidx)
{
	uint8_t b[22];
	b[0] = 'C'; /* domain separation from the ISN hash with the same key */
	sf_put32(b + 1, raddr);
	sf_put16(b + 5, rport);
	sf_put32(b + 7, st->cfg.addr);
	sf_put16(b + 11, lport);
	sf_put32(b + 13, peer_isn);
	sf_put32(b + 17, count);
	b[21] = (uint8_t)mssidx;
	return (uint32_t)sf_siphash24(&st->isn_key, b, sizeof b) & HASH_MASK;
}

static uint32_t make_cookie(const sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport,
                            uint32_t peer_isn, uint32_t count, uint32_t mssidx)
{
	return (count & 3u) << 30 | mssidx << 27 |
	       cookie_hash(st, raddr, rport, lport, peer_isn, count, mssidx);
}

void sf_syncookie_send(sf_stack_t *st, sf_tcb_t *l, const sf_ipv4_t *ip, const sf_tcp_t *syn)
{
	const sf_tcp_opts_t *po = &syn->opt;
	uint32_t peer_mss = po->has_mss ? po->mss : 536;
	uint32_t idx = 0;
	for (uint32_t i = 0; i < 8; i++)
		if (msstab[i] <= peer_mss)
			idx = i;
	uint32_t iss = make_cookie(st, ip->src, syn->sport, syn->dport, syn->seq, period(st), idx);

	/* The SYN,ACK a queued child would send (output.c's fill_opts). */
	sf_tcp_opts_t o = {.has_mss = true, .mss = (uint16_t)(st->cfg.mtu - 40u)};
	uint32_t ts_now = sf_ts_now(st);
	bool ts = po->has_ts && st->cfg.timestamps && ts_now >= TS_BITS + 1;
	if (ts) {
		uint32_t bits = po->has_wscale && st->cfg.wscale
		                        ? (po->wscale > 14 ? 14 : po->wscale)
		                        : TS_WS_NONE;
		if (po->sack_perm && st->cfg.sack)
			bits |= TS_SACK;
		uint32_t v = (ts_now & ~(uint32_t)TS_BITS) | bits;
		if (v > ts_now)
			v -= TS_BITS + 1;
		o.has_ts = true;
		o.ts_val = v;
		o.ts_ecr = po->ts_val;
		if ((bits & 0xf) != TS_WS_NONE) {
			o.has_wscale = true;
			o.wscale = sf_pick_wscale(st, l->rcvbuf);
		}
		o.sack_perm = (bits & TS_SACK) != 0;
	}
	uint16_t wnd = (uint16_t)(l->rcvbuf > 0xffff ? 0xffff : l->rcvbuf); /* RFC 7323 §2.2 */
	st->stats.syncookies_sent++;
	st->cookie_sent_us = st->now_us;
	st->cookie_sent = true;
	sf_send_raw(st, ip->src, syn->dport, syn->sport, iss, syn->seq + 1, SF_TCP_SYN | SF_TCP_ACK,
	            wnd, &o, l->id);
}

bool sf_syncookie_recent(const sf_stack_t *st)
{
	return st->cookie_sent && st->now_us - st->cookie_sent_us < 2 * COOKIE_PERIOD_US;
}

bool sf_syncookie_check(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *ack,
                        sf_tcp_opts_t *syn_opt)
{
	uint32_t iss = ack->ack - 1, peer_isn = ack->seq - 1;
	uint32_t now = period(st), idx = (iss >> 27) & 7u;
	bool ok = false;
	for (uint32_t back = 0; back < 2 && back <= now && !ok; back++) {
		uint32_t count = now - back;
		if ((count & 3u) != iss >> 30)
			continue;
		ok = (iss & HASH_MASK) ==
		     cookie_hash(st, ip->src, ack->sport, ack->dport, peer_isn, count, idx);
	}
	if (!ok) {
		st->stats.syncookies_bad++;
		return false;
	}
	*syn_opt = (sf_tcp_opts_t){.has_mss = true, .mss = msstab[idx]};
	const sf_tcp_opts_t *ao = &ack->opt;
	if (ao->has_ts && ao->ts_ecr && st->cfg.timestamps) {
		uint32_t bits = ao->ts_ecr & TS_BITS;
		syn_opt->has_ts = true;
		syn_opt->ts_val = ao->ts_val;
		if ((bits & 0xf) != TS_WS_NONE) {
			syn_opt->has_wscale = true;
			syn_opt->wscale = (uint8_t)(bits & 0xf);
		}
		syn_opt->sack_perm = (bits & TS_SACK) != 0;
	}
	st->stats.syncookies_ok++;
	return true;
}

#endif /* SF_NO_SYNCOOKIE */
