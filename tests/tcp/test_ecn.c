/* ECN negotiation and feedback, segment by segment (src/core/ecn.c):
 * classic ECN (RFC 3168 §6.1) and AccECN (RFC 9768 §3), each way, with the
 * fallbacks from AccECN to classic ECN and to none. The test plays the
 * peer and sets the IP-ECN field and the AE bit of what it injects. */
#include <string.h>

#include "pkt.h"

enum { NOT_ECT = 0, ECT1 = 1, ECT0 = 2, CE = 3 };
#define AE 1 /* sf_tcp_t.reserved bit */

static sf_config_t ecn_cfg(uint8_t ecn)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 3;
	c.ecn = ecn;
	return c;
}

/* Injects a segment like pkt_in, with IP-ECN `ipecn` and the AE bit. */
static void in_ecn(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, const void *data,
                   size_t len, uint8_t ipecn, bool ae)
{
	uint8_t f[2048];
	size_t n = pkt_build(p, f, sizeof f, flags, seq, ack, data, len);
	uint16_t o = (uint16_t)(f[0] << 8 | f[1]);
	f[1] = (uint8_t)((f[1] & ~3u) | ipecn);
	uint16_t ck =
	        sf_csum_update16((uint16_t)(f[10] << 8 | f[11]), o, (uint16_t)(f[0] << 8 | f[1]));
	f[10] = (uint8_t)(ck >> 8), f[11] = (uint8_t)ck;
	if (ae) {
		uint8_t *t = f + 20;
		o = (uint16_t)(t[12] << 8 | t[13]);
		t[12] |= AE;
		ck = sf_csum_update16((uint16_t)(t[16] << 8 | t[17]), o,
		                      (uint16_t)(t[12] << 8 | t[13]));
		t[16] = (uint8_t)(ck >> 8), t[17] = (uint8_t)ck;
	}
	pkt_in_raw(p, f, n);
	pkt_poll(p);
}

/* The ACE field (AE CWR ECE) of a segment synfin sent. */
static unsigned ace(const pkt_seg_t *s)
{
	return (s->tcp.reserved & AE) << 2 | ((s->tcp.flags & SF_TCP_CWR) ? 2 : 0) |
	       ((s->tcp.flags & SF_TCP_ECE) ? 1 : 0);
}

static uint8_t ecn_of(pkt_t *p, sf_sock_t s)
{
	sf_tcp_info_t ti;
	sf_tcp_info(p->st, s, &ti);
	return ti.ecn;
}

/* A stack with cfg.ecn `ecn` listening on port 80 (backlog 4), for the
 * passive-side tests; returns the listener. */
static sf_sock_t listen_ecn(pkt_t *p, uint8_t ecn)
{
	sf_config_t c = ecn_cfg(ecn);
	pkt_init(p, &c);
	sf_sock_t l = sf_socket(p->st);
	sf_bind(p->st, l, 80);
	sf_listen(p->st, l, 4);
	return l;
}

/* Active open with cfg.ecn `ecn`, the peer answering with `synack_flags`
 * (and AE): returns the socket, the SYN checked, the handshake ACK popped. */
static sf_sock_t open_active(pkt_t *p, uint8_t ecn, const char *synack_flags, bool ae,
                             pkt_seg_t *hs_ack)
{
	sf_config_t c = ecn_cfg(ecn);
	pkt_init(p, &c);
	sf_sock_t s = sf_socket(p->st);
	assert_int_equal(sf_connect(p->st, s, PKT_PEER, 80), SF_EINPROGRESS);
	pkt_poll(p);
	pkt_seg_t *syn = pkt_next(p);
	p->iss = syn->tcp.seq;
	p->peer_port = 80;
	p->port = syn->tcp.sport;
	/* RFC 3168 §6.1.1 / RFC 9768 §3.1.1: the ECN-setup SYN, Not-ECT. */
	assert_int_equal(syn->ip.ecn, NOT_ECT);
	assert_int_equal(syn->tcp.flags & (SF_TCP_ECE | SF_TCP_CWR), SF_TCP_ECE | SF_TCP_CWR);
	assert_int_equal(syn->tcp.reserved & AE, ecn == SF_ECN_ACCECN ? AE : 0);
	in_ecn(p, synack_flags, 0, 1, NULL, 0, NOT_ECT, ae);
	pkt_seg_t *a = pkt_next(p);
	assert_int_equal(a->tcp.flags & (SF_TCP_SYN | SF_TCP_ACK), SF_TCP_ACK);
	if (hs_ack)
		*hs_ack = *a;
	pkt_expect_none(p);
	return s;
}

