/* Unit tests of the ladder diagram (include/synfin/ladder.h).
 *
 * Part one builds trace events by hand, as two stacks would emit them, and
 * checks the rendered text (exact bytes for a handshake, in English and
 * Chinese; states in the right columns and in the right order for a whole
 * connection; lost arrows, retransmissions, timers, resets) and the SVG
 * (well-formed per xmllint when it is installed, arrows present). The
 * ladders drawn from pcap captures are tested in test_ladder_capture.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "ladderfx.h"
#include "synfin/ladder.h"

/* ---- building events ---- */

/* Every event added is also recorded here, per side, while `recording`. */
static bool recording;
static sf_event_t rec_ev[2][128];
static size_t rec_cnt[2];

static void put(sf_ladder_t *l, int side, const sf_event_t *ev)
{
	assert_int_equal(sf_ladder_add_event(l, side, ev), 0);
	if (recording) {
		assert_true(rec_cnt[side] < 128);
		rec_ev[side][rec_cnt[side]++] = *ev;
	}
}

static sf_event_t seg_event(sf_event_kind_t kind, int64_t t_us, uint32_t conn, int from,
                            uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, uint16_t len)
{
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.now_us = t_us;
	ev.conn_id = conn;
	ev.u.seg.ip.src = from == 0 ? CLI_ADDR : SRV_ADDR;
	ev.u.seg.ip.dst = from == 0 ? SRV_ADDR : CLI_ADDR;
	ev.u.seg.ip.proto = SF_IP_PROTO_TCP;
	ev.u.seg.tcp.sport = from == 0 ? CLI_PORT : SRV_PORT;
	ev.u.seg.tcp.dport = from == 0 ? SRV_PORT : CLI_PORT;
	ev.u.seg.tcp.seq = seq;
	ev.u.seg.tcp.ack = ack;
	ev.u.seg.tcp.flags = flags;
	ev.u.seg.tcp.wnd = wnd;
	ev.u.seg.tcp.payload_len = len;
	if (flags & F_SYN) {
		ev.u.seg.tcp.opt.has_mss = true;
		ev.u.seg.tcp.opt.mss = 1460;
		ev.u.seg.tcp.opt.has_wscale = from == 0;
		ev.u.seg.tcp.opt.wscale = 7;
		ev.u.seg.tcp.opt.sack_perm = from == 0;
	}
	return ev;
}

static uint32_t conn_of(int side)
{
	return side == 0 ? CLI_CONN : SRV_CONN;
}

/* A segment sent by `from` at t_us and received by the other side at
 * rx_us (rx_us < 0: lost). */
static void seg(sf_ladder_t *l, int from, int64_t t_us, int64_t rx_us, uint8_t flags, uint32_t seq,
                uint32_t ack, uint16_t wnd, uint16_t len)
{
	sf_event_t tx =
	        seg_event(SF_EV_SEG_TX, t_us, conn_of(from), from, flags, seq, ack, wnd, len);
	put(l, from, &tx);
	if (rx_us >= 0) {
		sf_event_t rx = seg_event(SF_EV_SEG_RX, rx_us, conn_of(1 - from), from, flags, seq,
		                          ack, wnd, len);
		put(l, 1 - from, &rx);
	}
}

static void state(sf_ladder_t *l, int side, int64_t t_us, sf_state_t from, sf_state_t to,
                  sf_cause_t cause)
{
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_STATE;
	ev.now_us = t_us;
	ev.conn_id = conn_of(side);
	ev.u.state.from = from;
	ev.u.state.to = to;
	ev.u.state.cause = cause;
	put(l, side, &ev);
}

static void timer(sf_ladder_t *l, int side, int64_t t_us, sf_timer_kind_t kind, uint32_t count)
{
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_TIMER;
	ev.now_us = t_us;
	ev.conn_id = conn_of(side);
	ev.u.timer.timer = kind;
	ev.u.timer.count = count;
	put(l, side, &ev);
}

/* The handshake as two stacks trace it, 1 ms one way. Events are added in
 * time order, the way a simulator's sinks see them. */
static void add_handshake(sf_ladder_t *l)
{
	state(l, 1, 0, SF_CLOSED, SF_LISTEN, SF_CAUSE_APP_LISTEN);
	state(l, 0, 0, SF_CLOSED, SF_SYN_SENT, SF_CAUSE_APP_CONNECT);
	seg(l, 0, 0, 1000, F_SYN, CLI_ISN, 0, 64240, 0);
	state(l, 1, 1000, SF_LISTEN, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN);
	seg(l, 1, 1000, 2000, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 65535, 0);
	state(l, 0, 2000, SF_SYN_SENT, SF_ESTABLISHED, SF_CAUSE_RCV_SYNACK);
	seg(l, 0, 2000, 3000, F_ACK, CLI_ISN + 1, SRV_ISN + 1, 502, 0);
	state(l, 1, 3000, SF_SYN_RECEIVED, SF_ESTABLISHED, SF_CAUSE_RCV_ACK);
}

/* 100 bytes up, 200 bytes down, each acknowledged. */
static void add_data(sf_ladder_t *l)
{
	seg(l, 0, 4000, 5000, F_PSH | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 502, 100);
	seg(l, 1, 5000, 6000, F_ACK, SRV_ISN + 1, CLI_ISN + 101, 509, 0);
	seg(l, 1, 7000, 8000, F_PSH | F_ACK, SRV_ISN + 1, CLI_ISN + 101, 509, 200);
	seg(l, 0, 8000, 9000, F_ACK, CLI_ISN + 101, SRV_ISN + 201, 501, 0);
}

