/* The batch input entry point (sf_stack_input_batch): the same frames give
 * byte for byte the same output and the same state as one sf_stack_input
 * call each (in-order and out-of-order data, a SYN to a closed port, a new
 * SYN to the listener, a truncated frame, a fragment), and the per-packet
 * path, receiving and sending, allocates nothing once a connection is warm. */
#include <string.h>

#include "pkt.h"

static uint8_t pattern[4096];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i % 251);
	return 0;
}

#define NF 8
typedef struct frames {
	uint8_t buf[NF][2048];
	size_t len[NF];
	size_t n;
} frames_t;

static void add(frames_t *f, pkt_t *p, const char *flags, uint32_t seq, uint32_t ack,
                const void *data, size_t len)
{
	f->len[f->n] = pkt_build(p, f->buf[f->n], sizeof f->buf[0], flags, seq, ack, data, len);
	f->n++;
}

/* Frames for the connection of harness p (both harnesses build the same
 * bytes: same seed, same ISS). */
static void build(frames_t *f, pkt_t *p)
{
	memset(f, 0, sizeof *f);
	add(f, p, "P.", 1, 1, pattern, 100);
	add(f, p, "P.", 201, 1, pattern + 200, 100); /* out of order */
	add(f, p, "P.", 101, 1, pattern + 100, 100); /* fills the hole */
	uint16_t port = p->port, peer = p->peer_port;
	p->port = 81; /* nothing listens: RST */
	p->peer_port = 40001;
	add(f, p, "S", 0, 0, NULL, 0);
	p->port = port; /* a new connection to the listener: SYN,ACK */
	p->peer_port = 40002;
	add(f, p, "S", 0, 0, NULL, 0);
	p->peer_port = peer;
	add(f, p, "P.", 301, 1, pattern + 300, 50);
	f->len[f->n] = 30; /* truncated: dropped */
	memcpy(f->buf[f->n], f->buf[0], 30);
	f->n++;
	add(f, p, "P.", 351, 1, pattern + 350, 10);
	uint8_t *frag = f->buf[f->n - 1];
	frag[6] |= 0x20; /* more fragments: held for reassembly */
	sf_put16(frag + 10, 0);
	sf_put16(frag + 10, sf_csum(frag, SF_IPV4_HDR_LEN));
}

static void batch_matches_one_by_one(void **state)
{
	(void)state;
	pkt_t a, b;
	pkt_init(&a, NULL);
	pkt_init(&b, NULL);
	sf_sock_t sa = pkt_open_passive(&a, NULL);
	sf_sock_t sb = pkt_open_passive(&b, NULL);
	assert_int_equal(a.iss, b.iss);
	frames_t fa, fb;
	build(&fa, &a);
	build(&fb, &b);
	for (size_t i = 0; i < fa.n; i++) {
		assert_int_equal(fa.len[i], fb.len[i]);
		assert_memory_equal(fa.buf[i], fb.buf[i], fa.len[i]);
		sf_stack_input(a.st, fa.buf[i], fa.len[i], a.now);
	}
	sf_frame_t batch[NF];
	for (size_t i = 0; i < fb.n; i++)
		batch[i] = (sf_frame_t){.data = fb.buf[i], .len = fb.len[i]};
	/* All but the truncated frame pass the IP layer (the fragment is
	 * held; TCP's own drops show in the statistics compared below). */
	assert_int_equal(sf_stack_input_batch(b.st, batch, fb.n, b.now), 7);
	pkt_poll(&a);
	pkt_poll(&b);
	assert_int_equal(pkt_pending(&a), pkt_pending(&b));
	size_t n = pkt_pending(&a);
	assert_int_equal(n, 3); /* one ACK for the batch, RST, SYN,ACK */
	for (size_t i = 0; i < n; i++) {
		pkt_seg_t *x = pkt_next(&a), *y = pkt_next(&b);
		assert_int_equal(x->len, y->len);
		assert_memory_equal(x->frame, y->frame, x->len);
	}
	uint8_t ra[512], rb[512];
	assert_int_equal(sf_recv(a.st, sa, ra, sizeof ra), 350);
	assert_int_equal(sf_recv(b.st, sb, rb, sizeof rb), 350);
	assert_memory_equal(ra, pattern, 350);
	assert_memory_equal(rb, pattern, 350);
	sf_stack_stats_t xa, xb;
	sf_stack_stats(a.st, &xa);
	sf_stack_stats(b.st, &xb);
	assert_memory_equal(xa.drops, xb.drops, sizeof xa.drops);
	assert_int_equal(xa.tcp_in, xb.tcp_in);
	sf_abort(a.st, sa);
	sf_abort(b.st, sb);
	pkt_poll(&a);
	pkt_poll(&b);
	pkt_discard(&a);
	pkt_discard(&b);
	pkt_fini(&a);
	pkt_fini(&b);
}

