/* Unit tests of ladders drawn from captures (sf_capture_*, sf_ladder_from_capture).
 *
 * These write pcap files with libpcap, from segments built with the wire
 * codecs, and check the states the capture reader infers: a full
 * connection, a simultaneous close, two connections and --conn selection, a
 * connection picked up mid-stream, link types, offloaded checksums,
 * snap-length cuts, and the errors for a file that is not a capture and a
 * capture without TCP. The helpers that render and check a ladder are
 * tests/support/ladderfx.c, shared with test_ladder.c.
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

/* ---- captures ---- */

struct pk {
	int64_t t_us;
	int from; /* 0 client, 1 server */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t len;
	uint16_t cport; /* client port, 0 = CLI_PORT */
	bool bad_csum;  /* as captured on the sending host: offloaded */
	size_t snap;    /* capture only this many bytes of the frame, 0 = all */
};

/* Writes the packets as a capture with link type `dlt`. */
static void write_capture(const char *path, int dlt, const struct pk *p, size_t n)
{
	pcap_t *pd = pcap_open_dead(dlt, 65535);
	assert_non_null(pd);
	pcap_dumper_t *d = pcap_dump_open(pd, path);
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		static uint8_t frame[66000], payload[65536]; /* super-segments too */
		size_t off = dlt == DLT_EN10MB ? 14 : dlt == DLT_LINUX_SLL2 ? 20 : 0;
		memset(frame, 0, off);
		if (dlt == DLT_EN10MB) {
			memcpy(frame, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
			sf_put16(frame + 12, 0x0800);
		} else if (dlt == DLT_LINUX_SLL2) {
			sf_put16(frame, 0x0800);
		}
		uint16_t cport = p[i].cport ? p[i].cport : CLI_PORT;
		sf_tcp_t t;
		memset(&t, 0, sizeof t);
		t.sport = p[i].from == 0 ? cport : SRV_PORT;
		t.dport = p[i].from == 0 ? SRV_PORT : cport;
		t.seq = p[i].seq;
		t.ack = p[i].ack;
		t.flags = p[i].flags;
		t.wnd = 1000;
		if (p[i].flags & F_SYN) {
			t.opt.has_mss = true;
			t.opt.mss = 1460;
		}
		uint32_t src = p[i].from == 0 ? CLI_ADDR : SRV_ADDR;
		uint32_t dst = p[i].from == 0 ? SRV_ADDR : CLI_ADDR;
		memset(payload, 'a', p[i].len);
		int tl = sf_tcp_emit(&t, src, dst, payload, p[i].len, frame + off + 20,
		                     sizeof frame - off - 20);
		assert_true(tl > 0);
		if (p[i].bad_csum)
			sf_put16(frame + off + 20 + 16, 0);
		sf_ipv4_t ip;
		memset(&ip, 0, sizeof ip);
		ip.src = src;
		ip.dst = dst;
		ip.proto = SF_IP_PROTO_TCP;
		ip.ttl = 64;
		ip.df = true;
		assert_int_equal(sf_ipv4_emit(&ip, (size_t)tl, frame + off, 20), 20);
		struct pcap_pkthdr h;
		memset(&h, 0, sizeof h);
		h.ts.tv_sec = 1700000000 + p[i].t_us / 1000000;
		h.ts.tv_usec = (suseconds_t)(p[i].t_us % 1000000);
		h.len = (bpf_u_int32)(off + 20 + (size_t)tl);
		h.caplen = p[i].snap ? (bpf_u_int32)p[i].snap : h.len;
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(pd);
}

static char *temp_path(void)
{
	char *path = strdup("/tmp/sf_ladder_cap_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

/* A whole connection as a capture shows it: handshake, 100 bytes each
 * way, the client closes first. */
static const struct pk full_conn[] = {
        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
        {1000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, true, 0},
        {2000, 0, F_ACK, CLI_ISN + 1, SRV_ISN + 1, 0, 0, false, 0},
        {3000, 0, F_PSH | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 100, 0, true, 14 + 40},
        {4000, 1, F_ACK, SRV_ISN + 1, CLI_ISN + 101, 0, 0, false, 0},
        {5000, 1, F_PSH | F_ACK, SRV_ISN + 1, CLI_ISN + 101, 100, 0, false, 0},
        {6000, 0, F_ACK, CLI_ISN + 101, SRV_ISN + 101, 0, 0, false, 0},
        {7000, 0, F_FIN | F_ACK, CLI_ISN + 101, SRV_ISN + 101, 0, 0, false, 0},
        {8000, 1, F_ACK, SRV_ISN + 101, CLI_ISN + 102, 0, 0, false, 0},
        {9000, 1, F_FIN | F_ACK, SRV_ISN + 101, CLI_ISN + 102, 0, 0, false, 0},
        {10000, 0, F_ACK, CLI_ISN + 102, SRV_ISN + 102, 0, 0, false, 0},
};

static sf_ladder_t *ladder_of(const char *path, size_t index)
{
	sf_capture_t *cap = NULL;
	assert_int_equal(sf_capture_open(path, &cap), 0);
	sf_ladder_t *l = NULL;
	assert_int_equal(sf_ladder_from_capture(cap, index, &l), 0);
	sf_capture_close(cap); /* the ladder does not need it any more */
	return l;
}

static void test_capture_full_connection(void **state_)
{
	(void)state_;
	char *path = temp_path();
	write_capture(path, DLT_EN10MB, full_conn, sizeof full_conn / sizeof full_conn[0]);

	sf_capture_t *cap = NULL;
	assert_int_equal(sf_capture_open(path, &cap), 0);
	assert_int_equal(sf_capture_conn_count(cap), 1);
	assert_int_equal(sf_capture_pkt_count(cap), 11);
	assert_int_equal(sf_capture_skipped_count(cap), 0);
	assert_false(sf_capture_truncated(cap));
	sf_capture_conn_t c;
	assert_int_equal(sf_capture_conn_get(cap, 0, &c), 0);
	assert_int_equal(c.addr[0], CLI_ADDR);
	assert_int_equal(c.port[0], CLI_PORT);
	assert_int_equal(c.port[1], SRV_PORT);
	assert_int_equal(c.pkt_cnt, 11);
	assert_int_equal(c.bytes[0], 100); /* from the IP length, despite the snap */
	assert_true(c.has_syn);
	char desc[128];
	sf_capture_conn_format(&c, desc, sizeof desc);
	assert_string_equal(desc, "192.0.2.1:40000 > 192.0.2.2:80, 11 segments, 100/100 bytes");
	sf_capture_close(cap);

	sf_ladder_t *l = ladder_of(path, 0);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 0,
	              "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT TIME-WAIT");
	assert_column(en, 1, "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED CLOSED");
	assert_in_order(en, "three-way handshake", "SYN seq=0 win=1000 mss=1460",
	                "SYN+ACK seq=0 ack=1", "data transfer",
	                "PSH+ACK seq=1 ack=1 win=1000 len=100", "four-way close",
	                "FIN+ACK seq=101 ack=101", NULL);
	/* Each change on the row of the segment that caused it. */
	assert_line_has(en, "SYN+ACK", "ESTABLISHED |<---", "-| SYN-RECEIVED", NULL);
	assert_line_has(en, "FIN+ACK seq=101 ack=102", "TIME-WAIT |<---", "| LAST-ACK", NULL);
	char *synack = line_with(en, "SYN+ACK");
	assert_true(strncmp(synack + strspn(synack, " "), "1.000 ", 6) == 0);
	free(synack);
	/* Both ends' states come from the one inference: marked so. */
	assert_non_null(strstr(en, "client (inferred)"));
	assert_non_null(strstr(en, "server (inferred)"));
	assert_aligned(en);
	char *zh = render_lang(l, SF_LADDER_LANG_ZH);
	assert_in_order(zh, "三次握手", "数据传输", "四次挥手", NULL);
	assert_aligned(zh);
	assert_int_equal(sf_ladder_final_state(l, 0), SF_TIME_WAIT);
	assert_int_equal(sf_ladder_final_state(l, 1), SF_CLOSED);
	assert_int_equal(sf_ladder_set_conn(l, 0, 1), SF_EINVAL);
	char *svg = render(l, NULL, true);
	if (have_xmllint())
		assert_int_equal(xmllint(svg), 0);
	free(svg);
	free(en);
	free(zh);
	sf_ladder_free(l);
	unlink(path);
	free(path);
}

static void test_capture_simultaneous_close(void **state_)
{
	(void)state_;
	static const struct pk p[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
	        {2000, 0, F_ACK, CLI_ISN + 1, SRV_ISN + 1, 0, 0, false, 0},
	        /* Both FINs cross: neither acknowledges the other's. */
	        {3000, 0, F_FIN | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 0, 0, false, 0},
	        {3100, 1, F_FIN | F_ACK, SRV_ISN + 1, CLI_ISN + 1, 0, 0, false, 0},
	        {4000, 0, F_ACK, CLI_ISN + 2, SRV_ISN + 2, 0, 0, false, 0},
	        {4100, 1, F_ACK, SRV_ISN + 2, CLI_ISN + 2, 0, 0, false, 0},
	};
	char *path = temp_path();
	write_capture(path, DLT_RAW, p, sizeof p / sizeof p[0]);
	sf_ladder_t *l = ladder_of(path, 0);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 0, "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT TIME-WAIT");
	assert_column(en, 1,
	              "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT "
	              "TIME-WAIT");
	assert_null(strstr(en, "CLOSE-WAIT"));
	assert_aligned(en);
	free(en);
	sf_ladder_free(l);
	unlink(path);
	free(path);
}

static void test_capture_two_connections(void **state_)
{
	(void)state_;
	/* Two connections interleaved (Linux cooked v2), plus a reset. */
	static const struct pk p[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {100, 0, F_SYN, 9000, 0, 0, 41000, false, 0},
	        {1000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
	        {1100, 1, F_RST | F_ACK, 0, 9001, 0, 41000, false, 0},
	        {2000, 0, F_ACK, CLI_ISN + 1, SRV_ISN + 1, 0, 0, false, 0},
	};
	char *path = temp_path();
	write_capture(path, DLT_LINUX_SLL2, p, sizeof p / sizeof p[0]);
	sf_capture_t *cap = NULL;
	assert_int_equal(sf_capture_open(path, &cap), 0);
	assert_int_equal(sf_capture_conn_count(cap), 2);
	sf_capture_conn_t c;
	assert_int_equal(sf_capture_conn_get(cap, 1, &c), 0);
	assert_int_equal(c.port[0], 41000);
	assert_int_equal(c.pkt_cnt, 2);
	assert_int_equal(sf_capture_conn_get(cap, 2, &c), SF_EINVAL);
	sf_ladder_t *l = NULL;
	assert_int_equal(sf_ladder_from_capture(cap, 2, &l), SF_EINVAL);
	assert_null(l);

	assert_int_equal(sf_ladder_from_capture(cap, 1, &l), 0);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "client 192.0.2.1:41000 <-> server 192.0.2.2:80"));
	assert_in_order(en, "three-way handshake", "SYN seq=0", "= reset =", "RST+ACK", NULL);
	/* The refused client goes back to CLOSED; the server, answering the
	 * SYN with RST,ACK, had no listener: CLOSED throughout. */
	assert_column(en, 0, "CLOSED SYN-SENT CLOSED CLOSED");
	assert_column(en, 1, "CLOSED CLOSED");
	assert_int_equal(sf_ladder_seg_count(l), 2);
	free(en);
	sf_ladder_free(l);

	assert_int_equal(sf_ladder_from_capture(cap, 0, &l), 0);
	en = render_lang(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "client 192.0.2.1:40000"));
	assert_null(strstr(en, "RST"));
	assert_int_equal(sf_ladder_seg_count(l), 3);
	free(en);
	sf_ladder_free(l);
	sf_capture_close(cap);
	unlink(path);
	free(path);
}

