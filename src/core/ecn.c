/* Explicit Congestion Notification: classic ECN (RFC 3168) and Accurate
 * ECN (RFC 9768), negotiated per connection, falling back from AccECN to
 * classic ECN to none by what the peer answers.
 *
 * Negotiation (cfg.ecn: SF_ECN_OFF, SF_ECN_CLASSIC, SF_ECN_ACCECN, and
 * SF_ECN_PASSIVE, which answers as SF_ECN_ACCECN and never asks):
 *   our SYN          AccECN: AE CWR ECE   classic: CWR ECE
 *   a SYN we take    AE CWR ECE: AccECN if we do it (else as classic);
 *                    CWR ECE (no AE): classic; anything else: none
 *   our SYN,ACK      AccECN: the IP-ECN of their SYN in AE/CWR/ECE
 *                    (RFC 9768 §3.1.1 Table 2); classic: ECE alone
 *   their SYN,ACK    AE/CWR/ECE in Table 2's four codes: AccECN;
 *                    ECE alone: classic; anything else: none
 *
 * Classic ECN (RFC 3168 §6.1): data segments that are not retransmissions
 * are sent ECT(0); a CE mark makes the receiver set ECE on every ACK until
 * a segment with CWR arrives; the sender reacts to ECE at most once per
 * window (the controller's loss response, cc.h, and cwnd = ssthresh, no
 * retransmission) and sets CWR on its next new data segment.
 *
 * AccECN (RFC 9768 §3.2): the receiver counts CE-marked packets (r.cep,
 * starting at 5) and sends the count mod 8 in the ACE field (AE CWR ECE)
 * of every segment after the handshake; the ACK completing an active open
 * echoes the SYN,ACK's IP-ECN instead (§3.2.2.1). The sender's s.cep
 * follows the ACE field; any increase is congestion, answered as above.
 * The AccECN TCP option is not sent (it is optional, §3.2.3); without it,
 * more than 7 marks between two ACKs are undercounted, as §3.2.2.5 allows.
 */
#include "core/stack.h"

#ifndef SF_NO_ECN /* the stubs in stack.h stand in for this file */

enum { IP_NOT_ECT = 0, IP_ECT1 = 1, IP_ECT0 = 2, IP_CE = 3 };
#define TCP_AE   0x1u /* the AE bit: lowest of sf_tcp_t.reserved (RFC 9768 §3.1) */
#define CEP_INIT 5u

/* RFC 9768 Table 2: the IP-ECN field of a SYN (or SYN,ACK) coded in
 * AE/CWR/ECE as (ae, flags). */
static void code_ipecn(uint8_t ipecn, uint8_t *ae, uint8_t *flags)
{
	switch (ipecn & 3) {
	case IP_NOT_ECT:
		*ae = 0, *flags = SF_TCP_CWR;
		break;
	case IP_ECT1:
		*ae = 0, *flags = SF_TCP_CWR | SF_TCP_ECE;
		break;
	case IP_ECT0:
		*ae = TCP_AE, *flags = 0;
		break;
	default:
		*ae = TCP_AE, *flags = SF_TCP_CWR;
		break;
	}
}

static uint8_t ace_of(const sf_tcp_t *h)
{
	return (uint8_t)((h->reserved & TCP_AE) << 2 | ((h->flags & SF_TCP_CWR) ? 2 : 0) |
	                 ((h->flags & SF_TCP_ECE) ? 1 : 0));
}

void sf_ecn_on_syn(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip, const sf_tcp_t *syn)
{
	t->ecn_mode = SF_ECN_OFF;
	if (st->cfg.ecn == SF_ECN_OFF)
		return;
	uint8_t f = syn->flags & (SF_TCP_ECE | SF_TCP_CWR);
	bool ae = syn->reserved & TCP_AE;
	bool accecn = st->cfg.ecn == SF_ECN_ACCECN || st->cfg.ecn == SF_ECN_PASSIVE;
	if (f == (SF_TCP_ECE | SF_TCP_CWR) && ae && accecn) {
		t->ecn_mode = SF_ECN_ACCECN;
		t->ecn_syn_ipecn = ip->ecn & 3;
		t->r_cep = t->s_cep = CEP_INIT;
	} else if (f == (SF_TCP_ECE | SF_TCP_CWR)) {
		t->ecn_mode = SF_ECN_CLASSIC; /* RFC 3168 §6.1.1 (AE alone is ignored) */
	}
}

void sf_ecn_on_synack(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip, const sf_tcp_t *sa)
{
	uint8_t f = sa->flags & (SF_TCP_ECE | SF_TCP_CWR);
	bool ae = sa->reserved & TCP_AE;
	t->ecn_mode = SF_ECN_OFF;
	if (st->cfg.ecn == SF_ECN_OFF || st->cfg.ecn == SF_ECN_PASSIVE)
		return; /* we did not ask */
	if (st->cfg.ecn == SF_ECN_ACCECN &&
	    (ae || f == SF_TCP_CWR || f == (SF_TCP_CWR | SF_TCP_ECE))) {
		/* RFC 9768 §3.1.2: any of Table 2's codes (AE set, or CWR). */
		t->ecn_mode = SF_ECN_ACCECN;
		t->r_cep = t->s_cep = CEP_INIT;
		t->ecn_syn_ipecn = ip->ecn & 3;
		t->flags |= F_ECN_HS_ECHO; /* the handshake ACK echoes it */
	} else if (f == SF_TCP_ECE && !ae) {
		t->ecn_mode = SF_ECN_CLASSIC;
	}
}