/* Counts calls, not bytes: a block taken and given back still counts. */
static counter_t calls_mem;
static uint64_t alloc_calls;
static void *calls_alloc(void *ctx, size_t size)
{
	alloc_calls++;
	return count_alloc(ctx, size);
}

/* A stack whose allocations are counted in alloc_calls (on top of
 * pkt_init's counting allocator), with one passive connection open. */
static sf_sock_t counted_open(pkt_t *p)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	pkt_init(p, &c);
	sf_stack_destroy(p->st);
	p->cfg.allocator = (sf_allocator_t){calls_alloc, count_free, &calls_mem};
	assert_int_equal(sf_stack_create(&p->cfg, p->now, &p->st), 0);
	return pkt_open_passive(p, NULL);
}

/* Aborts s, destroys the stack and checks it gave back all it took. */
static void counted_close(pkt_t *p, sf_sock_t s)
{
	sf_abort(p->st, s);
	pkt_poll(p);
	pkt_discard(p);
	sf_stack_destroy(p->st);
	p->st = NULL;
	assert_int_equal(calls_mem.live, 0);
	assert_int_equal(calls_mem.bytes, 0);
}

static void per_packet_path_allocates_nothing(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = counted_open(&p);
	uint8_t got[4096];
	uint32_t seq = 1;
	/* Warm-up: the receive ring's storage is taken once and pooled. */
	pkt_in(&p, "P.", seq, 1, pattern, 1000);
	seq += 1000;
	assert_int_equal(sf_recv(p.st, s, got, sizeof got), 1000);
	pkt_discard(&p);
	uint64_t before = alloc_calls;
	for (int round = 0; round < 50; round++) {
		frames_t f = {0};
		sf_frame_t batch[NF];
		for (size_t i = 0; i < 4; i++) {
			add(&f, &p, "P.", seq, 1, pattern + 100 * i, 100);
			batch[i] = (sf_frame_t){.data = f.buf[i], .len = f.len[i]};
			seq += 100;
		}
		assert_int_equal(sf_stack_input_batch(p.st, batch, f.n, p.now), 4);
		pkt_poll(&p);
		pkt_expect(&p, ".", 1, seq, 0);
		assert_int_equal(sf_recv(p.st, s, got, sizeof got), 400);
	}
	assert_int_equal(alloc_calls, before);
	counted_close(&p, s);
}

/* The sending half of the per-packet path: data written, sent, its ACK
 * taken (the send ring's storage is taken once and pooled, like the
 * receive ring's). Segments out and ACKs in, 50 rounds: no allocation. */
static void per_packet_send_path_allocates_nothing(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = counted_open(&p);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_NODELAY, 1), 0);
	uint32_t snd = 1;
	/* Warm-up: one write, sent and acknowledged; it takes the send ring's
	 * storage through the allocator (so the count below can see it). */
	uint64_t cold = alloc_calls;
	assert_int_equal(sf_send(p.st, s, pattern, 500), 500); /* under the 536-byte MSS */
	pkt_poll(&p);
	pkt_expect(&p, "P.", snd, 1, 500);
	snd += 500;
	pkt_in(&p, ".", 1, snd, NULL, 0);
	pkt_discard(&p);
	assert_true(alloc_calls > cold);
	uint64_t before = alloc_calls;
	for (int round = 0; round < 50; round++) {
		assert_int_equal(sf_send(p.st, s, pattern + 10 * round, 400), 400);
		pkt_poll(&p);
		pkt_expect(&p, "P.", snd, 1, 400);
		snd += 400;
		pkt_in(&p, ".", 1, snd, NULL, 0);
		pkt_expect_none(&p);
	}
	assert_int_equal(alloc_calls, before);
	counted_close(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(batch_matches_one_by_one),
	        cmocka_unit_test(per_packet_path_allocates_nothing),
	        cmocka_unit_test(per_packet_send_path_allocates_nothing),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
