/* Decodes real Linux kernel captures (tests/data/kernel-*.pcap, made by
 * tests/data/make-captures.sh) with the wire parsers.
 *
 * The captures are of the kernel's own TCP and ICMP between two network
 * namespaces over veth, with checksum offload off, so every packet carries
 * a correct checksum and is parsed with verify=true. The tests check that
 * every packet parses and that the conversation reads as RFC 9293 says it
 * should: SYN, SYN-ACK, ACK with the SYN's options; contiguous sequence
 * numbers; the FIN/ACK exchange in the right order for the side that closes
 * first; RST+ACK for a closed port; ICMP echo, fragments and port-unreachable
 * with its quote. The data directory is $SYNFIN_SRC/tests/data (set by CTest);
 * without it, ../data from the working directory (tests/unit).
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

#include "synfin/wire.h"

#define MAX_PKTS 64
#define CLIENT   0xC0000201u /* 192.0.2.1, the namespace that runs curl/ping */
#define SERVER   0xC0000202u /* 192.0.2.2 */

typedef struct pkt {
	uint8_t data[4096]; /* the IPv4 datagram, link header removed */
	size_t len;
	sf_ipv4_t ip;
	sf_tcp_t tcp;   /* when ip.proto is TCP and not a fragment */
	sf_icmp_t icmp; /* when ip.proto is ICMP and not a fragment */
	int l4_rc;      /* result of the TCP/ICMP parse; 1 when not attempted */
} pkt_t;

typedef struct capture {
	pkt_t pkt[MAX_PKTS];
	size_t cnt;
	int linktype;
} capture_t;

static capture_t cap; /* large: static, reused by each test */

static void data_path(char *buf, size_t cap_len, const char *name)
{
	const char *src = getenv("SYNFIN_SRC");
	if (src && *src)
		snprintf(buf, cap_len, "%s/tests/data/%s", src, name);
	else
		snprintf(buf, cap_len, "../data/%s", name);
}

/* Offset of the IPv4 header in a frame of this link type, or -1 if the
 * frame does not carry IPv4. */
static long ip_offset(int linktype, const uint8_t *frame, size_t len)
{
	switch (linktype) {
	case DLT_EN10MB: /* Ethernet II: dst(6) src(6) ethertype(2) */
		if (len < 14 || sf_be16(frame + 12) != 0x0800)
			return -1;
		return 14;
	case DLT_RAW: /* LINKTYPE_RAW: the packet starts with the IP header */
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
		if (len < 1 || (frame[0] >> 4) != 4)
			return -1;
		return 0;
	case DLT_LINUX_SLL: /* "any" device: 16-byte cooked header */
		if (len < 16 || sf_be16(frame + 14) != 0x0800)
			return -1;
		return 16;
	default:
		return -1;
	}
}

/* Reads a capture into `cap`, parsing every IPv4 packet, and asserts that
 * each one parses: IPv4 always, TCP and ICMP unless the packet is a
 * fragment. */
static void load_path(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	if (!p)
		fail_msg("%s: %s", path, err);
	memset(&cap, 0, sizeof cap);
	cap.linktype = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const uint8_t *frame;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &frame)) == 1) {
		assert_true(cap.cnt < MAX_PKTS);
		/* -s 0: nothing was cut off by the snapshot length */
		assert_int_equal(h->caplen, h->len);
		long off = ip_offset(cap.linktype, frame, h->caplen);
		assert_true(off >= 0);
		pkt_t *k = &cap.pkt[cap.cnt++];
		k->len = h->caplen - (size_t)off;
		assert_true(k->len <= sizeof k->data);
		memcpy(k->data, frame + off, k->len);

		assert_int_equal(sf_ipv4_parse(k->data, k->len, &k->ip), 0);
		assert_true(k->ip.total_len <= k->len);
		const uint8_t *l4 = k->data + k->ip.hdr_len;
		size_t l4_len = (size_t)k->ip.total_len - k->ip.hdr_len;
		k->l4_rc = 1;
		if (sf_ipv4_is_fragment(&k->ip))
			continue;
		if (k->ip.proto == SF_IP_PROTO_TCP) {
			k->l4_rc = sf_tcp_parse(l4, l4_len, k->ip.src, k->ip.dst, true, &k->tcp);
			assert_int_equal(k->l4_rc, 0);
		} else if (k->ip.proto == SF_IP_PROTO_ICMP) {
			k->l4_rc = sf_icmp_parse(l4, l4_len, &k->icmp);
			assert_int_equal(k->l4_rc, 0);
		}
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK); /* clean end of file */
	pcap_close(p);
	assert_true(cap.cnt > 0);
}

