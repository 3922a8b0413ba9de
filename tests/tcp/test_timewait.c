/* TIME-WAIT, event by event (RFC 9293 §3.10.7.4 in TIME-WAIT, RFC 1337,
 * RFC 5961 §4, RFC 6191): every flag combination, in the window (at
 * RCV.NXT), just left of it (where the peer's FIN was) and far out of it,
 * against the compact record, one fresh record per case. The table says
 * what synfin must answer and whether the record stays.
 *
 * The record: synfin closed first (its FIN at 1), the peer's FIN at 1 was
 * acknowledged, so RCV.NXT = 2 and SND.NXT = 2 (relative). A listener
 * stays on the port, so a SYN that reopens the record is answered by it.
 */
#include <string.h>

#include "pkt.h"

enum { IN, OLD, FAR };
enum { NONE, ACK, SYNACK };

typedef struct tw_case {
	const char *flags;
	int pos;
	int reply;
	bool stays; /* the record is still there afterwards */
} tw_case_t;

static const tw_case_t cases[] = {
        /* ACK alone: in the window it changes nothing; outside, the first
         * check answers with an ACK. */
        {".", IN, NONE, true},
        {".", OLD, ACK, true},
        {".", FAR, ACK, true},
        /* No flags: unacceptable ones are ACKed (first check); an
         * acceptable one has the ACK bit off and is dropped. */
        {"", IN, NONE, true},
        {"", OLD, ACK, true},
        {"", FAR, ACK, true},
        /* FIN with ACK: acknowledged (the retransmitted FIN sits at OLD). */
        {"F.", IN, ACK, true},
        {"F.", OLD, ACK, true},
        {"F.", FAR, ACK, true},
        /* FIN without ACK: in the window, ACK bit off: dropped (issue 12). */
        {"F", IN, NONE, true},
        {"F", OLD, ACK, true},
        {"F", FAR, ACK, true},
        /* Text with ACK: ignored, acknowledged. Without ACK: as FIN. */
        {"P.", IN, ACK, true},
        {"P.", OLD, ACK, true},
        {"P.", FAR, ACK, true},
        {"P", IN, NONE, true},
        {"P", OLD, ACK, true},
        {"P", FAR, ACK, true},
        {"FP.", IN, ACK, true},
        {"FP", IN, NONE, true},
        /* SYN: a challenge ACK (RFC 5961 §4) unless provably new (RFC 6191,
         * no timestamps: above RCV.NXT), which reopens. */
        {"S", IN, ACK, true},
        {"S", OLD, ACK, true},
        {"S", FAR, SYNACK, false},
        {"S.", IN, ACK, true},
        {"S.", OLD, ACK, true},
        {"S.", FAR, ACK, true},
        {"SF", IN, ACK, true},
        {"SF", OLD, ACK, true},
        {"SF", FAR, ACK, true},
        {"SF.", IN, ACK, true},
        {"SF.", OLD, ACK, true},
        {"SF.", FAR, ACK, true},
        /* RST, anywhere, with any of SYN, FIN, ACK: ignored (RFC 1337); SYN+RST
         * means nothing. With the rows above, all sixteen combinations of
         * SYN, RST, FIN and ACK are here at all three positions. */
        {"R", IN, NONE, true},
        {"R", OLD, NONE, true},
        {"R", FAR, NONE, true},
        {"R.", IN, NONE, true},
        {"R.", OLD, NONE, true},
        {"R.", FAR, NONE, true},
        {"RF", IN, NONE, true},
        {"RF", OLD, NONE, true},
        {"RF", FAR, NONE, true},
        {"RF.", IN, NONE, true},
        {"RF.", OLD, NONE, true},
        {"RF.", FAR, NONE, true},
        {"SR", IN, NONE, true},
        {"SR", OLD, NONE, true},
        {"SR", FAR, NONE, true},
        {"SR.", IN, NONE, true},
        {"SR.", OLD, NONE, true},
        {"SR.", FAR, NONE, true},
        {"SRF", IN, NONE, true},
        {"SRF", OLD, NONE, true},
        {"SRF", FAR, NONE, true},
        {"SRF.", IN, NONE, true},
        {"SRF.", OLD, NONE, true},
        {"SRF.", FAR, NONE, true},
        /* URG with ACK and text: text ignored, acknowledged. */
        {"UP.", IN, ACK, true},
};

static uint32_t timewait_open(pkt_t *p)
{
	sf_stack_stats_t ss;
	sf_stack_stats(p->st, &ss);
	return ss.timewait_open;
}

