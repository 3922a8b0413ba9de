/* The findings of two independent conformance suites (issue 12), each as a
 * packet exchange: TS.Recent only from acceptable segments (RFC 7323 §4.3,
 * §5.3); timestamps on RSTs (RFC 7323 §3.2); an ACK for every 2*RMSS bytes
 * (RFC 5681 §4.2); SF_SO_MAXSEG and SF_SO_CORK; SF_SHUT_RD; text on a SYN
 * or SYN,ACK kept (RFC 9293 §3.10.7.3); reordered duplicate ACKs that fail
 * PAWS still count for fast retransmit (RFC 7323 §5.3, Linux's
 * tcp_disordered_ack). TIME-WAIT is in test_timewait.c.
 */
#include <string.h>

#include "pkt.h"

#define MS 1000

static uint8_t pattern[8192];

static sf_sock_t open_ts(pkt_t *p, const sf_config_t *cfg)
{
	pkt_init(p, cfg);
	sf_tcp_opts_t o = {.has_ts = true};
	p->peer_ts = 5000;
	return pkt_open_passive_opt(p, &o, NULL, NULL);
}

/* A segment that fails the ACK check (it acknowledges data never sent) is
 * not acceptable: its timestamp must not become TS.Recent, or the next
 * valid segment fails PAWS and one injected segment stalls the connection. */
static void ts_recent_only_from_acceptable(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_ts(&p, NULL);
	p.peer_ts = 900000;
	pkt_in(&p, ".", 1, 7777, NULL, 0); /* ACK of data never sent */
	pkt_seg_t *a = pkt_expect(&p, ".", 1, 1, 0);
	assert_int_equal(a->tcp.opt.ts_ecr, 5000);
	p.peer_ts = 5001;
	pkt_in(&p, "P.", 1, 1, "abc", 3);
	a = pkt_expect(&p, ".", 1, 4, 0);
	assert_int_equal(a->tcp.opt.ts_ecr, 5001);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 3);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_PAWS), 0);
	pkt_finish(&p, s);
}

/* RFC 7323 §3.2: with timestamps in use, a RST carries them. */
static void rst_carries_timestamps(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_ts(&p, NULL);
	p.peer_ts = 5100;
	pkt_in(&p, "P.", 1, 1, "abc", 3);
	pkt_expect(&p, ".", 1, 4, 0);
	assert_int_equal(sf_abort(p.st, s), 0);
	pkt_poll(&p);
	pkt_seg_t *r = pkt_expect(&p, "R.", 1, 4, 0);
	assert_true(r->tcp.opt.has_ts);
	assert_int_equal(r->tcp.opt.ts_ecr, 5100);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* RFC 5681 §4.2 / SHLD-19: 2*RMSS bytes are ACKed at once, even in one
 * segment; a smaller one waits for the delayed-ACK timer. */
static void ack_after_two_rmss_bytes(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c;
	sf_config_default(&c);
	c.seed = 1;
	c.delack_ms = 40;
	pkt_init(&p, &c);
	sf_sock_t l = sf_socket(p.st);
	/* Our MSS 536: a 1,100-byte segment is more than 2*RMSS. */
	assert_int_equal(sf_setsockopt(p.st, l, SF_SO_MAXSEG, 536), 0);
	assert_int_equal(sf_bind(p.st, l, 80), 0);
	assert_int_equal(sf_listen(p.st, l, 4), 0);
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.opt.mss, 536); /* inherited by the child */
	p.iss = sa->tcp.seq;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	assert_true(s > 0);
	pkt_in(&p, "P.", 1, 1, pattern, 500);
	pkt_expect_none(&p); /* delayed */
	pkt_advance(&p, 40 * MS);
	pkt_expect(&p, ".", 1, 501, 0);
	pkt_in(&p, "P.", 501, 1, pattern, 1100);
	pkt_expect(&p, ".", 1, 1601, 0); /* at once */
	pkt_expect_none(&p);
	sf_close(p.st, l);
	pkt_finish(&p, s);
}

/* SF_SO_MAXSEG before connect: the SYN announces it and no segment sent is
 * larger, though the peer takes 1460. */