/* The 4-tuple reused after the first connection ended: two connections. */
static void test_capture_tuple_reuse(void **state_)
{
	(void)state_;
	static const struct pk p[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1000, 1, F_RST | F_ACK, 0, CLI_ISN + 1, 0, 0, false, 0},
	        {2000, 0, F_SYN, CLI_ISN + 50000, 0, 0, 0, false, 0},
	        {3000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 50001, 0, 0, false, 0},
	};
	char *path = temp_path();
	write_capture(path, DLT_EN10MB, p, sizeof p / sizeof p[0]);
	sf_capture_t *cap = NULL;
	assert_int_equal(sf_capture_open(path, &cap), 0);
	assert_int_equal(sf_capture_conn_count(cap), 2);
	sf_capture_close(cap);
	unlink(path);
	free(path);
}

/* RFC 9293 §3.10.7.1: an end with no listener answers a SYN with
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. It is CLOSED, never LISTEN. */
/* A capture that starts mid-stream cannot tell the states before its first
 * segment: both ends start "?", and what the segments do tell follows. */
static void test_capture_mid_stream(void **state_)
{
	(void)state_;
	static const struct pk p[] = {
	        {0, 0, F_PSH | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 100, 0, false, 0},
	        {1000, 1, F_ACK, SRV_ISN + 1, CLI_ISN + 101, 0, 0, false, 0},
	        {2000, 0, F_FIN | F_ACK, CLI_ISN + 101, SRV_ISN + 1, 0, 0, false, 0},
	        {3000, 1, F_FIN | F_ACK, SRV_ISN + 1, CLI_ISN + 102, 0, 0, false, 0},
	        {4000, 0, F_ACK, CLI_ISN + 102, SRV_ISN + 2, 0, 0, false, 0},
	};
	char *path = temp_path();
	write_capture(path, DLT_RAW, p, sizeof p / sizeof p[0]);
	sf_ladder_t *l = ladder_of(path, 0);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_line_has(en, "? |", "| ?", NULL);
	assert_in_order(en, "FIN-WAIT-1", "TIME-WAIT", NULL);
	assert_in_order(en, "CLOSE-WAIT", "LAST-ACK", NULL);
	assert_int_equal(sf_ladder_final_state(l, 0), SF_TIME_WAIT);
	assert_int_equal(sf_ladder_final_state(l, 1), SF_CLOSED);
	free(en);
	sf_ladder_free(l);
	unlink(path);
	free(path);
}