void sf_ecn_tx(const sf_stack_t *st, sf_tcb_t *t, sf_tcp_t *h, bool data, bool retx, uint8_t *tos)
{
	uint8_t f = h->flags;
	if (f & SF_TCP_RST)
		return;
	if (f & SF_TCP_SYN) {
		if (!(f & SF_TCP_ACK)) {
			/* Our SYN (RFC 3168 §6.1.1; RFC 9768 §3.1.1). */
			if (st->cfg.ecn == SF_ECN_CLASSIC || st->cfg.ecn == SF_ECN_ACCECN)
				h->flags |= SF_TCP_ECE | SF_TCP_CWR;
			if (st->cfg.ecn == SF_ECN_ACCECN)
				h->reserved |= TCP_AE;
		} else if (t->ecn_mode == SF_ECN_ACCECN) {
			uint8_t ae, fl;
			code_ipecn(t->ecn_syn_ipecn, &ae, &fl);
			h->flags |= fl;
			h->reserved |= ae;
		} else if (t->ecn_mode == SF_ECN_CLASSIC) {
			h->flags |= SF_TCP_ECE;
		}
		return; /* RFC 3168 §6.1.1: no ECT on SYNs */
	}
	if (t->ecn_mode == SF_ECN_ACCECN) {
		if (t->flags & F_ECN_HS_ECHO) {
			/* RFC 9768 §3.2.2.1 Table 3: the ACK of the SYN,ACK. */
			static const uint8_t echo[4] = {2, 3, 4, 6};
			uint8_t ace = echo[t->ecn_syn_ipecn & 3];
			h->flags |= (ace & 2 ? SF_TCP_CWR : 0) | (ace & 1 ? SF_TCP_ECE : 0);
			h->reserved |= (ace >> 2) & TCP_AE;
			if (!data)
				t->flags &= ~(uint32_t)F_ECN_HS_ECHO;
		} else {
			uint8_t ace = (uint8_t)(t->r_cep & 7);
			h->flags |= (ace & 2 ? SF_TCP_CWR : 0) | (ace & 1 ? SF_TCP_ECE : 0);
			h->reserved |= (ace >> 2) & TCP_AE;
		}
	} else if (t->ecn_mode == SF_ECN_CLASSIC) {
		if (t->flags & F_ECE_SEND)
			h->flags |= SF_TCP_ECE; /* RFC 3168 §6.1.3 */
		if (data && !retx && (t->flags & F_CWR_SEND)) {
			h->flags |= SF_TCP_CWR; /* §6.1.2 */
			t->flags &= ~(uint32_t)F_CWR_SEND;
		}
	}
	/* §6.1.5: ECT only on new data, never on retransmissions or pure ACKs
	 * (and window probes, which carry no data). */
	if (t->ecn_mode != SF_ECN_OFF && data && !retx)
		*tos = (uint8_t)((*tos & ~3u) | IP_ECT0);
}

/* The congestion response, at most once per window of data (RFC 3168
 * §6.1.2): what the controller does for a loss, without a retransmission. */
static void respond(sf_stack_t *st, sf_tcb_t *t)
{
	if ((t->flags & F_IN_RECOVERY) || sf_seq_lt(t->snd_una, t->ecn_recover))
		return;
	st->stats.ecn_responses++;
	sf_cc_ops(t->cc_algo)->on_loss(t, st->now_us);
	t->cwnd = t->ssthresh > t->snd_mss ? t->ssthresh : t->snd_mss;
	t->ecn_recover = t->snd_max;
	if (t->ecn_mode == SF_ECN_CLASSIC)
		t->flags |= F_CWR_SEND;
}

void sf_ecn_rx(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip, const sf_tcp_t *h)
{
	if (t->ecn_mode == SF_ECN_OFF)
		return;
	bool ce = (ip->ecn & 3) == IP_CE;
	if (ce)
		st->stats.ecn_ce_rcvd++;
	if (t->ecn_mode == SF_ECN_CLASSIC) {
		/* Receiver (§6.1.3): ECE from a CE mark until CWR arrives. */
		if (h->flags & SF_TCP_CWR)
			t->flags &= ~(uint32_t)F_ECE_SEND;
		if (ce) {
			t->flags |= F_ECE_SEND | F_ACK_NOW;
			sf_tcb_mark_dirty(st, t);
		}
		/* Sender (§6.1.2): ECE on an ACK. */
		if ((h->flags & SF_TCP_ECE) && (h->flags & SF_TCP_ACK) && t->snd_una != t->snd_max)
			respond(st, t);
		return;
	}
	/* AccECN. */
	if (ce) {
		t->r_cep++;
		t->flags |= F_ACK_NOW; /* the count changed: tell at once (§3.2.2.5) */
		sf_tcb_mark_dirty(st, t);
	}
	if (!(h->flags & SF_TCP_ACK) || t->state == SF_SYN_RECEIVED)
		return; /* the handshake ACK carries the SYN,ACK's echo, not a count */
	uint8_t delta = (uint8_t)((ace_of(h) - t->s_cep) & 7);
	if (delta) {
		t->s_cep += delta;
		respond(st, t);
	}
}

#endif /* SF_NO_ECN */