/* The client closes first; its TIME-WAIT ends 60 s later (2*MSL). */
static void add_close(sf_ladder_t *l)
{
	state(l, 0, 10000, SF_ESTABLISHED, SF_FIN_WAIT_1, SF_CAUSE_APP_CLOSE);
	seg(l, 0, 10000, 11000, F_FIN | F_ACK, CLI_ISN + 101, SRV_ISN + 201, 501, 0);
	state(l, 1, 11000, SF_ESTABLISHED, SF_CLOSE_WAIT, SF_CAUSE_RCV_FIN);
	seg(l, 1, 11000, 12000, F_ACK, SRV_ISN + 201, CLI_ISN + 102, 509, 0);
	state(l, 0, 12000, SF_FIN_WAIT_1, SF_FIN_WAIT_2, SF_CAUSE_RCV_ACK);
	state(l, 1, 13000, SF_CLOSE_WAIT, SF_LAST_ACK, SF_CAUSE_APP_CLOSE);
	seg(l, 1, 13000, 14000, F_FIN | F_ACK, SRV_ISN + 201, CLI_ISN + 102, 509, 0);
	state(l, 0, 14000, SF_FIN_WAIT_2, SF_TIME_WAIT, SF_CAUSE_RCV_FIN);
	seg(l, 0, 14000, 15000, F_ACK, CLI_ISN + 102, SRV_ISN + 202, 501, 0);
	state(l, 1, 15000, SF_LAST_ACK, SF_CLOSED, SF_CAUSE_RCV_ACK);
	timer(l, 0, 74000, SF_TIMER_TIMEWAIT, 0);
	state(l, 0, 74000, SF_TIME_WAIT, SF_CLOSED, SF_CAUSE_TIMEWAIT);
}

/* ---- rendering to strings ---- */

/* ---- event tests ---- */

static const char handshake_en[] =
        "TCP ladder: client 192.0.2.1:40000 <-> server 192.0.2.2:80\n"
        "\n"
        "t(ms)       client                                                            server\n"
        "            CLOSED |                                                        | LISTEN\n"
        "                   |================= three-way handshake ==================|\n"
        "0.000     SYN-SENT |---- SYN seq=0 win=64240 mss=1460 wscale=7 sackOK ----->| "
        "SYN-RECEIVED\n"
        "1.000  ESTABLISHED |<--- SYN+ACK seq=0 ack=1 win=65535 mss=1460 ------------|\n"
        "2.000              |---- ACK seq=1 ack=1 win=502 -------------------------->| "
        "ESTABLISHED\n"
        "  end  ESTABLISHED |                                                        | "
        "ESTABLISHED\n";

static const char handshake_zh[] =
        "TCP 时序图：客户端 192.0.2.1:40000 <-> 服务器 192.0.2.2:80\n"
        "\n"
        "时间(ms)       客户端                                                            服务器\n"
        "               CLOSED |                                                        | LISTEN\n"
        "                      |======================= 三次握手 =======================|\n"
        "   0.000     SYN-SENT |---- SYN seq=0 win=64240 mss=1460 wscale=7 sackOK ----->| "
        "SYN-RECEIVED\n"
        "   1.000  ESTABLISHED |<--- SYN+ACK seq=0 ack=1 win=65535 mss=1460 ------------|\n"
        "   2.000              |---- ACK seq=1 ack=1 win=502 -------------------------->| "
        "ESTABLISHED\n"
        "    结束  ESTABLISHED |                                                        | "
        "ESTABLISHED\n";

static void test_handshake_text_exact(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	assert_non_null(l);
	add_handshake(l);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	if (strcmp(en, handshake_en) != 0)
		print_error("got:\n%s\nexpected:\n%s\n", en, handshake_en);
	assert_string_equal(en, handshake_en);
	char *zh = render_lang(l, SF_LADDER_LANG_ZH);
	if (strcmp(zh, handshake_zh) != 0)
		print_error("got:\n%s\nexpected:\n%s\n", zh, handshake_zh);
	assert_string_equal(zh, handshake_zh);
	assert_aligned(zh);
	assert_int_equal(sf_ladder_seg_count(l), 3);
	assert_int_equal(sf_ladder_lost_count(l), 0);
	assert_int_equal(sf_ladder_final_state(l, 0), SF_ESTABLISHED);
	assert_int_equal(sf_ladder_final_state(l, 1), SF_ESTABLISHED);
	/* Rendering twice gives the same bytes. */
	char *again = render_lang(l, SF_LADDER_LANG_EN);
	assert_string_equal(again, en);
	free(en);
	free(zh);
	free(again);
	sf_ladder_free(l);
}

static void test_sequence_modes(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	sf_ladder_opts_t o = {
	        .seq = SF_LADDER_SEQ_SYMBOLIC, .hide_win = true, .hide_options = true};
	char *sym = render(l, &o, false);
	assert_in_order(sym, "SYN seq=x -", "SYN+ACK seq=y ack=x+1 -", "ACK seq=x+1 ack=y+1 -",
	                NULL);
	assert_null(strstr(sym, "win="));
	assert_null(strstr(sym, "mss="));
	o.seq = SF_LADDER_SEQ_ABSOLUTE;
	char *abs = render(l, &o, false);
	assert_in_order(abs, "SYN seq=1000 ", "SYN+ACK seq=5000 ack=1001 ",
	                "ACK seq=1001 ack=5001 ", NULL);
	o.hide_time = true;
	char *notime = render(l, &o, false);
	assert_null(strstr(notime, "2.000"));
	free(sym);
	free(abs);
	free(notime);
	sf_ladder_free(l);
}