static void maxseg_clamps_both_ways(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = sf_socket(p.st);
	sf_setsockopt(p.st, s, SF_SO_NODELAY, 1);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_MAXSEG, 600), 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_MAXSEG, 10), SF_EINVAL);
	assert_int_equal(sf_connect(p.st, s, PKT_PEER, 80), SF_EINPROGRESS);
	pkt_poll(&p);
	pkt_seg_t *syn = pkt_next(&p);
	assert_int_equal(syn->tcp.opt.mss, 600);
	p.iss = syn->tcp.seq;
	p.peer_port = 80;
	p.port = syn->tcp.sport;
	p.opt.has_mss = true;
	p.opt.mss = 1460;
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	memset(&p.opt, 0, sizeof p.opt);
	pkt_expect(&p, ".", 1, 1, 0);
	int v = 0;
	assert_int_equal(sf_getsockopt(p.st, s, SF_SO_MAXSEG, &v), 0);
	assert_int_equal(v, 600);
	assert_int_equal(sf_send(p.st, s, pattern, 1500), 1500);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 600);
	pkt_expect(&p, ".", 601, 1, 600);
	pkt_expect(&p, "P.", 1201, 1, 300);
	pkt_expect_none(&p);
	/* Lowered on the open connection: the next segments shrink. */
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_MAXSEG, 400), 0);
	pkt_in(&p, ".", 1, 1501, NULL, 0);
	assert_int_equal(sf_send(p.st, s, pattern, 800), 800);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1501, 1, 400);
	pkt_expect(&p, "P.", 1901, 1, 400);
	pkt_finish(&p, s);
}

/* SF_SO_CORK: a tail shorter than a segment waits while corked; full
 * segments go; uncorking sends the tail; a FIN takes it with it. */
static void cork_holds_partial_segments(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_CORK, 1), 0);
	int v = 0;
	assert_int_equal(sf_getsockopt(p.st, s, SF_SO_CORK, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sf_send(p.st, s, pattern, 100), 100);
	pkt_poll(&p);
	pkt_advance(&p, 1000 * MS); /* no override timer releases it */
	pkt_expect_none(&p);
	assert_int_equal(sf_send(p.st, s, pattern, 1400), 1400); /* 1500 queued */
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 536); /* the peer sent no MSS: 536 */
	pkt_expect(&p, ".", 537, 1, 536);
	pkt_expect_none(&p); /* 428 held */
	pkt_in(&p, ".", 1, 1073, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_CORK, 0), 0);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1073, 1, 428);
	pkt_in(&p, ".", 1, 1501, NULL, 0);
	/* Corked again: shutdown sends the tail with the FIN. */
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_CORK, 1), 0);
	assert_int_equal(sf_send(p.st, s, pattern, 10), 10);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(sf_shutdown(p.st, s, SF_SHUT_WR), 0);
	pkt_poll(&p);
	pkt_expect(&p, "FP.", 1501, 1, 10);
	pkt_finish(&p, s);
}

/* SF_SHUT_RD: unread data is discarded, sf_recv reports end of file, and
 * data that still arrives is acknowledged and discarded (no reset); the
 * peer finishes and the connection closes normally. */
static void shut_rd_reads_eof(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "P.", 1, 1, "abc", 3);
	pkt_expect(&p, ".", 1, 4, 0);
	assert_int_equal(sf_shutdown(p.st, s, SF_SHUT_RD), 0);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 0);
	pkt_in(&p, "P.", 4, 1, "defg", 4);
	pkt_expect(&p, ".", 1, 8, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 0);
	/* Sending still works; the peer closes; we close. */
	assert_int_equal(sf_send(p.st, s, "hi", 2), 2);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 8, 2);
	pkt_in(&p, "F.", 8, 3, NULL, 0);
	pkt_expect(&p, ".", 3, 9, 0);
	assert_int_equal(pkt_state(&p, id), SF_CLOSE_WAIT);
	assert_int_equal(sf_close(p.st, s), 0);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 3, 9, 0);
	pkt_in(&p, ".", 9, 4, NULL, 0);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	pkt_fini(&p);
}

/* RFC 9293 §3.10.7.3: text on the SYN,ACK is taken and acknowledged by the
 * ACK that completes the open, not thrown away. */
static void syn_ack_text_kept(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_goto(&p, SF_SYN_SENT, NULL);
	pkt_in(&p, "S.", 0, 1, "hello", 5);
	pkt_expect(&p, ".", 1, 6, 0);
	pkt_expect_none(&p);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 5);
	assert_memory_equal(b, "hello", 5);
	pkt_finish(&p, s);
}