static void test_capture_refused(void **state_)
{
	(void)state_;
	static const struct pk p[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1000, 1, F_RST | F_ACK, 0, CLI_ISN + 1, 0, 0, false, 0},
	};
	char *path = temp_path();
	write_capture(path, DLT_RAW, p, sizeof p / sizeof p[0]);
	sf_ladder_t *l = ladder_of(path, 0);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 0, "CLOSED SYN-SENT CLOSED CLOSED");
	assert_column(en, 1, "CLOSED CLOSED");
	assert_null(strstr(en, "LISTEN"));
	assert_int_equal(sf_ladder_final_state(l, 1), SF_CLOSED);
	free(en);
	sf_ladder_free(l);
	unlink(path);
	free(path);

	/* The kernel's own refusal, as captured (tests/data). */
	const char *src = getenv("SYNFIN_SRC");
	char kpath[1024];
	snprintf(kpath, sizeof kpath, "%s/tests/data/kernel-refused.pcap", src ? src : "../..");
	if (access(kpath, R_OK) != 0) {
		print_message("%s not found: skipped\n", kpath);
		return;
	}
	l = ladder_of(kpath, 0);
	en = render_lang(l, SF_LADDER_LANG_EN);
	assert_column(en, 0, "CLOSED SYN-SENT CLOSED CLOSED");
	assert_column(en, 1, "CLOSED CLOSED");
	free(en);
	sf_ladder_free(l);
}