static void test_full_connection(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	add_data(l);
	add_close(l);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_in_order(en, "three-way handshake", "SYN seq=0", "SYN+ACK", "data transfer",
	                "PSH+ACK seq=1 ack=1 win=502 len=100", "ACK seq=1 ack=101",
	                "PSH+ACK seq=1 ack=101 win=509 len=200", "ACK seq=101 ack=201",
	                "four-way close", "FIN+ACK seq=101 ack=201", "ACK seq=201 ack=102",
	                "FIN+ACK seq=201 ack=102", "ACK seq=102 ack=202", "2MSL timer expired",
	                NULL);
	assert_column(en, 0,
	              "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED "
	              "CLOSED");
	assert_column(en, 1, "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED CLOSED");
	/* The TIME-WAIT expiry is its own row, 74 ms in, on the left. */
	assert_line_has(en, "2MSL timer expired", "74.000", "CLOSED |", NULL);
	/* State changes sit on the row of the segment that caused them. */
	assert_line_has(en, "FIN+ACK seq=101", "FIN-WAIT-1 |", "| CLOSE-WAIT", NULL);
	assert_aligned(en);
	assert_no_trailing_blanks(en);

	char *zh = render_lang(l, SF_LADDER_LANG_ZH);
	assert_in_order(zh, "客户端 192.0.2.1:40000", "服务器 192.0.2.2:80", "三次握手", "数据传输",
	                "四次挥手", "2MSL 计时器到期", "结束", NULL);
	assert_column(zh, 0,
	              "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED "
	              "CLOSED");
	assert_aligned(zh);
	assert_no_trailing_blanks(zh);
	assert_int_equal(sf_ladder_final_state(l, 0), SF_CLOSED);
	assert_int_equal(sf_ladder_final_state(l, 1), SF_CLOSED);
	assert_int_equal(sf_ladder_seg_count(l), 11);
	free(en);
	free(zh);
	sf_ladder_free(l);
}

/* The two sides' streams added one after the other, not interleaved:
 * pairing does not depend on the interleaving. */
static void test_streams_added_separately(void **state_)
{
	(void)state_;
	sf_ladder_t *a = sf_ladder_new(), *b = sf_ladder_new();
	rec_cnt[0] = rec_cnt[1] = 0;
	recording = true;
	add_handshake(a);
	add_data(a);
	add_close(a);
	recording = false;
	/* The same events into b through the sink, side 0 first, then 1. */
	for (int s = 0; s < 2; s++) {
		sf_ladder_tap_t tap = {b, s};
		for (size_t i = 0; i < rec_cnt[s]; i++)
			sf_ladder_sink(&tap, &rec_ev[s][i]);
	}
	char *x = render_lang(a, SF_LADDER_LANG_EN), *y = render_lang(b, SF_LADDER_LANG_EN);
	assert_string_equal(x, y);
	free(x);
	free(y);
	sf_ladder_free(a);
	sf_ladder_free(b);
}

/* Only synfin's end (the server, side 1) traced, as serve sees a kernel
 * client: the client's states are inferred from the segments, marked so;
 * frames synfin's own impairment lost (a drop event after the seg_tx, or
 * instead of the seg_rx) are drawn lost, and counted. */
static void test_live_one_side(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	sf_event_t ev;
	state(l, 1, 0, SF_CLOSED, SF_LISTEN, SF_CAUSE_APP_LISTEN);
	ev = seg_event(SF_EV_SEG_RX, 1000, SRV_CONN, 0, F_SYN, CLI_ISN, 0, 64240, 0);
	put(l, 1, &ev);
	state(l, 1, 1000, SF_LISTEN, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN);
	ev = seg_event(SF_EV_SEG_TX, 1000, SRV_CONN, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 65535,
	               0);
	put(l, 1, &ev);
	ev.kind = SF_EV_DROP; /* the impairment lost the SYN,ACK */
	ev.conn_id = 0;
	ev.has_seg = true;
	ev.drop = SF_DROP_LINK_IMPAIR_TX;
	put(l, 1, &ev);
	timer(l, 1, 201000, SF_TIMER_RTO, 1);
	ev = seg_event(SF_EV_SEG_TX, 201000, SRV_CONN, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1,
	               65535, 0);
	put(l, 1, &ev);
	ev = seg_event(SF_EV_SEG_RX, 202000, SRV_CONN, 0, F_ACK, CLI_ISN + 1, SRV_ISN + 1, 502, 0);
	put(l, 1, &ev);
	state(l, 1, 202000, SF_SYN_RECEIVED, SF_ESTABLISHED, SF_CAUSE_RCV_ACK);
	/* The client's data, lost on its way in, then its FIN. */
	ev = seg_event(SF_EV_DROP, 203000, 0, 0, F_ACK | F_PSH, CLI_ISN + 1, SRV_ISN + 1, 502, 10);
	ev.has_seg = true;
	ev.drop = SF_DROP_LINK_IMPAIR_RX;
	put(l, 1, &ev);
	ev = seg_event(SF_EV_SEG_RX, 204000, SRV_CONN, 0, F_FIN | F_ACK, CLI_ISN + 1, SRV_ISN + 1,
	               502, 0);
	put(l, 1, &ev);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "client (inferred)"));
	assert_null(strstr(en, "server (inferred)"));
	assert_column(en, 0, "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-1");
	assert_int_equal(count(en, "(lost: synfin's impairment)"), 2);
	assert_int_equal(sf_ladder_lost_count(l), 2);
	assert_int_equal(sf_ladder_seg_count(l), 6);
	assert_int_equal(sf_ladder_final_state(l, 0), SF_FIN_WAIT_1);
	free(en);
	sf_ladder_free(l);
}

/* A long transfer: the plain middle of a run of data segments is one line,
 * its first and last rows stay; --full draws them all. */
static void test_collapse(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	for (uint32_t k = 0; k < 30; k++) {
		seg(l, 1, 10000 + k * 10, 11000 + k * 10, F_ACK, SRV_ISN + 1 + k * 1000,
		    CLI_ISN + 1, 501, 1000);
		seg(l, 0, 11005 + k * 10, 12005 + k * 10, F_ACK, CLI_ISN + 1,
		    SRV_ISN + 1 + (k + 1) * 1000, 501, 0);
	}
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "… 52 segments: 26 data (26.0 kB), 26 ACKs, 0 lost"));
	assert_int_equal(count(en, "len=1000"), 30 - 26);
	sf_ladder_opts_t full = {.full = true};
	char *all = render(l, &full, false);
	assert_null(strstr(all, "…"));
	assert_int_equal(count(all, "len=1000"), 30);
	sf_ladder_opts_t zo = {.lang = SF_LADDER_LANG_ZH};
	char *zh = render(l, &zo, false);
	assert_non_null(strstr(zh, "… 省略 52 个报文段"));
	assert_aligned(en);
	free(en);
	free(all);
	free(zh);
	sf_ladder_free(l);
}

