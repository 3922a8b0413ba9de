/* Link offloads in the engine (the virtio-net header of a TUN device, as
 * src/api/loop.c configures them): TSO super-segments out (whole MSS-sized
 * segments, cut by the link at gso_size, traced as one row with u.seg.segs),
 * partial checksums out, GRO super-segments in (taken whole, the ACK
 * decision counting every segment in them, partial checksums not
 * verified), and nothing of it without the link asking. */
#include <string.h>

#include "pkt.h"

static uint8_t pattern[65536];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i % 251);
	return 0;
}

/* What the offloading "link" below saw. */
#define MAX_SUPER 64
typedef struct link_log {
	uint32_t seq[MAX_SUPER], len[MAX_SUPER];
	uint16_t gso[MAX_SUPER];
	uint8_t flags[MAX_SUPER];
	size_t cnt;
	size_t partial; /* datagrams whose TCP checksum was left partial */
	uint8_t stream[65536];
	uint32_t stream_len; /* payload bytes in order, as the wire carries them */
} link_log_t;
static link_log_t lg;

/* Plays the kernel's side of TUN_F_CSUM | TUN_F_TSO4: a partial checksum
 * must hold exactly the pseudo-header sum; it is completed, and the
 * datagram must then verify. Super-segments are recorded; everything
 * else goes to the harness's queue as on a plain link. */
static int link_tx(void *ctx, const uint8_t *frame, size_t len, const sf_offload_t *off,
                   int64_t now_us)
{
	static uint8_t copy[65536];
	assert_true(len <= sizeof copy);
	memcpy(copy, frame, len);
	sf_ipv4_t ip;
	assert_int_equal(sf_ipv4_parse(copy, len, &ip), 0);
	uint8_t *seg = copy + ip.hdr_len;
	size_t seg_len = ip.total_len - ip.hdr_len;
	if (off->csum_partial) {
		lg.partial++;
		uint16_t pseudo = (uint16_t)~sf_csum_fold(
		        sf_csum_pseudo(ip.src, ip.dst, SF_IP_PROTO_TCP, (uint16_t)seg_len));
		assert_int_equal(sf_be16(seg + 16), pseudo);
		assert_int_equal(sf_tcp_csum_fill(copy, len), 0);
	}
	sf_tcp_t h;
	assert_int_equal(sf_tcp_parse(seg, seg_len, ip.src, ip.dst, true, &h), 0);
	if (h.payload_len) {
		uint32_t at = lg.stream_len;
		memcpy(lg.stream + at, seg + h.payload_off, h.payload_len);
		lg.stream_len += h.payload_len;
	}
	if (off->gso_size) {
		assert_true(lg.cnt < MAX_SUPER);
		lg.seq[lg.cnt] = h.seq;
		lg.len[lg.cnt] = h.payload_len;
		lg.gso[lg.cnt] = off->gso_size;
		lg.flags[lg.cnt] = h.flags;
		lg.cnt++;
		return 0;
	}
	/* One ordinary segment: never larger than the MSS. */
	assert_true(len <= 1500);
	return pkt_on_tx(ctx, copy, len, now_us);
}

static void cfg_offload(sf_config_t *c, bool tso)
{
	sf_config_default(c);
	c->delack_ms = 0;
	c->seed = 1;
	c->transmit_off = link_tx;
	c->csum_tx = true;
	c->tso_max = tso ? 65535 : 0;
	memset(&lg, 0, sizeof lg);
}

/* Passive open with MSS 1460 and no timestamps: payload per segment is
 * exactly 1460. */
static sf_sock_t open_1460(pkt_t *p)
{
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1460};
	return pkt_open_passive_opt(p, &o, NULL, NULL);
}

/* A stack with the offloading link (TSO when `tso`), delayed ACKs of
 * `delack_ms` (0: off), and one connection passively opened with MSS 1460. */
static sf_sock_t open_offload(pkt_t *p, bool tso, uint32_t delack_ms)
{
	sf_config_t c;
	cfg_offload(&c, tso);
	c.delack_ms = delack_ms;
	pkt_init(p, &c);
	return open_1460(p);
}

static size_t count_events(const pkt_t *p, sf_event_kind_t k, uint16_t min_segs)
{
	size_t n = 0;
	for (size_t i = 0; i < p->ev_cnt; i++)
		if (p->ev[i].kind == k && p->ev[i].u.seg.segs >= min_segs &&
		    p->ev[i].u.seg.tcp.payload_len > 0)
			n++;
	return n;
}

/* 40,000 bytes leave as super-segments of whole 1460-byte segments (the
 * initial window first: 10 segments in one), the short tail on its own;
 * the bytes on the wire are the stream, in order; each super-segment is
 * one trace row saying how many segments it stands for. */