/* RFC 3168 §6.1: classic ECN, synfin sending. ECT(0) on new data only;
 * an ECE halves cwnd once, and the next new segment carries CWR. */
static void classic_sender(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_active(&p, SF_ECN_CLASSIC, "SE.", false, NULL);
	assert_int_equal(ecn_of(&p, s), SF_ECN_CLASSIC);
	static uint8_t data[8000];
	assert_int_equal(sf_send(p.st, s, data, 4000), 4000);
	pkt_poll(&p);
	pkt_seg_t *d = pkt_next(&p);
	assert_int_equal(d->ip.ecn, ECT0);
	assert_int_equal(d->tcp.flags & (SF_TCP_ECE | SF_TCP_CWR), 0);
	pkt_discard(&p);
	sf_tcp_info_t before, after;
	sf_tcp_info(p.st, s, &before);
	in_ecn(&p, "E.", 1, 1001, NULL, 0, NOT_ECT, false); /* ECE: a CE mark upstream */
	sf_tcp_info(p.st, s, &after);
	assert_true(after.cwnd < before.cwnd);
	assert_int_equal(after.retransmits, 0);
	/* A second ECE in the same window: no second response. */
	in_ecn(&p, "E.", 1, 2001, NULL, 0, NOT_ECT, false);
	sf_tcp_info_t again;
	sf_tcp_info(p.st, s, &again);
	assert_true(again.cwnd >= after.cwnd);
	pkt_discard(&p);
	assert_int_equal(sf_send(p.st, s, data, 1000), 1000);
	in_ecn(&p, ".", 1, 4001, NULL, 0, NOT_ECT, false);
	pkt_seg_t *n = pkt_next(&p);
	assert_true(n->tcp.payload_len > 0);
	assert_true(n->tcp.flags & SF_TCP_CWR);
	assert_int_equal(n->ip.ecn, ECT0);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.ecn_responses, 1);
	pkt_finish(&p, s);
}

/* RFC 3168 §6.1.3: classic ECN, synfin receiving. A CE mark is answered
 * with ECE on every ACK until the peer's CWR. */
static void classic_receiver(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t l = listen_ecn(&p, SF_ECN_PASSIVE);
	in_ecn(&p, "SEW", 0, 0, NULL, 0, NOT_ECT, false);
	pkt_seg_t *sa = pkt_next(&p);
	p.iss = sa->tcp.seq;
	/* The classic answer: ECE without CWR (RFC 3168 §6.1.1). */
	assert_int_equal(sa->tcp.flags & (SF_TCP_ECE | SF_TCP_CWR), SF_TCP_ECE);
	assert_int_equal(sa->ip.ecn, NOT_ECT);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	sf_close(p.st, l);
	assert_int_equal(ecn_of(&p, s), SF_ECN_CLASSIC);
	in_ecn(&p, "P.", 1, 1, "abc", 3, CE, false);
	pkt_seg_t *a = pkt_expect(&p, "E.", 1, 4, 0);
	assert_true(a->tcp.flags & SF_TCP_ECE);
	assert_int_equal(a->ip.ecn, NOT_ECT); /* pure ACKs are Not-ECT */
	in_ecn(&p, "P.", 4, 1, "def", 3, ECT0, false);
	a = pkt_expect(&p, "E.", 1, 7, 0);
	assert_true(a->tcp.flags & SF_TCP_ECE); /* until CWR */
	in_ecn(&p, "PW.", 7, 1, "ghi", 3, ECT0, false);
	a = pkt_expect(&p, ".", 1, 10, 0);
	assert_false(a->tcp.flags & SF_TCP_ECE);
	pkt_finish(&p, s);
}

/* RFC 9768 §3.1-3.2: AccECN as the client. The SYN,ACK's code names
 * its IP-ECN; the handshake ACK echoes it (Table 3: Not-ECT -> ACE 2);
 * after that ACE counts CE marks from 5; a rising ACE from the peer is
 * congestion. */