/* A SYN nobody answered (no host at that address, a filter, a lost SYN):
 * the segments tell nothing of the other end, which is drawn "?" from
 * start to end; it was drawn a LISTEN server that never existed. A SYN,ACK
 * after the retransmission still makes it a listener. */
static void test_capture_unanswered_syn(void **state_)
{
	(void)state_;
	static const struct pk p[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1000000, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {3000000, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	};
	char *path = temp_path();
	write_capture(path, DLT_RAW, p, sizeof p / sizeof p[0]);
	sf_ladder_t *l = ladder_of(path, 0);
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_null(strstr(en, "LISTEN"));
	assert_int_equal(sf_ladder_final_state(l, 1), SF_STATE_COUNT);
	assert_int_equal(sf_ladder_final_state(l, 0), SF_SYN_SENT);
	free(en);
	sf_ladder_free(l);

	static const struct pk answered[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1000000, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1001000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
	};
	write_capture(path, DLT_RAW, answered, sizeof answered / sizeof answered[0]);
	l = ladder_of(path, 0);
	en = render_lang(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "LISTEN"));
	assert_int_equal(sf_ladder_final_state(l, 1), SF_SYN_RECEIVED);
	free(en);
	sf_ladder_free(l);
	unlink(path);
	free(path);
}

/* RFC 9293 §3.5 Figure 8 in a capture: a SYN answered by a SYN without ACK
 * is a simultaneous open. Both ends go CLOSED -> SYN-SENT -> SYN-RECEIVED
 * -> ESTABLISHED, wherever the capture was taken. */