static void test_lost_and_retransmitted(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	seg(l, 0, 4000, -1, F_PSH | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 502, 100); /* lost */
	timer(l, 0, 204000, SF_TIMER_RTO, 1);
	seg(l, 0, 204000, 205000, F_PSH | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 502, 100);
	seg(l, 1, 205000, 206000, F_ACK, SRV_ISN + 1, CLI_ISN + 101, 509, 0);
	assert_int_equal(sf_ladder_seg_count(l), 6);
	assert_int_equal(sf_ladder_lost_count(l), 1);

	char *en = render_lang(l, SF_LADDER_LANG_EN);
	char *lost = line_with(en, "(lost)");
	assert_non_null(strstr(lost, "len=100 (lost) "));
	assert_non_null(strstr(lost, "-X   |")); /* stops short of the right lifeline */
	assert_null(strstr(lost, ">"));
	free(lost);
	assert_line_has(en, "retransmission timeout (#1)", "204.000",
	                "| * retransmission timeout (#1)", NULL);
	assert_line_has(en, "(retransmission: RTO)", "204.000", "len=100 (retransmission: RTO) -",
	                "->|", NULL);
	assert_in_order(en, "(lost)", "retransmission timeout", "(retransmission: RTO)",
	                "ACK seq=1 ack=101", NULL);
	assert_aligned(en);

	char *zh = render_lang(l, SF_LADDER_LANG_ZH);
	assert_in_order(zh, "len=100（丢失）", "重传计时器超时（第 1 次）", "len=100（超时重传）",
	                NULL);
	assert_aligned(zh);

	/* SVG: two red marks for one lost arrow, one dashed retransmission. */
	char *svg = render(l, NULL, true);
	assert_non_null(strstr(svg, "class=\"lost-mark\""));
	assert_non_null(strstr(svg, "class=\"seg lost\""));
	assert_non_null(strstr(svg, "(retransmission: RTO)"));
	free(en);
	free(zh);
	free(svg);
	sf_ladder_free(l);
}

/* A path slower than the retransmission timer (5 s one way, RTO 1 s):
 * every copy of the SYN and of the SYN+ACK arrives, in the order sent.
 * The first arrival belongs to the first copy, so the server's
 * SYN-RECEIVED stands on the row of the original SYN and the client's
 * ESTABLISHED on the first SYN+ACK; the later SYN+ACK, which reaches an
 * established client, carries the drop. A lost original is in
 * test_lost_and_retransmitted: there the retransmission takes the arrival. */
static void drop_at(sf_ladder_t *l, int side, int64_t t_us, int from, uint8_t flags, uint32_t seq,
                    uint32_t ack, sf_drop_reason_t why)
{
	sf_event_t dr = seg_event(SF_EV_DROP, t_us, 0, from, flags, seq, ack, 65535, 0);
	dr.has_seg = true;
	dr.drop = why;
	put(l, side, &dr);
}

/* Segment `flags seq ack` from side `from`, traced by `side` (its sender
 * for SF_EV_SEG_TX, its receiver for SF_EV_SEG_RX) at t_ms. */
static void ev_at(sf_ladder_t *l, int side, sf_event_kind_t kind, int64_t t_ms, int from,
                  uint8_t flags, uint32_t seq, uint32_t ack)
{
	sf_event_t ev = seg_event(kind, t_ms * 1000, conn_of(side), from, flags, seq, ack, 502, 0);
	put(l, side, &ev);
}

static void test_slow_path_copies(void **state_)
{
	(void)state_;
	const uint8_t SA = F_SYN | F_ACK;
	const uint32_t C = CLI_ISN, S = SRV_ISN;
	sf_ladder_t *l = sf_ladder_new();
	/* In time order, as the two sinks see the events. */
	state(l, 1, 0, SF_CLOSED, SF_LISTEN, SF_CAUSE_APP_LISTEN);
	state(l, 0, 0, SF_CLOSED, SF_SYN_SENT, SF_CAUSE_APP_CONNECT);
	ev_at(l, 0, SF_EV_SEG_TX, 0, 0, F_SYN, C, 0);
	timer(l, 0, 1000000, SF_TIMER_RTO, 1);
	ev_at(l, 0, SF_EV_SEG_TX, 1000, 0, F_SYN, C, 0);
	ev_at(l, 1, SF_EV_SEG_RX, 5000, 0, F_SYN, C, 0);
	state(l, 1, 5000000, SF_LISTEN, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN);
	ev_at(l, 1, SF_EV_SEG_TX, 5000, 1, SA, S, C + 1);
	ev_at(l, 1, SF_EV_SEG_RX, 6000, 0, F_SYN, C, 0);
	ev_at(l, 1, SF_EV_SEG_TX, 6000, 1, SA, S, C + 1); /* answers the copy */
	ev_at(l, 0, SF_EV_SEG_RX, 10000, 1, SA, S, C + 1);
	state(l, 0, 10000000, SF_SYN_SENT, SF_ESTABLISHED, SF_CAUSE_RCV_SYNACK);
	ev_at(l, 0, SF_EV_SEG_TX, 10000, 0, F_ACK, C + 1, S + 1);
	drop_at(l, 0, 11000000, 1, SA, S, C + 1, SF_DROP_TCP_OUT_OF_WINDOW);
	ev_at(l, 0, SF_EV_SEG_TX, 11000, 0, F_ACK, C + 1, S + 1);
	ev_at(l, 1, SF_EV_SEG_RX, 15000, 0, F_ACK, C + 1, S + 1);
	state(l, 1, 15000000, SF_SYN_RECEIVED, SF_ESTABLISHED, SF_CAUSE_RCV_ACK);
	ev_at(l, 1, SF_EV_SEG_RX, 16000, 0, F_ACK, C + 1, S + 1);
	assert_int_equal(sf_ladder_lost_count(l), 0);

	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_line_has(en, "SYN seq=0", "    0.000", "SYN-RECEIVED", NULL);
	char *synack = line_with(en, "SYN+ACK");
	assert_non_null(strstr(synack, " 5000.000"));
	assert_non_null(strstr(synack, "ESTABLISHED"));
	assert_null(strstr(synack, "dropped"));
	free(synack);
	assert_line_has(en, "(dropped: outside the receive window", " 6000.000", "SYN+ACK", NULL);
	assert_aligned(en);
	free(en);
	sf_ladder_free(l);
}

