/* The reply limiter: one rate limit for every segment the stack sends only
 * because of an unacceptable one (RFC 5961 §7).
 *
 * Replies it covers: the challenge ACKs of RFC 5961 §3-§5, the ACK owed to
 * an out-of-window segment, to an ACK of data never sent and to a PAWS
 * failure (RFC 9293 §3.10.7.4, RFC 7323 §5.3), the ACKs of a TIME-WAIT
 * record, and the RST a segment for no connection draws (RFC 9293
 * §3.10.7.1). Replies that carry protocol progress (the ACK of new data,
 * a SYN,ACK) are not limited.
 *
 * Two limits, as Linux has had since CVE-2016-5696 ("Off-Path TCP Exploits:
 * Global Rate Limit Considered Dangerous", USENIX Security 2016):
 *  - per flow: at most one reply per cfg.reply_interval_ms for a segment
 *    that carries no data (Linux's tcp_oow_rate_limited and
 *    tcp_invalid_ratelimit, 500 ms). A segment with data is the peer's
 *    retransmission, not an ACK loop, and its duplicate ACK drives the
 *    peer's recovery, so it is exempt from this limit;
 *  - global: a budget per second drawn afresh each second, uniformly from
 *    [limit/2, limit/2 + limit), so the count an off-path host can exhaust
 *    on its own connections says nothing about the replies another
 *    connection drew in the same second.
 * A host that spoofs segments at somebody else's connection can then see
 * neither directly (the reply goes to the real peer) nor through the shared
 * budget (its own connections are each limited per flow, and the budget's
 * edge moves at random). tests/tcp/test_rfc5961.c replays the off-path probe.
 */
#include "core/stack.h"

/* Stack-relative milliseconds + 1: 0 in a stamp means "never". */
static uint32_t stamp_now(const sf_stack_t *st)
{
	return (uint32_t)now_ms_rel(st) + 1;
}

bool sf_reply_allowed(sf_stack_t *st, uint32_t *stamp_ms, bool per_flow)
{
	uint32_t now = stamp_now(st);
	if (per_flow && stamp_ms && *stamp_ms && st->cfg.reply_interval_ms &&
	    now - *stamp_ms < st->cfg.reply_interval_ms) {
		st->stats.replies_limited++;
		return false;
	}
	uint32_t limit = st->cfg.reply_budget;
	if (limit) {
		if (!st->reply_epoch_set || st->now_us - st->reply_epoch_us >= 1000000) {
			st->reply_epoch_set = true;
			st->reply_epoch_us = st->now_us;
			st->reply_left = (limit + 1) / 2 + (uint32_t)(sf_random(st) % limit);
		}
		if (!st->reply_left) {
			st->stats.replies_limited++;
			return false;
		}
		st->reply_left--;
	}
	if (stamp_ms)
		*stamp_ms = now;
	return true;
}

void sf_reply_ack(sf_stack_t *st, sf_tcb_t *t, bool has_data)
{
	if (!sf_reply_allowed(st, &t->reply_stamp_ms, !has_data))
		return;
	t->flags |= F_ACK_NOW;
	sf_tcb_mark_dirty(st, t);
}

void sf_reply_rst(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *tcp)
{
	if (tcp->flags & SF_TCP_RST)
		return; /* never a RST for a RST (RFC 9293 §3.10.7.1) */
	if (!sf_reply_allowed(st, NULL, false))
		return;
	sf_send_rst_for(st, ip, tcp);
}