static void load(const char *name)
{
	char path[4096];
	data_path(path, sizeof path, name);
	load_path(path);
}

static const uint8_t *payload_of(const pkt_t *k)
{
	return k->data + k->ip.hdr_len + k->tcp.payload_off;
}

static bool from_client(const pkt_t *k)
{
	return k->ip.src == CLIENT && k->ip.dst == SERVER;
}

/* The handshake (RFC 9293 §3.5, figure 6): SYN, SYN-ACK, ACK; the kernel's
 * SYN options (RFC 9293 §3.7.1 MSS, RFC 7323 wscale/TS, RFC 2018 SACK-OK). */
static void check_handshake(uint16_t port)
{
	assert_true(cap.cnt >= 3);
	const sf_tcp_t *syn = &cap.pkt[0].tcp, *synack = &cap.pkt[1].tcp, *ack = &cap.pkt[2].tcp;
	assert_true(from_client(&cap.pkt[0]));
	assert_false(from_client(&cap.pkt[1]));
	assert_true(from_client(&cap.pkt[2]));

	assert_int_equal(syn->flags, SF_TCP_SYN);
	assert_int_equal(syn->dport, port);
	assert_int_equal(syn->payload_len, 0);
	assert_int_equal(sf_tcp_seg_len(syn), 1);
	assert_true(syn->opt.has_mss);
	assert_int_equal(syn->opt.mss, 1460); /* 1500-byte veth MTU - 40 */
	assert_true(syn->opt.sack_perm);
	assert_true(syn->opt.has_ts);
	assert_int_equal(syn->opt.ts_ecr, 0); /* RFC 7323 §3.2: no echo yet */
	assert_true(syn->opt.has_wscale);
	assert_true(syn->opt.wscale <= 14);
	assert_int_equal(syn->opt.sack_cnt, 0);
	assert_int_equal(syn->hdr_len, 40); /* MSS, SACK-OK, TS, NOP, WS */
	assert_true(cap.pkt[0].ip.df);

	assert_int_equal(synack->flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(synack->sport, port);
	assert_int_equal(synack->dport, syn->sport);
	assert_int_equal(synack->ack, syn->seq + 1);
	assert_true(synack->opt.has_mss && synack->opt.sack_perm && synack->opt.has_wscale);
	assert_true(synack->opt.has_ts);
	assert_int_equal(synack->opt.ts_ecr, syn->opt.ts_val);

	assert_int_equal(ack->flags, SF_TCP_ACK);
	assert_int_equal(ack->seq, syn->seq + 1);
	assert_int_equal(ack->ack, synack->seq + 1);
	assert_int_equal(ack->payload_len, 0);
	assert_false(ack->opt.has_mss || ack->opt.has_wscale || ack->opt.sack_perm);
	assert_true(ack->opt.has_ts);
	assert_int_equal(ack->opt.ts_ecr, synack->opt.ts_val);
	assert_int_equal(ack->hdr_len, 32); /* NOP, NOP, TS */
}

/* No loss in these captures: in each direction every segment starts where
 * the previous one ended, and no ACK covers more than the peer has sent. */
static void check_sequence_space(void)
{
	uint32_t nxt[2] = {0, 0};
	bool seen[2] = {false, false};
	for (size_t i = 0; i < cap.cnt; i++) {
		const sf_tcp_t *t = &cap.pkt[i].tcp;
		int dir = from_client(&cap.pkt[i]) ? 0 : 1;
		assert_true(dir == 0 ||
		            (cap.pkt[i].ip.src == SERVER && cap.pkt[i].ip.dst == CLIENT));
		if (seen[dir])
			assert_int_equal(t->seq, nxt[dir]);
		nxt[dir] = t->seq + sf_tcp_seg_len(t);
		seen[dir] = true;
		if (t->flags & SF_TCP_ACK) {
			assert_true(seen[!dir]);
			assert_true(sf_seq_le(t->ack, nxt[!dir]));
		}
		assert_int_equal(t->flags & (SF_TCP_RST | SF_TCP_URG), 0);
		assert_int_equal(t->reserved, 0);
	}
}

/* Index of the first FIN, or cnt. */
static size_t find_fin(size_t from)
{
	for (size_t i = from; i < cap.cnt; i++)
		if (cap.pkt[i].tcp.flags & SF_TCP_FIN)
			return i;
	return cap.cnt;
}

/* The close (RFC 9293 §3.6, figure 12): FIN from the side that closes first,
 * FIN from the other acknowledging it, final ACK; nothing after. */
static void check_close(bool client_first)
{
	size_t f1 = find_fin(0);
	assert_true(f1 < cap.cnt);
	size_t f2 = find_fin(f1 + 1);
	assert_true(f2 < cap.cnt);
	assert_int_equal(f2 + 2, cap.cnt); /* the last ACK ends the capture */
	const pkt_t *p1 = &cap.pkt[f1], *p2 = &cap.pkt[f2], *last = &cap.pkt[f2 + 1];
	assert_true(from_client(p1) == client_first);
	assert_true(from_client(p2) != client_first);
	assert_true(from_client(last) == client_first);
	assert_int_equal(p1->tcp.flags, SF_TCP_FIN | SF_TCP_ACK);
	assert_int_equal(p1->tcp.payload_len, 0);
	assert_int_equal(p2->tcp.flags, SF_TCP_FIN | SF_TCP_ACK);
	assert_int_equal(p2->tcp.ack, p1->tcp.seq + 1); /* the FIN takes one number */
	assert_int_equal(last->tcp.flags, SF_TCP_ACK);
	assert_int_equal(last->tcp.seq, p1->tcp.seq + 1);
	assert_int_equal(last->tcp.ack, p2->tcp.seq + 1);
	/* Between the two FINs nothing more comes from the side that closed. */
	for (size_t i = f1 + 1; i < f2; i++)
		assert_true(from_client(&cap.pkt[i]) != client_first);
}

/* The request goes out in the client's first data segment and the answer
 * starts with an HTTP status line. */
static void check_http_payload(void)
{
	size_t req = cap.cnt, resp = cap.cnt;
	uint32_t resp_bytes = 0;
	for (size_t i = 3; i < cap.cnt; i++) {
		const pkt_t *k = &cap.pkt[i];
		if (k->tcp.payload_len == 0)
			continue;
		if (from_client(k) && req == cap.cnt)
			req = i;
		if (!from_client(k)) {
			if (resp == cap.cnt)
				resp = i;
			resp_bytes += k->tcp.payload_len;
		}
	}
	assert_true(req < resp && resp < cap.cnt);
	const pkt_t *r = &cap.pkt[req];
	assert_true(r->tcp.flags & SF_TCP_PSH);
	assert_true(r->tcp.payload_len >= 16);
	assert_memory_equal(payload_of(r), "GET /", 5);
	assert_memory_equal(payload_of(r) + r->tcp.payload_len - 4, "\r\n\r\n", 4);
	assert_memory_equal(payload_of(&cap.pkt[resp]), "HTTP/1.", 7);
	assert_true(resp_bytes > 30);
}

static void test_http_client_closes(void **state)
{
	(void)state;
	load("kernel-http.pcap");
	assert_int_equal(cap.linktype, DLT_EN10MB);
	for (size_t i = 0; i < cap.cnt; i++)
		assert_int_equal(cap.pkt[i].ip.proto, SF_IP_PROTO_TCP);
	check_handshake(8080);
	check_sequence_space();
	check_http_payload();
	check_close(true);
}

static void test_http_server_closes(void **state)
{
	(void)state;
	load("kernel-http-server-close.pcap");
	check_handshake(8081);
	check_sequence_space();
	check_http_payload();
	check_close(false);
}

/* RFC 9293 §3.10.7.1: a SYN to a closed port is answered <SEQ=0><ACK=SEG.SEQ+
 * SEG.LEN><CTL=RST,ACK>. */
static void test_refused(void **state)
{
	(void)state;
	load("kernel-refused.pcap");
	assert_int_equal(cap.cnt, 2);
	const sf_tcp_t *syn = &cap.pkt[0].tcp, *rst = &cap.pkt[1].tcp;
	assert_int_equal(syn->flags, SF_TCP_SYN);
	assert_int_equal(rst->flags, SF_TCP_RST | SF_TCP_ACK);
	assert_int_equal(rst->seq, 0);
	assert_int_equal(rst->ack, syn->seq + 1);
	assert_int_equal(rst->wnd, 0);
	assert_int_equal(rst->hdr_len, SF_TCP_HDR_LEN);
	assert_int_equal(rst->sport, syn->dport);
	assert_int_equal(rst->dport, syn->sport);
}

static void test_ping(void **state)
{
	(void)state;
	load("kernel-ping.pcap");
	assert_int_equal(cap.cnt, 6);
	for (size_t i = 0; i < cap.cnt; i += 2) {
		const pkt_t *rq = &cap.pkt[i], *rp = &cap.pkt[i + 1];
		assert_int_equal(rq->ip.proto, SF_IP_PROTO_ICMP);
		assert_int_equal(rq->icmp.type, SF_ICMP_ECHO);
		assert_int_equal(rp->icmp.type, SF_ICMP_ECHO_REPLY);
		assert_int_equal(rq->icmp.code, 0);
		assert_int_equal(rq->icmp.id, rp->icmp.id);
		assert_int_equal(rq->icmp.id, cap.pkt[0].icmp.id);
		assert_int_equal(rq->icmp.seq, i / 2 + 1);
		assert_int_equal(rp->icmp.seq, rq->icmp.seq);
		assert_int_equal(rq->icmp.data_len, 56); /* ping's default size */
		assert_false(rq->icmp.has_quote);
		/* RFC 792: the reply returns the request's data unchanged. */
		assert_int_equal(rp->icmp.data_len, rq->icmp.data_len);
		assert_memory_equal(rp->data + rp->ip.hdr_len + rp->icmp.data_off,
		                    rq->data + rq->ip.hdr_len + rq->icmp.data_off,
		                    rq->icmp.data_len);
		assert_int_equal(rq->ip.src, CLIENT);
		assert_int_equal(rp->ip.src, SERVER);
	}
}

/* A 2000-byte ping over a 1500-byte MTU: two fragments each way (RFC 791
 * §3.2). The fragments parse as IPv4; reassembled, the message verifies. */
static void test_fragments(void **state)
{
	(void)state;
	load("kernel-frag.pcap");
	assert_int_equal(cap.cnt, 4);
	static uint8_t msg[4096];
	for (size_t i = 0; i < cap.cnt; i += 2) {
		const pkt_t *a = &cap.pkt[i], *b = &cap.pkt[i + 1];
		assert_true(a->ip.mf);
		assert_int_equal(a->ip.frag_off, 0);
		assert_false(b->ip.mf);
		assert_int_equal(b->ip.frag_off, 1480);
		assert_true(sf_ipv4_is_fragment(&a->ip) && sf_ipv4_is_fragment(&b->ip));
		assert_int_equal(a->ip.id, b->ip.id);
		assert_int_equal(a->ip.total_len, 1500);
		size_t la = (size_t)a->ip.total_len - a->ip.hdr_len;
		size_t lb = (size_t)b->ip.total_len - b->ip.hdr_len;
		assert_int_equal(la, 1480);
		assert_int_equal(la + lb, 8 + 2000);
		memcpy(msg, a->data + a->ip.hdr_len, la);
		memcpy(msg + la, b->data + b->ip.hdr_len, lb);
		sf_icmp_t icmp;
		/* The first fragment alone does not verify: the checksum covers the
		 * whole message. */
		assert_int_equal(sf_icmp_parse(msg, la, &icmp), SF_ECHECKSUM);
		assert_int_equal(sf_icmp_parse(msg, la + lb, &icmp), 0);
		assert_int_equal(icmp.type, i == 0 ? SF_ICMP_ECHO : SF_ICMP_ECHO_REPLY);
		assert_int_equal(icmp.data_len, 2000);
	}
}

/* A UDP datagram to a closed port: ICMP port unreachable quoting it
 * (RFC 792; RFC 1122 §3.2.2: the quote is the IP header + at least 8 bytes). */
static void test_unreachable(void **state)
{
	(void)state;
	load("kernel-unreach.pcap");
	assert_int_equal(cap.cnt, 2);
	const pkt_t *udp = &cap.pkt[0], *err = &cap.pkt[1];
	assert_int_equal(udp->ip.proto, 17);
	assert_int_equal(err->ip.proto, SF_IP_PROTO_ICMP);
	assert_int_equal(err->icmp.type, SF_ICMP_UNREACH);
	assert_int_equal(err->icmp.code, SF_ICMP_UNREACH_PORT);
	assert_true(err->icmp.has_quote);
	assert_int_equal(err->icmp.q_ip.src, CLIENT);
	assert_int_equal(err->icmp.q_ip.dst, SERVER);
	assert_int_equal(err->icmp.q_ip.proto, 17);
	assert_int_equal(err->icmp.q_ip.id, udp->ip.id);
	assert_int_equal(err->icmp.q_dport, 9);
	assert_int_equal(err->icmp.q_sport, sf_be16(udp->data + udp->ip.hdr_len));
	/* Linux quotes the whole (small) datagram. */
	assert_int_equal(err->icmp.data_len, udp->ip.total_len);
	assert_memory_equal(err->data + err->ip.hdr_len + err->icmp.data_off, udp->data,
	                    udp->ip.total_len);
}

/* The checksums in the captures are real: one flipped bit in any TCP byte is
 * caught with verify=true and ignored with verify=false, and a truncated
 * datagram is partial input. */
static void test_checksums_are_checked(void **state)
{
	(void)state;
	load("kernel-http.pcap");
	for (size_t i = 0; i < cap.cnt; i++) {
		pkt_t *k = &cap.pkt[i];
		uint8_t *l4 = k->data + k->ip.hdr_len;
		size_t l4_len = (size_t)k->ip.total_len - k->ip.hdr_len;
		sf_tcp_t t;
		for (size_t b = 0; b < l4_len; b += 7) {
			if (b == 12) /* data offset: may turn malformed instead */
				continue;
			l4[b] ^= 0x20;
			assert_int_equal(sf_tcp_parse(l4, l4_len, k->ip.src, k->ip.dst, true, &t),
			                 SF_ECHECKSUM);
			l4[b] ^= 0x20;
		}
		/* Wrong pseudo-header (the addresses are covered, RFC 9293 §3.1). */
		assert_int_equal(sf_tcp_parse(l4, l4_len, k->ip.src, k->ip.dst + 1, true, &t),
		                 SF_ECHECKSUM);
		assert_int_equal(sf_tcp_parse(l4, l4_len, k->ip.src, k->ip.dst + 1, false, &t), 0);
		assert_int_equal(t.seq, k->tcp.seq);
		/* The IP header checksum. */
		k->data[8] ^= 1; /* TTL */
		sf_ipv4_t ip;
		assert_int_equal(sf_ipv4_parse(k->data, k->len, &ip), SF_ECHECKSUM);
		k->data[8] ^= 1;
		assert_int_equal(sf_ipv4_parse(k->data, k->ip.total_len - 1u, &ip), SF_ETRUNCATED);
		assert_int_equal(sf_ipv4_parse(k->data, 19, &ip), SF_ETRUNCATED);
	}
}

/* Every captured segment survives parse -> emit -> parse, and since the
 * kernel lays out options the way sf_tcp_emit does, the emitted bytes are the
 * captured ones. */
static void test_reemit_matches_kernel(void **state)
{
	(void)state;
	static const char *const files[] = {"kernel-http.pcap", "kernel-http-server-close.pcap",
	                                    "kernel-refused.pcap"};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		load(files[f]);
		for (size_t i = 0; i < cap.cnt; i++) {
			const pkt_t *k = &cap.pkt[i];
			const uint8_t *l4 = k->data + k->ip.hdr_len;
			size_t l4_len = (size_t)k->ip.total_len - k->ip.hdr_len;
			uint8_t out[4096];
			int n = sf_tcp_emit(&k->tcp, k->ip.src, k->ip.dst, payload_of(k),
			                    k->tcp.payload_len, out, sizeof out);
			assert_int_equal(n, (int)l4_len);
			assert_memory_equal(out, l4, l4_len);
		}
	}
}