static void one_case(const tw_case_t *c)
{
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l;
	assert_int_equal(pkt_goto(&p, SF_TIME_WAIT, &l), 0);
	assert_int_equal(timewait_open(&p), 1);
	static const uint32_t seqs[] = {2, 1, 2 + 300000};
	bool text = strchr(c->flags, 'P') != NULL;
	if (strchr(c->flags, 'U'))
		p.urg = 1;
	pkt_in(&p, c->flags, seqs[c->pos], 2, text ? "x" : NULL, text ? 1 : 0);
	if (c->reply == ACK) {
		pkt_expect(&p, ".", 2, 2, 0);
	} else if (c->reply == SYNACK) {
		pkt_seg_t *sa = pkt_next(&p);
		assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
		assert_int_equal(sa->tcp.ack, p.irs + seqs[c->pos] + 1);
	}
	pkt_expect_none(&p);
	assert_int_equal(timewait_open(&p), c->stays ? 1 : 0);
	pkt_finish_close(&p, l);
}

static void timewait_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("TIME-WAIT <- %-4s %s\n", cases[i].flags,
		              cases[i].pos == IN    ? "in window"
		              : cases[i].pos == OLD ? "old"
		                                    : "far");
		one_case(&cases[i]);
	}
}

/* The retransmitted FIN restarts the 2*MSL wait; an in-window FIN without
 * the ACK bit does not (it is dropped). */
static void timewait_fin_restarts_2msl(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	assert_int_equal(pkt_goto(&p, SF_TIME_WAIT, NULL), 0);
	int64_t msl2 = 2 * (int64_t)p.cfg.msl_ms * 1000;
	pkt_advance(&p, msl2 / 2);
	pkt_in(&p, "F", 2, 0, NULL, 0); /* dropped: no restart */
	pkt_expect_none(&p);
	pkt_in(&p, "F.", 1, 2, NULL, 0); /* the peer's FIN again */
	pkt_expect(&p, ".", 2, 2, 0);
	pkt_advance(&p, msl2 - 1000);
	assert_int_equal(timewait_open(&p), 1);
	pkt_advance(&p, 2000);
	assert_int_equal(timewait_open(&p), 0);
	pkt_fini(&p);
}

/* With timestamps, a SYN is provably new by its timestamp (RFC 6191):
 * newer reopens, older draws a challenge ACK. */
static void timewait_syn_by_timestamp(void **state)
{
	(void)state;
	for (int newer = 0; newer < 2; newer++) {
		pkt_t p;
		pkt_init(&p, NULL);
		sf_sock_t l;
		sf_tcp_opts_t o = {.has_ts = true};
		p.peer_ts = 5000;
		sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, &l);
		assert_int_equal(sf_shutdown(p.st, s, SF_SHUT_WR), 0);
		pkt_poll(&p);
		pkt_expect(&p, "F.", 1, 1, 0);
		pkt_in(&p, "F.", 1, 2, NULL, 0);
		pkt_expect(&p, ".", 2, 2, 0);
		sf_close(p.st, s);
		pkt_poll(&p);
		assert_int_equal(timewait_open(&p), 1);
		p.peer_ts = newer ? 6000 : 4000;
		pkt_in(&p, "S", 1, 0, NULL, 0); /* seq not above RCV.NXT */
		pkt_seg_t *r = pkt_next(&p);
		if (newer)
			assert_int_equal(r->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
		else
			assert_int_equal(r->tcp.flags, SF_TCP_ACK);
		pkt_expect_none(&p);
		assert_int_equal(timewait_open(&p), newer ? 0 : 1);
		pkt_finish_close(&p, l);
	}
}

/* RFC 9293 §3.6.1 / RFC 1122 4.2.2.13: a connection reopened from
 * TIME-WAIT starts above the old SND.NXT. Here no time passes, so the
 * clock-driven ISN for the same 4-tuple is the old ISS again, below the
 * old SND.NXT (past our FIN): the guard must move it. */
static void timewait_reopen_iss_above_old_snd_nxt(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l;
	assert_int_equal(pkt_goto(&p, SF_TIME_WAIT, &l), 0);
	uint32_t old_iss = p.iss, old_snd_nxt = p.iss + 2;
	pkt_in(&p, "S", 1000, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_true(sf_seq_gt(sa->tcp.seq, old_snd_nxt));
	assert_true(sa->tcp.seq != old_iss);
	assert_int_equal(timewait_open(&p), 0);
	/* The new connection completes on the new numbers. */
	p.iss = sa->tcp.seq;
	pkt_in(&p, ".", 1001, 1, NULL, 0);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	assert_true(s > 0);
	pkt_finish_listener(&p, s, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(timewait_table),
	        cmocka_unit_test(timewait_fin_restarts_2msl),
	        cmocka_unit_test(timewait_syn_by_timestamp),
	        cmocka_unit_test(timewait_reopen_iss_above_old_snd_nxt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