static void test_capture_simultaneous_open(void **state_)
{
	(void)state_;
	/* Captured at the client: its SYN, then the server's (which left
	 * before the client's arrived), then the two SYN,ACKs. */
	static const struct pk at_client[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1000, 1, F_SYN, SRV_ISN, 0, 0, 0, false, 0},
	        {1000, 0, F_SYN | F_ACK, CLI_ISN, SRV_ISN + 1, 0, 0, false, 0},
	        {2000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
	        {3000, 0, F_PSH | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 10, 0, false, 0},
	};
	/* Captured between the two: both SYNs pass before either SYN,ACK;
	 * the server's SYN,ACK is sent again (a real retransmission). */
	static const struct pk between[] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {100, 1, F_SYN, SRV_ISN, 0, 0, 0, false, 0},
	        {1000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
	        {1100, 0, F_SYN | F_ACK, CLI_ISN, SRV_ISN + 1, 0, 0, false, 0},
	        {2000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
	};
	const struct pk *caps[] = {at_client, between};
	size_t lens[] = {sizeof at_client / sizeof at_client[0],
	                 sizeof between / sizeof between[0]};
	for (int k = 0; k < 2; k++) {
		char *path = temp_path();
		write_capture(path, DLT_RAW, caps[k], lens[k]);
		sf_ladder_t *l = ladder_of(path, 0);
		char *en = render_lang(l, SF_LADDER_LANG_EN);
		for (int s = 0; s < 2; s++)
			assert_column(en, s,
			              "CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED ESTABLISHED");
		assert_null(strstr(en, "LISTEN"));
		/* The first SYN,ACK of each side answers the peer's SYN; only
		 * the server's second one repeats it. */
		assert_int_equal(count(en, "(retransmission)"), k == 0 ? 0 : 1);
		if (k == 1) {
			assert_line_has(en, "(retransmission)", "2.000", NULL);
		}
		assert_int_equal(sf_ladder_final_state(l, 0), SF_ESTABLISHED);
		assert_int_equal(sf_ladder_final_state(l, 1), SF_ESTABLISHED);
		assert_aligned(en);
		free(en);
		sf_ladder_free(l);
		unlink(path);
		free(path);
	}
}

/* A capture of an offloading link (synfin serve --pcap over TUN) holds a
 * TSO/GRO super-segment as one packet: its row says how many wire
 * segments it stands for (the receiver's MSS, 1460, into its length), and
 * a collapsed run counts wire segments. */
static void test_capture_super_segment(void **state_)
{
	(void)state_;
	char *path = temp_path();
	struct pk p[40] = {
	        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
	        {1000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
	        {2000, 0, F_ACK, CLI_ISN + 1, SRV_ISN + 1, 0, 0, false, 0},
	        {3000, 1, F_ACK, SRV_ISN + 1, CLI_ISN + 1, 5840, 0, false, 0},    /* 4 x 1460 */
	        {4000, 1, F_ACK, SRV_ISN + 5841, CLI_ISN + 1, 1460, 0, false, 0}, /* one */
	        {5000, 0, F_ACK, CLI_ISN + 1, SRV_ISN + 7301, 0, 0, false, 0},
	};
	size_t n = 6;
	uint32_t seq = SRV_ISN + 7301;
	for (int i = 0; i < 30; i++) { /* a long run: collapsed */
		p[n++] =
		        (struct pk){6000 + 2000 * i, 1, F_ACK, seq, CLI_ISN + 1, 4380, 0, false, 0};
		seq += 4380;
	}
	write_capture(path, DLT_EN10MB, p, n);
	sf_ladder_t *l = ladder_of(path, 0);
	sf_ladder_opts_t o = {.lang = SF_LADDER_LANG_EN, .full = true};
	char *full = render(l, &o, false);
	assert_line_has(full, "len=5840", "(4 segments in one)", NULL);
	char *one = line_with(full, "len=1460");
	assert_null(strstr(one, "segments in one"));
	free(one);
	assert_int_equal(count(full, "(3 segments in one)"), 30);
	o.lang = SF_LADDER_LANG_ZH;
	char *zh = render(l, &o, false);
	assert_line_has(zh, "len=5840", "（4 个报文段合一）", NULL);
	/* Collapsed: 30 super-segments are 90 data segments on the wire. */
	char *en = render_lang(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, " data ("));
	char *run = line_with(en, "…");
	assert_non_null(run);
	unsigned segs = 0, data = 0;
	assert_int_equal(sscanf(strstr(run, "…"), "… %u segments: %u data", &segs, &data), 2);
	assert_true(data > 30 && data % 3 == 0);
	free(run);
	free(full);
	free(zh);
	free(en);
	sf_ladder_free(l);
	unlink(path);
	free(path);
}

/* The ladder's --explain text in lang (malloc'd). */
static char *explain_of(sf_ladder_t *l, sf_ladder_lang_t lang)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	sf_ladder_opts_t o = {.lang = lang};
	assert_int_equal(sf_ladder_render_explain(l, &o, f), 0);
	fclose(f);
	return buf;
}