static void test_reset(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	add_data(l);
	state(l, 1, 10000, SF_ESTABLISHED, SF_CLOSED, SF_CAUSE_APP_ABORT);
	seg(l, 1, 10000, 11000, F_RST | F_ACK, SRV_ISN + 201, CLI_ISN + 101, 0, 0);
	state(l, 0, 11000, SF_ESTABLISHED, SF_CLOSED, SF_CAUSE_RCV_RST);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_in_order(en, "data transfer", "= reset =", "RST+ACK seq=201 ack=101", NULL);
	assert_null(strstr(en, "four-way close"));
	assert_line_has(en, "RST+ACK", "CLOSED |<--- RST+ACK", "| CLOSED", NULL);
	char *zh = render_lang(l, SF_LADDER_LANG_ZH);
	assert_non_null(strstr(zh, "连接重置"));
	assert_int_equal(sf_ladder_final_state(l, 0), SF_CLOSED);
	assert_int_equal(sf_ladder_final_state(l, 1), SF_CLOSED);
	free(en);
	free(zh);
	sf_ladder_free(l);
}

/* Another connection of the client, traced with another id and port, is
 * left out by default and drawn when chosen. */
static void test_conn_selection(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	sf_event_t other = seg_event(SF_EV_SEG_TX, 500, 9, 0, F_SYN, 777, 0, 1000, 0);
	other.u.seg.tcp.sport = 41000;
	assert_int_equal(sf_ladder_add_event(l, 0, &other), 0);
	sf_event_t drop;
	memset(&drop, 0, sizeof drop);
	drop.kind = SF_EV_DROP;
	drop.now_us = 2500;
	drop.drop = SF_DROP_TCP_CHECKSUM;
	assert_int_equal(sf_ladder_add_event(l, 1, &drop), 0); /* conn 0, no segment */

	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_null(strstr(en, "seq=777"));
	assert_null(strstr(en, "41000"));
	assert_int_equal(sf_ladder_seg_count(l), 3);
	free(en);

	assert_int_equal(sf_ladder_set_conn(l, 0, 9), 0);
	en = render_lang(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "client 192.0.2.1:41000"));
	assert_non_null(strstr(en, "SYN seq=0 win=1000"));
	/* The server never saw it: nothing of the server's connection
	 * matches, so the SYN is lost. */
	assert_non_null(strstr(en, "(lost)"));
	free(en);
	assert_int_equal(sf_ladder_set_conn(l, 2, 9), SF_EINVAL);
	assert_int_equal(sf_ladder_add_event(l, 5, &other), SF_EINVAL);
	sf_ladder_free(l);
}

/* The server's SYN traced by its listener (another id), the rest by the
 * child connection: the default choice draws them as one connection, and
 * the listener's passive open is the initial LISTEN. */
static void test_listener_traced_syn(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_STATE;
	ev.conn_id = 100;
	ev.u.state.from = SF_CLOSED;
	ev.u.state.to = SF_LISTEN;
	ev.u.state.cause = SF_CAUSE_APP_LISTEN;
	put(l, 1, &ev);
	state(l, 0, 0, SF_CLOSED, SF_SYN_SENT, SF_CAUSE_APP_CONNECT);
	sf_event_t syn = seg_event(SF_EV_SEG_TX, 0, CLI_CONN, 0, F_SYN, CLI_ISN, 0, 64240, 0);
	put(l, 0, &syn);
	syn.kind = SF_EV_SEG_RX;
	syn.now_us = 1000;
	syn.conn_id = 100; /* the listener */
	put(l, 1, &syn);
	state(l, 1, 1000, SF_LISTEN, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN); /* the child, id 2 */
	seg(l, 1, 1000, 2000, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 65535, 0);
	state(l, 0, 2000, SF_SYN_SENT, SF_ESTABLISHED, SF_CAUSE_RCV_SYNACK);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 0, "CLOSED SYN-SENT ESTABLISHED ESTABLISHED");
	assert_column(en, 1, "LISTEN SYN-RECEIVED SYN-RECEIVED");
	assert_line_has(en, "SYN seq=0", "SYN-SENT |---- SYN seq=0", "->| SYN-RECEIVED", NULL);
	assert_int_equal(sf_ladder_lost_count(l), 0);
	free(en);
	sf_ladder_free(l);
}

/* A segment the receiver dropped is drawn to the receiver with the
 * reason; a timer on the right side is a note on the right. */
static void test_drop_and_right_note(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	sf_event_t tx = seg_event(SF_EV_SEG_TX, 4000, CLI_CONN, 0, F_PSH | F_ACK, CLI_ISN + 1,
	                          SRV_ISN + 1, 502, 10);
	assert_int_equal(sf_ladder_add_event(l, 0, &tx), 0);
	sf_event_t dr =
	        seg_event(SF_EV_DROP, 5000, 0, 0, F_PSH | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 502, 10);
	dr.has_seg = true;
	dr.drop = SF_DROP_TCP_CHECKSUM;
	assert_int_equal(sf_ladder_add_event(l, 1, &dr), 0);
	timer(l, 1, 6000, SF_TIMER_KEEPALIVE, 2);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_line_has(en, "dropped:", "len=10 (dropped: ", "->|", NULL);
	assert_line_has(en, "keepalive timer (#2)", "keepalive timer (#2) * |", NULL);
	assert_int_equal(sf_ladder_lost_count(l), 0);
	assert_aligned(en);
	free(en);
	sf_ladder_free(l);
}