/* The same conversation stored as LINKTYPE_RAW (no link header, as a TUN
 * device or `tcpdump -i any` on some systems gives it) decodes the same. */
static void test_linktype_raw(void **state)
{
	(void)state;
	load("kernel-http.pcap");
	size_t cnt = cap.cnt;
	char path[] = "/tmp/synfin-raw-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	assert_non_null(dead);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	assert_non_null(d);
	for (size_t i = 0; i < cnt; i++) {
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)cap.pkt[i].len,
		                        .len = (bpf_u_int32)cap.pkt[i].len};
		h.ts.tv_usec = (long)i;
		pcap_dump((u_char *)d, &h, cap.pkt[i].data);
	}
	pcap_dump_close(d);
	pcap_close(dead);

	load_path(path);
	unlink(path);
	assert_int_equal(cap.linktype, DLT_RAW);
	assert_int_equal(cap.cnt, cnt);
	check_handshake(8080);
	check_sequence_space();
	check_close(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_http_client_closes),
	        cmocka_unit_test(test_http_server_closes),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_ping),
	        cmocka_unit_test(test_fragments),
	        cmocka_unit_test(test_unreachable),
	        cmocka_unit_test(test_checksums_are_checked),
	        cmocka_unit_test(test_reemit_matches_kernel),
	        cmocka_unit_test(test_linktype_raw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