static const struct pk three_close[] = {
        {0, 0, F_SYN, CLI_ISN, 0, 0, 0, false, 0},
        {1000, 1, F_SYN | F_ACK, SRV_ISN, CLI_ISN + 1, 0, 0, false, 0},
        {2000, 0, F_ACK, CLI_ISN + 1, SRV_ISN + 1, 0, 0, false, 0},
        {3000, 0, F_FIN | F_ACK, CLI_ISN + 1, SRV_ISN + 1, 0, 0, false, 0},
        {4000, 1, F_FIN | F_ACK, SRV_ISN + 1, CLI_ISN + 2, 0, 0, false, 0},
        {5000, 0, F_ACK, CLI_ISN + 2, SRV_ISN + 2, 0, 0, false, 0},
};

/* --explain on a capture, for both kinds of close: four segments
 * (full_conn: the server ACKs the client's FIN, then sends its own), and
 * three, where the server's FIN carries the ACK of the client's (the
 * "four-way close" drawn with three arrows that issue 15 found unexplained). */
static void test_capture_explain_close(void **state_)
{
	(void)state_;
	char *path = temp_path();
	write_capture(path, DLT_EN10MB, three_close, sizeof three_close / sizeof three_close[0]);
	sf_ladder_t *l = ladder_of(path, 0);
	char *en = explain_of(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "the close took three segments, not four"));
	assert_null(strstr(en, "took four segments"));
	char *zh = explain_of(l, SF_LADDER_LANG_ZH);
	assert_non_null(strstr(zh, "这次关闭用了三个报文段而不是四个"));
	free(en);
	free(zh);
	sf_ladder_free(l);
	write_capture(path, DLT_EN10MB, full_conn, sizeof full_conn / sizeof full_conn[0]);
	l = ladder_of(path, 0);
	en = explain_of(l, SF_LADDER_LANG_EN);
	assert_non_null(strstr(en, "the close took four segments"));
	assert_null(strstr(en, "three segments, not four"));
	free(en);
	sf_ladder_free(l);
	unlink(path);
	free(path);
}