/* The state boxes of one side of an SVG ladder, top to bottom (by y; no
 * two at the same height), compared with `expect`. */
static void assert_svg_column(const char *svg, int side, const char *expect)
{
	int xl = -1, xr = -1;
	const char *p = strstr(svg, "<line class=\"lifeline\" x1=\"");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "<line class=\"lifeline\" x1=\"%d\"", &xl), 1);
	p = strstr(p + 1, "<line class=\"lifeline\" x1=\"");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "<line class=\"lifeline\" x1=\"%d\"", &xr), 1);
	struct {
		int y;
		char name[32];
	} box[64];
	size_t n = 0;
	for (p = strstr(svg, "<text x=\""); p != NULL; p = strstr(p + 1, "<text x=\"")) {
		int x, y;
		char name[32];
		if (sscanf(p,
		           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"state\" "
		           "fill=\"#1d3557\">%31[^<]",
		           &x, &y, name) != 3)
			continue;
		if ((side == 0) != (x < xl) || (side == 1) != (x > xr))
			continue;
		assert_true(n < 64);
		/* Insertion by y, stable. */
		size_t k = n++;
		while (k > 0 && box[k - 1].y > y) {
			box[k] = box[k - 1];
			k--;
		}
		box[k].y = y;
		snprintf(box[k].name, sizeof box[k].name, "%s", name);
	}
	char got[512] = "";
	size_t len = 0;
	for (size_t k = 0; k < n; k++) {
		if (k > 0 && box[k].y == box[k - 1].y) {
			print_error("side %d: two state boxes at y=%d\n", side, box[k].y);
			fail();
		}
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", k ? " " : "",
		                        box[k].name);
	}
	if (strcmp(got, expect) != 0) {
		print_error("side %d SVG boxes:\n  got    %s\n  expect %s\n", side, got, expect);
		fail();
	}
}

/* One traced segment event of connection `conn` on `side`, sent by `from`. */
static void put_seg(sf_ladder_t *l, int side, sf_event_kind_t kind, uint32_t conn, int64_t t_us,
                    int from, uint8_t flags, uint32_t seq, uint32_t ack)
{
	sf_event_t ev = seg_event(kind, t_us, conn, from, flags, seq, ack, 1000, 0);
	put(l, side, &ev);
}

static void put_state(sf_ladder_t *l, int side, uint32_t conn, int64_t t_us, sf_state_t from,
                      sf_state_t to, sf_cause_t cause)
{
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_STATE;
	ev.now_us = t_us;
	ev.conn_id = conn;
	ev.u.state.from = from;
	ev.u.state.to = to;
	ev.u.state.cause = cause;
	put(l, side, &ev);
}

/* What side s of a crossing exchange does at one instant: its own events
 * only, in its own order. `first` picks which side's events are added
 * first at each instant (the order the two sinks saw them in). */
typedef void (*step_fn)(sf_ladder_t *l, int side, int step);

static void run_crossing(sf_ladder_t *l, step_fn fn, int steps, int first)
{
	for (int k = 0; k < steps; k++) {
		fn(l, first, k);
		fn(l, 1 - first, k);
	}
}

/* RFC 9293 §3.6 Figure 13: both ends close at the same instant, their
 * FINs cross (1 ms one way). Each side goes ESTABLISHED -> FIN-WAIT-1 ->
 * CLOSING -> TIME-WAIT. */
static void crossing_fins(sf_ladder_t *l, int s, int step)
{
	uint32_t mine = s == 0 ? CLI_ISN : SRV_ISN, peer = s == 0 ? SRV_ISN : CLI_ISN;
	int64_t t = 10000 + step * 1000;
	switch (step) {
	case 0:
		put_state(l, s, conn_of(s), t, SF_ESTABLISHED, SF_FIN_WAIT_1, SF_CAUSE_APP_CLOSE);
		put_seg(l, s, SF_EV_SEG_TX, conn_of(s), t, s, F_FIN | F_ACK, mine + 1, peer + 1);
		break;
	case 1:
		put_seg(l, s, SF_EV_SEG_RX, conn_of(s), t, 1 - s, F_FIN | F_ACK, peer + 1,
		        mine + 1);
		put_state(l, s, conn_of(s), t, SF_FIN_WAIT_1, SF_CLOSING, SF_CAUSE_RCV_FIN);
		put_seg(l, s, SF_EV_SEG_TX, conn_of(s), t, s, F_ACK, mine + 2, peer + 2);
		break;
	default:
		put_seg(l, s, SF_EV_SEG_RX, conn_of(s), t, 1 - s, F_ACK, peer + 2, mine + 2);
		put_state(l, s, conn_of(s), t, SF_CLOSING, SF_TIME_WAIT, SF_CAUSE_RCV_ACK);
		break;
	}
}