static void tso_sends_whole_segments(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_offload(&p, true, 0);
	assert_int_equal(sf_send(p.st, s, pattern, 40000), 40000);
	pkt_poll(&p);
	assert_int_equal(lg.cnt, 1);
	assert_int_equal(lg.len[0], 14600); /* RFC 6928: 10 segments */
	assert_int_equal(lg.gso[0], 1460);
	assert_int_equal(lg.seq[0], p.iss + 1);
	assert_false(lg.flags[0] & SF_TCP_PSH); /* more data follows */
	pkt_expect_none(&p);
	/* The peer acknowledges what arrived until everything is through. */
	for (int round = 0; round < 20 && lg.stream_len < 40000; round++) {
		pkt_in(&p, ".", 1, 1 + lg.stream_len, NULL, 0);
		while (pkt_pending(&p))
			pkt_next(&p);
	}
	assert_int_equal(lg.stream_len, 40000);
	assert_memory_equal(lg.stream, pattern, 40000);
	for (size_t i = 0; i < lg.cnt; i++) {
		assert_int_equal(lg.len[i] % 1460, 0);
		assert_true(lg.len[i] > 1460);
	}
	assert_true(lg.partial > 0);
	assert_int_equal(count_events(&p, SF_EV_SEG_TX, 2), lg.cnt);
	for (size_t i = 0; i < p.ev_cnt; i++)
		if (p.ev[i].kind == SF_EV_SEG_TX && p.ev[i].u.seg.segs > 1)
			assert_int_equal(p.ev[i].u.seg.segs,
			                 (p.ev[i].u.seg.tcp.payload_len + 1459) / 1460);
	pkt_finish(&p, s);
}

/* Without TSO the same link still gets partial checksums, and never a
 * segment over the MSS. */
static void no_tso_without_the_link_asking(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_offload(&p, false, 0);
	assert_int_equal(sf_send(p.st, s, pattern, 10000), 10000);
	pkt_poll(&p);
	assert_int_equal(lg.cnt, 0);
	for (uint32_t seq = 1; seq < 8761; seq += 1460)
		pkt_expect(&p, ".", seq, 1, 1460);
	pkt_expect_none(&p);             /* the 1,240-byte tail waits for the ACK (Nagle) */
	assert_int_equal(lg.partial, 7); /* the SYN,ACK and six segments */
	assert_int_equal(count_events(&p, SF_EV_SEG_TX, 2), 0);
	pkt_finish(&p, s);
}

/* Builds the peer's data segment of `len` bytes at relative seq 1, with the
 * checksum as the kernel hands it over with NEEDS_CSUM: the pseudo-header
 * sum only. */
static size_t build_partial(pkt_t *p, uint8_t *buf, size_t cap, uint32_t len)
{
	size_t n = pkt_build(p, buf, cap, ".", 1, 1, pattern, len);
	sf_ipv4_t ip;
	assert_int_equal(sf_ipv4_parse(buf, n, &ip), 0);
	uint16_t pseudo = (uint16_t)~sf_csum_fold(sf_csum_pseudo(
	        ip.src, ip.dst, SF_IP_PROTO_TCP, (uint16_t)(ip.total_len - ip.hdr_len)));
	sf_put16(buf + ip.hdr_len + 16, pseudo);
	return n;
}

/* A GRO super-segment of 10 segments is taken whole: the data reads back,
 * one ACK covers it, sent at once although delayed ACKs are on (it stands
 * for more than one full-sized segment: RFC 5681 §4.2), and the trace shows
 * one row with segs 10. Its partial checksum is not verified. */
static void gro_super_segment_taken_whole(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_offload(&p, true, 40);
	static uint8_t frame[65536];
	size_t n = build_partial(&p, frame, sizeof frame, 14600);
	sf_offload_t off = {.gso_size = 1460, .csum_partial = true};
	assert_int_equal(sf_stack_input_off(p.st, frame, n, &off, p.now), 0);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 14601, 0);
	pkt_expect_none(&p);
	assert_int_equal(count_events(&p, SF_EV_SEG_RX, 10), 1);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_CHECKSUM), 0);
	/* One ordinary full-sized segment still waits for the delayed-ACK
	 * timer: the count above came from the super-segment. */
	pkt_in(&p, ".", 14601, 1, pattern + 14600, 1460);
	pkt_expect_none(&p);
	pkt_advance(&p, 40000);
	pkt_expect(&p, ".", 1, 16061, 0);
	static uint8_t got[65536];
	assert_int_equal(sf_recv(p.st, s, got, sizeof got), 16060);
	assert_memory_equal(got, pattern, 16060);
	pkt_finish(&p, s);
}

/* The same bytes without the link's word are an ordinary datagram whose
 * checksum is wrong (MUST-3): dropped, counted, not acknowledged; the
 * connection goes on (the retransmission with a good checksum is taken). */
static void partial_checksum_needs_the_links_word(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_offload(&p, true, 0);
	static uint8_t frame[65536];
	size_t n = build_partial(&p, frame, sizeof frame, 2920);
	sf_stack_input(p.st, frame, n, p.now);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_CHECKSUM), 1);
	pkt_in(&p, ".", 1, 1, pattern, 1460);
	pkt_expect(&p, ".", 1, 1461, 0);
	pkt_finish(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(tso_sends_whole_segments),
	        cmocka_unit_test(no_tso_without_the_link_asking),
	        cmocka_unit_test(gro_super_segment_taken_whole),
	        cmocka_unit_test(partial_checksum_needs_the_links_word),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