static void accecn_client(void **state)
{
	(void)state;
	pkt_t p;
	pkt_seg_t hs;
	/* Table 2: the server saw our SYN Not-ECT: AE 0, CWR 1, ECE 0. */
	sf_sock_t s = open_active(&p, SF_ECN_ACCECN, "SW.", false, &hs);
	assert_int_equal(ecn_of(&p, s), SF_ECN_ACCECN);
	assert_int_equal(ace(&hs), 2);
	in_ecn(&p, "PE.", 1, 1, "abc", 3, CE, true); /* the peer's ACE: 5 */
	pkt_seg_t *a = pkt_expect(&p, "W.", 1, 4, 0);
	assert_int_equal(ace(a), 6); /* r.cep 5 + 1 */
	in_ecn(&p, "PE.", 4, 1, "def", 3, ECT0, true);
	a = pkt_expect(&p, "W.", 1, 7, 0);
	assert_int_equal(ace(a), 6); /* unchanged, no CWR handshake as in RFC 3168 */
	/* Sending: data is ECT(0); the peer's ACE going 5 -> 7 is congestion. */
	static uint8_t data[4000];
	assert_int_equal(sf_send(p.st, s, data, 4000), 4000);
	pkt_poll(&p);
	assert_int_equal(pkt_next(&p)->ip.ecn, ECT0);
	pkt_discard(&p);
	sf_tcp_info_t before, after;
	sf_tcp_info(p.st, s, &before);
	in_ecn(&p, "EW.", 7, 1001, NULL, 0, NOT_ECT, true); /* ACE 0b111 */
	sf_tcp_info(p.st, s, &after);
	assert_true(after.cwnd < before.cwnd);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.ecn_responses, 1);
	pkt_finish(&p, s);
}

/* RFC 9768 §3.1.1: the default (passive) server answers an AccECN SYN
 * with the code for the SYN's IP-ECN, and counts CE in ACE from then on. */
static void accecn_server(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t l = listen_ecn(&p, SF_ECN_PASSIVE);
	in_ecn(&p, "SEW", 0, 0, NULL, 0, ECT0, true); /* an AccECN SYN sent ECT(0) */
	pkt_seg_t *sa = pkt_next(&p);
	p.iss = sa->tcp.seq;
	/* Table 2, ECT(0): AE 1, CWR 0, ECE 0. */
	assert_int_equal(ace(sa), 4);
	in_ecn(&p, "W.", 1, 1, NULL, 0, NOT_ECT, false); /* handshake ACK, ACE 2 */
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	sf_close(p.st, l);
	assert_int_equal(ecn_of(&p, s), SF_ECN_ACCECN);
	in_ecn(&p, "PE.", 1, 1, "abc", 3, CE, true); /* ACE 5: no news; CE mark */
	pkt_seg_t *a = pkt_expect(&p, "W.", 1, 4, 0);
	assert_int_equal(ace(a), 6);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.ecn_responses, 0); /* the peer's ACE 5 is the start */
	pkt_finish(&p, s);
}

/* RFC 9768 §3.1.2: an AccECN SYN answered the classic way (ECE alone)
 * falls back to classic ECN; answered with no ECN flags, to none (and data
 * is then Not-ECT). */
static void accecn_falls_back(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_active(&p, SF_ECN_ACCECN, "SE.", false, NULL);
	assert_int_equal(ecn_of(&p, s), SF_ECN_CLASSIC);
	pkt_finish(&p, s);
	s = open_active(&p, SF_ECN_ACCECN, "S.", false, NULL);
	assert_int_equal(ecn_of(&p, s), SF_ECN_OFF);
	assert_int_equal(sf_send(p.st, s, "x", 1), 1);
	pkt_poll(&p);
	assert_int_equal(pkt_next(&p)->ip.ecn, NOT_ECT);
	pkt_finish(&p, s);
}

/* With ECN off, a peer's ECN-setup SYN gets a plain SYN,ACK. */
static void ecn_off_ignores_request(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t l = listen_ecn(&p, SF_ECN_OFF);
	in_ecn(&p, "SEW", 0, 0, NULL, 0, NOT_ECT, true);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(ace(sa), 0);
	pkt_finish_close(&p, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(classic_sender),    cmocka_unit_test(classic_receiver),
	        cmocka_unit_test(accecn_client),     cmocka_unit_test(accecn_server),
	        cmocka_unit_test(accecn_falls_back), cmocka_unit_test(ecn_off_ignores_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