static void test_crossing_fins(void **state_)
{
	(void)state_;
	for (int first = 0; first < 2; first++) {
		sf_ladder_t *l = sf_ladder_new();
		add_handshake(l);
		run_crossing(l, crossing_fins, 3, first);
		char *en = render_lang(l, SF_LADDER_LANG_EN);
		/* Each column in the order its side changed state, whichever
		 * side's FIN sorts first. */
		assert_column(en, 0,
		              "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT TIME-WAIT");
		assert_column(en, 1,
		              "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT "
		              "TIME-WAIT");
		/* A side enters FIN-WAIT-1 on the row of its own FIN. */
		assert_line_has(en, "|---- FIN+ACK seq=1 ack=1", "FIN-WAIT-1 |---- FIN+ACK", NULL);
		assert_line_has(en, "<--- FIN+ACK seq=1 ack=1", "-| FIN-WAIT-1", NULL);
		assert_int_equal(sf_ladder_seg_count(l), 7);
		assert_int_equal(sf_ladder_lost_count(l), 0);
		assert_int_equal(sf_ladder_final_state(l, 0), SF_TIME_WAIT);
		assert_int_equal(sf_ladder_final_state(l, 1), SF_TIME_WAIT);
		assert_aligned(en);
		assert_no_trailing_blanks(en);
		char *again = render_lang(l, SF_LADDER_LANG_EN);
		assert_string_equal(again, en);
		char *svg = render(l, NULL, true);
		assert_svg_column(svg, 0,
		                  "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT "
		                  "TIME-WAIT");
		assert_svg_column(svg, 1,
		                  "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT "
		                  "TIME-WAIT");
		free(svg);
		char *zh = render_lang(l, SF_LADDER_LANG_ZH);
		assert_column(zh, 1,
		              "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT "
		              "TIME-WAIT");
		free(zh);
		free(again);
		free(en);
		sf_ladder_free(l);
	}
}

/* RFC 9293 §3.5 Figure 8: both ends open at the same instant, their SYNs
 * cross. Each side goes CLOSED -> SYN-SENT -> SYN-RECEIVED -> ESTABLISHED. */
static void crossing_syns(sf_ladder_t *l, int s, int step)
{
	uint32_t mine = s == 0 ? CLI_ISN : SRV_ISN, peer = s == 0 ? SRV_ISN : CLI_ISN;
	int64_t t = step * 1000;
	switch (step) {
	case 0:
		put_state(l, s, conn_of(s), t, SF_CLOSED, SF_SYN_SENT, SF_CAUSE_APP_CONNECT);
		put_seg(l, s, SF_EV_SEG_TX, conn_of(s), t, s, F_SYN, mine, 0);
		break;
	case 1:
		put_seg(l, s, SF_EV_SEG_RX, conn_of(s), t, 1 - s, F_SYN, peer, 0);
		put_state(l, s, conn_of(s), t, SF_SYN_SENT, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN);
		put_seg(l, s, SF_EV_SEG_TX, conn_of(s), t, s, F_SYN | F_ACK, mine, peer + 1);
		break;
	default:
		put_seg(l, s, SF_EV_SEG_RX, conn_of(s), t, 1 - s, F_SYN | F_ACK, peer, mine + 1);
		put_state(l, s, conn_of(s), t, SF_SYN_RECEIVED, SF_ESTABLISHED,
		          SF_CAUSE_RCV_SYNACK);
		break;
	}
}

static void test_crossing_syns(void **state_)
{
	(void)state_;
	for (int first = 0; first < 2; first++) {
		sf_ladder_t *l = sf_ladder_new();
		run_crossing(l, crossing_syns, 3, first);
		char *en = render_lang(l, SF_LADDER_LANG_EN);
		for (int s = 0; s < 2; s++)
			assert_column(en, s,
			              "CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED ESTABLISHED");
		/* Each SYN,ACK answers the peer's SYN: no retransmission. */
		assert_null(strstr(en, "(retransmission"));
		assert_int_equal(sf_ladder_seg_count(l), 4);
		assert_int_equal(sf_ladder_lost_count(l), 0);
		assert_aligned(en);
		/* The SVG's boxes read the same, top to bottom. */
		char *svg = render(l, NULL, true);
		for (int s = 0; s < 2; s++)
			assert_svg_column(svg, s,
			                  "CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED ESTABLISHED");
		free(svg);
		free(en);
		sf_ladder_free(l);
	}
}

/* RFC 6191, RFC 9293 §3.6.1: a SYN that reopens a TIME-WAIT. The engine
 * traces the old connection TIME-WAIT -> CLOSED (cause reuse) and the new
 * one LISTEN -> SYN-RECEIVED at the same instant; the new connection's
 * diagram starts in TIME-WAIT on that side. A plain listener's child
 * (LISTEN -> SYN-RECEIVED) starts in LISTEN. */
static void add_reopened(sf_ladder_t *l, uint16_t old_cport, bool reuse)
{
	/* The server's old connection (id 2) on the same 4-tuple ends in
	 * TIME-WAIT. */
	sf_event_t fin = seg_event(SF_EV_SEG_RX, 1000, 2, 0, F_FIN | F_ACK, CLI_ISN + 1,
	                           SRV_ISN + 1, 1000, 0);
	fin.u.seg.tcp.sport = old_cport;
	put(l, 1, &fin);
	put_state(l, 1, 2, 1000, SF_FIN_WAIT_2, SF_TIME_WAIT, SF_CAUSE_RCV_FIN);
	/* The client's new connection (id 7). */
	put_state(l, 0, 7, 4000, SF_CLOSED, SF_SYN_SENT, SF_CAUSE_APP_CONNECT);
	put_seg(l, 0, SF_EV_SEG_TX, 7, 4000, 0, F_SYN, CLI_ISN + 100000, 0);
	if (reuse)
		put_state(l, 1, 2, 5000, SF_TIME_WAIT, SF_CLOSED, SF_CAUSE_REUSE);
	put_seg(l, 1, SF_EV_SEG_RX, 3, 5000, 0, F_SYN, CLI_ISN + 100000, 0);
	put_state(l, 1, 3, 5000, SF_LISTEN, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN);
	put_seg(l, 1, SF_EV_SEG_TX, 3, 5000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 100001);
	put_seg(l, 0, SF_EV_SEG_RX, 7, 6000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 100001);
	put_state(l, 0, 7, 6000, SF_SYN_SENT, SF_ESTABLISHED, SF_CAUSE_RCV_SYNACK);
	assert_int_equal(sf_ladder_set_conn(l, 0, 7), 0);
	assert_int_equal(sf_ladder_set_conn(l, 1, 3), 0);
}