/* ... and a FIN with it ends the stream: CLOSE-WAIT, data then EOF. */
static void syn_ack_text_and_fin(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_goto(&p, SF_SYN_SENT, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "SF.", 0, 1, "bye", 3); /* SYN+FIN is not valid ... */
	pkt_expect_none(&p);               /* ... and dropped in SYN-SENT */
	pkt_in(&p, "S.", 0, 1, "bye", 3);
	pkt_expect(&p, ".", 1, 4, 0);
	pkt_in(&p, "F.", 4, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 5, 0);
	assert_int_equal(pkt_state(&p, id), SF_CLOSE_WAIT);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 3);
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 0);
	pkt_finish(&p, s);
}

/* Simultaneous open: text on the peer's SYN is queued and acknowledged by
 * our SYN,ACK, read once the connection is established. */
static void syn_text_in_simultaneous_open(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_goto(&p, SF_SYN_SENT, NULL);
	pkt_in(&p, "S", 0, 0, "hey", 3);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack - p.irs, 4);
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	pkt_discard(&p);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 3);
	assert_memory_equal(b, "hey", 3);
	pkt_finish(&p, s);
}

/* A choice (docs/CONFORMANCE.md): text on a SYN to a listener is not
 * taken, so a SYN flood holds no receive buffers; the SYN,ACK acknowledges
 * the SYN alone and the peer sends the text again. */
static void syn_text_to_listener_not_taken(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	assert_int_equal(sf_bind(p.st, l, 80), 0);
	assert_int_equal(sf_listen(p.st, l, 4), 0);
	pkt_in(&p, "S", 0, 0, "early", 5);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack - p.irs, 1);
	p.iss = sa->tcp.seq;
	pkt_in(&p, "P.", 1, 1, "early", 5);
	pkt_expect(&p, ".", 1, 6, 0);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 5);
	sf_close(p.st, l);
	pkt_finish(&p, s);
}

/* Duplicate ACKs reordered behind a newer one carry older timestamps and
 * fail PAWS; they are harmless and still count (RFC 7323 §5.3 leaves it,
 * Linux's tcp_disordered_ack): the third one starts fast retransmit at
 * once instead of the connection waiting for the RTO. An old ACK that
 * would move anything is still dropped. */
static void reordered_dupacks_pass_paws(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c;
	sf_config_default(&c);
	c.seed = 1;
	c.delack_ms = 0;
	c.congestion = SF_CC_NEWRENO;
	sf_sock_t s = open_ts(&p, &c);
	sf_setsockopt(p.st, s, SF_SO_NODELAY, 1);
	uint32_t seg = 536 - 12; /* no MSS option from the peer; timestamps take 12 */
	assert_int_equal(sf_send(p.st, s, pattern, 5 * seg), 5 * seg);
	pkt_poll(&p);
	for (uint32_t i = 0; i < 5; i++)
		pkt_next(&p);
	pkt_expect_none(&p);
	p.peer_ts = 5003;
	pkt_in(&p, ".", 1, 1, NULL, 0); /* dupack 1, newest timestamp */
	p.peer_ts = 5002;
	pkt_in(&p, ".", 1, 1, NULL, 0); /* dupack 2, overtaken */
	pkt_expect_none(&p);
	p.peer_ts = 5001;
	pkt_in(&p, ".", 1, 1, NULL, 0); /* dupack 3: fast retransmit */
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->tcp.seq - p.iss, 1);
	assert_int_equal(r->tcp.payload_len, seg);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_PAWS), 0);
	pkt_discard(&p);
	/* An old segment with data still fails PAWS. */
	p.peer_ts = 4000;
	pkt_in(&p, "P.", 1, 1, "x", 1);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_PAWS), 1);
	pkt_finish(&p, s);
}

int main(void)
{
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(ts_recent_only_from_acceptable),
	        cmocka_unit_test(rst_carries_timestamps),
	        cmocka_unit_test(ack_after_two_rmss_bytes),
	        cmocka_unit_test(maxseg_clamps_both_ways),
	        cmocka_unit_test(cork_holds_partial_segments),
	        cmocka_unit_test(shut_rd_reads_eof),
	        cmocka_unit_test(syn_ack_text_kept),
	        cmocka_unit_test(syn_ack_text_and_fin),
	        cmocka_unit_test(syn_text_in_simultaneous_open),
	        cmocka_unit_test(syn_text_to_listener_not_taken),
	        cmocka_unit_test(reordered_dupacks_pass_paws),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