static void test_capture_errors(void **state_)
{
	(void)state_;
	sf_capture_t *cap = (sf_capture_t *)&cap;
	/* Not a capture. */
	char *path = temp_path();
	FILE *f = fopen(path, "w");
	fputs("GET / HTTP/1.1\r\nHost: example\r\n\r\n", f);
	fclose(f);
	assert_int_equal(sf_capture_open(path, &cap), SF_EMALFORMED);
	assert_null(cap);
	assert_non_null(strstr(sf_ladder_strerror(SF_EMALFORMED), "not a pcap"));
	/* No such file. */
	assert_int_equal(sf_capture_open("/nonexistent/dir/x.pcap", &cap), SF_EINVAL);
	assert_int_equal(sf_capture_open(NULL, &cap), SF_EINVAL);

	/* A capture without TCP over IPv4: one UDP datagram, one IPv6 frame,
	 * one TCP segment over IPv6 (counted apart: the CLI says why it shows
	 * nothing, rather than "no TCP"). */
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(pd, path);
	uint8_t frame[128];
	memset(frame, 0, sizeof frame);
	sf_put16(frame + 12, 0x0800);
	sf_ipv4_t ip;
	memset(&ip, 0, sizeof ip);
	ip.src = CLI_ADDR;
	ip.dst = SRV_ADDR;
	ip.proto = 17;
	ip.ttl = 64;
	assert_int_equal(sf_ipv4_emit(&ip, 8, frame + 14, 20), 20);
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof h);
	h.caplen = h.len = 14 + 28;
	pcap_dump((u_char *)d, &h, frame);
	sf_put16(frame + 12, 0x86dd);
	pcap_dump((u_char *)d, &h, frame);
	memset(frame + 14, 0, 60);
	frame[14] = 0x60;  /* version 6 */
	frame[14 + 6] = 6; /* next header: TCP */
	h.caplen = h.len = 14 + 40 + 20;
	pcap_dump((u_char *)d, &h, frame);
	pcap_dump_close(d);
	pcap_close(pd);
	assert_int_equal(sf_capture_open(path, &cap), 0);
	assert_int_equal(sf_capture_conn_count(cap), 0);
	assert_int_equal(sf_capture_pkt_count(cap), 3);
	assert_int_equal(sf_capture_skipped_count(cap), 3);
	assert_int_equal(sf_capture_ipv6_tcp_count(cap), 1); /* not the IPv6 frame without TCP */
	sf_ladder_t *l = (sf_ladder_t *)&l;
	assert_int_equal(sf_ladder_from_capture(cap, 0, &l), SF_ENOTCONN);
	assert_null(l);
	assert_string_equal(sf_ladder_strerror(SF_ENOTCONN), "no TCP connection in capture");
	sf_capture_close(cap);

	/* An unsupported link type. */
	pd = pcap_open_dead(DLT_IEEE802_11, 65535);
	d = pcap_dump_open(pd, path);
	pcap_dump_close(d);
	pcap_close(pd);
	assert_int_equal(sf_capture_open(path, &cap), SF_ENOTSUP);

	/* A capture cut in the middle of a record keeps what came before. */
	write_capture(path, DLT_EN10MB, full_conn, 3);
	f = fopen(path, "r+");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	assert_int_equal(truncate(path, size - 10), 0);
	assert_int_equal(sf_capture_open(path, &cap), 0);
	assert_true(sf_capture_truncated(cap));
	assert_int_equal(sf_capture_conn_count(cap), 1);
	sf_capture_conn_get(cap, 0, &(sf_capture_conn_t){0});
	sf_capture_close(cap);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_capture_mid_stream),
	        cmocka_unit_test(test_capture_full_connection),
	        cmocka_unit_test(test_capture_simultaneous_close),
	        cmocka_unit_test(test_capture_two_connections),
	        cmocka_unit_test(test_capture_tuple_reuse),
	        cmocka_unit_test(test_capture_refused),
	        cmocka_unit_test(test_capture_unanswered_syn),
	        cmocka_unit_test(test_capture_simultaneous_open),
	        cmocka_unit_test(test_capture_super_segment),
	        cmocka_unit_test(test_capture_explain_close),
	        cmocka_unit_test(test_capture_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