static void test_reopened_time_wait(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_reopened(l, CLI_PORT, true);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 1, "TIME-WAIT SYN-RECEIVED SYN-RECEIVED");
	assert_column(en, 0, "CLOSED SYN-SENT ESTABLISHED ESTABLISHED");
	assert_int_equal(sf_ladder_seg_count(l), 2);
	free(en);
	sf_ladder_free(l);

	/* No reuse: the child of a listener starts in LISTEN. */
	l = sf_ladder_new();
	add_reopened(l, CLI_PORT, false);
	en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 1, "LISTEN SYN-RECEIVED SYN-RECEIVED");
	free(en);
	sf_ladder_free(l);

	/* A TIME-WAIT of another 4-tuple reopened at the same instant is not
	 * this connection's past. */
	l = sf_ladder_new();
	add_reopened(l, CLI_PORT + 1, true);
	en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 1, "LISTEN SYN-RECEIVED SYN-RECEIVED");
	free(en);
	sf_ladder_free(l);
}

static void test_svg(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	add_handshake(l);
	add_data(l);
	add_close(l);
	sf_ladder_opts_t zh = {.lang = SF_LADDER_LANG_ZH};
	char *en_svg = render(l, NULL, true), *zh_svg = render(l, &zh, true);
	assert_true(strncmp(en_svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
	assert_int_equal(count(en_svg, "marker-end=\"url(#head)\""), 11);
	assert_int_equal(count(en_svg, "class=\"lifeline\""), 2);
	/* Text is escaped: the title's "<->" never appears raw. */
	assert_non_null(strstr(en_svg, "client 192.0.2.1:40000 &lt;-&gt; server"));
	assert_null(strstr(en_svg, "<->"));
	assert_non_null(strstr(en_svg, ">FIN+ACK seq=101 ack=201 win=501</text>"));
	assert_non_null(strstr(en_svg, ">TIME-WAIT</text>"));
	assert_non_null(strstr(zh_svg, ">三次握手</text>"));
	assert_non_null(strstr(zh_svg, ">四次挥手</text>"));
	assert_non_null(strstr(zh_svg, ">客户端</text>"));
	/* Arrows slope down: the SYN leaves at one row and lands lower. */
	const char *syn = strstr(en_svg, "<line class=\"seg\"");
	assert_non_null(syn);
	int x1, y1, x2, y2;
	assert_int_equal(sscanf(syn, "<line class=\"seg\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"",
	                        &x1, &y1, &x2, &y2),
	                 4);
	assert_true(x2 > x1);
	assert_true(y2 > y1);
	assert_true(strcmp(en_svg + strlen(en_svg) - 7, "</svg>\n") == 0);
	if (have_xmllint()) {
		assert_int_equal(xmllint(en_svg), 0);
		assert_int_equal(xmllint(zh_svg), 0);
	} else {
		print_message("xmllint not installed: well-formedness not checked\n");
	}
	char *again = render(l, &zh, true);
	assert_string_equal(again, zh_svg);
	free(en_svg);
	free(zh_svg);
	free(again);
	sf_ladder_free(l);
}

static void test_display_width(void **state_)
{
	(void)state_;
	assert_int_equal(sf_ladder_display_width(""), 0);
	assert_int_equal(sf_ladder_display_width("SYN-SENT"), 8);
	assert_int_equal(sf_ladder_display_width("三次握手"), 8);
	assert_int_equal(sf_ladder_display_width("客户端 a"), 8);
	assert_int_equal(sf_ladder_display_width("（丢失）"), 8);
	assert_int_equal(sf_ladder_display_width("e\xcc\x81"), 1); /* e + combining acute */
	assert_int_equal(sf_ladder_display_width("\xff"
	                                         "a"),
	                 2);                                      /* invalid byte counts 1 */
	assert_int_equal(sf_ladder_display_width("\xe4\xb8"), 2); /* cut sequence: 1 + 1 */
}

static void test_bad_arguments(void **state_)
{
	(void)state_;
	sf_ladder_t *l = sf_ladder_new();
	assert_int_equal(sf_ladder_render_text(NULL, NULL, stdout), SF_EINVAL);
	assert_int_equal(sf_ladder_render_svg(l, NULL, NULL), SF_EINVAL);
	assert_int_equal(sf_ladder_add_event(l, 0, NULL), SF_EINVAL);
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_COUNT;
	assert_int_equal(sf_ladder_add_event(l, 0, &ev), SF_EINVAL);
	ev.kind = SF_EV_CONN_NEW;
	assert_int_equal(sf_ladder_add_event(l, 0, &ev), 0); /* accepted, not drawn */
	/* An empty ladder still renders both ends and the final line. */
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_in_order(en, "TCP ladder: client <-> server", "CLOSED |", "end", NULL);
	free(en);
	sf_ladder_free(l);
	sf_ladder_free(NULL);
	sf_capture_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_handshake_text_exact),
	        cmocka_unit_test(test_sequence_modes),
	        cmocka_unit_test(test_full_connection),
	        cmocka_unit_test(test_streams_added_separately),
	        cmocka_unit_test(test_lost_and_retransmitted),
	        cmocka_unit_test(test_live_one_side),
	        cmocka_unit_test(test_collapse),
	        cmocka_unit_test(test_reset),
	        cmocka_unit_test(test_conn_selection),
	        cmocka_unit_test(test_listener_traced_syn),
	        cmocka_unit_test(test_drop_and_right_note),
	        cmocka_unit_test(test_crossing_fins),
	        cmocka_unit_test(test_crossing_syns),
	        cmocka_unit_test(test_reopened_time_wait),
	        cmocka_unit_test(test_slow_path_copies),
	        cmocka_unit_test(test_svg),
	        cmocka_unit_test(test_display_width),
	        cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
