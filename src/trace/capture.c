/* Capture reader: pcap/pcapng files to TCP connections to ladders.
 *
 * sf_capture_open reads a whole capture through libpcap (which handles both
 * pcap and pcapng), strips the link layer, parses IPv4 and TCP with the wire
 * codecs (TCP checksums not verified: captures of locally sent packets carry
 * offloaded ones) and groups the segments into connections by 4-tuple, in
 * order of first appearance. A pure SYN on a tuple whose connection has
 * already ended (RST, or FIN both ways) with a new ISN starts a new
 * connection (the 4-tuple reused after TIME-WAIT).
 *
 * sf_ladder_from_capture turns one connection into the trace events two
 * stacks would have given (each segment sent by one end and received by the
 * other when it was captured) and builds its ladder like any other: a
 * capture shows packets, not states, so both ends' states are inferred by
 * the one inference all views share (infer.c).
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

#define ETHERTYPE_IPV4     0x0800
#define ETHERTYPE_IPV6     0x86dd
#define ETHERTYPE_VLAN     0x8100
#define ETHERTYPE_QINQ     0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define LINKTYPE_RAW       101
#define NO_CONN            UINT32_MAX

typedef struct cpkt {
	int64_t t_us;
	uint32_t src, dst;
	uint32_t conn;
	sf_tcp_t tcp;
} cpkt_t;

typedef struct cconn {
	sf_capture_conn_t pub;
	uint32_t ep_addr[2]; /* endpoints as first seen: [0] = first source */
	uint16_t ep_port[2];
	int left;      /* which ep is the client, -1 until known */
	int left_weak; /* ep guessed from a SYN+ACK, -1 if none */
	bool syn_seen[2];
	uint32_t syn_seq[2];
	bool fin_seen[2];
	bool rst_seen;
} cconn_t;

struct sf_capture {
	cpkt_t *pkts;
	size_t pkt_cnt, pkt_cap;
	cconn_t *conns;
	size_t conn_cnt, conn_cap;
	uint32_t *table; /* open addressing: conn index + 1, 0 = empty */
	size_t table_cap;
	size_t total, skipped;
	size_t ipv6_tcp; /* of the skipped: TCP over IPv6, which is not read */
	bool truncated;
};

/* ---- connection table ---- */

static int ep_of(const cconn_t *c, uint32_t addr, uint16_t port)
{
	return c->ep_addr[0] == addr && c->ep_port[0] == port ? 0 : 1;
}

static uint64_t hash_tuple(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2)
{
	/* Order-independent: both directions of a connection hash alike. */
	uint64_t x = ((uint64_t)a1 << 16) | p1, y = ((uint64_t)a2 << 16) | p2;
	if (x > y) {
		uint64_t t = x;
		x = y;
		y = t;
	}
	uint64_t h = x * 0x9e3779b97f4a7c15ull ^ (y + 0x632be59bd9b4e019ull);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

static bool conn_matches(const cconn_t *c, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp)
{
	return (c->ep_addr[0] == src && c->ep_port[0] == sp && c->ep_addr[1] == dst &&
	        c->ep_port[1] == dp) ||
	       (c->ep_addr[1] == src && c->ep_port[1] == sp && c->ep_addr[0] == dst &&
	        c->ep_port[0] == dp);
}

/* The slot for a tuple: holding its newest connection, or empty. */
static size_t table_slot(const sf_capture_t *cap, uint32_t src, uint16_t sp, uint32_t dst,
                         uint16_t dp)
{
	size_t mask = cap->table_cap - 1;
	size_t i = (size_t)hash_tuple(src, sp, dst, dp) & mask;
	while (cap->table[i] != 0 &&
	       !conn_matches(&cap->conns[cap->table[i] - 1], src, sp, dst, dp))
		i = (i + 1) & mask;
	return i;
}

static int table_grow(sf_capture_t *cap)
{
	size_t ncap = cap->table_cap ? cap->table_cap * 2 : 64;
	uint32_t *old = cap->table;
	size_t old_cap = cap->table_cap;
	cap->table = calloc(ncap, sizeof *cap->table);
	if (cap->table == NULL) {
		cap->table = old;
		return SF_ENOMEM;
	}
	cap->table_cap = ncap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i] == 0)
			continue;
		const cconn_t *c = &cap->conns[old[i] - 1];
		size_t s =
		        table_slot(cap, c->ep_addr[0], c->ep_port[0], c->ep_addr[1], c->ep_port[1]);
		cap->table[s] = old[i];
	}
	free(old);
	return 0;
}

/* Finds or creates the connection of a segment; NO_CONN when out of
 * memory. */
static uint32_t conn_for(sf_capture_t *cap, uint32_t src, uint32_t dst, const sf_tcp_t *tcp)
{
	if ((cap->conn_cnt + 1) * 2 > cap->table_cap && table_grow(cap) < 0)
		return NO_CONN;
	size_t slot = table_slot(cap, src, tcp->sport, dst, tcp->dport);
	if (cap->table[slot] != 0) {
		uint32_t idx = cap->table[slot] - 1;
		const cconn_t *c = &cap->conns[idx];
		int e = ep_of(c, src, tcp->sport);
		bool pure_syn = (tcp->flags & (SF_TCP_SYN | SF_TCP_ACK)) == SF_TCP_SYN;
		bool ended = c->rst_seen || (c->fin_seen[0] && c->fin_seen[1]);
		bool same_isn = c->syn_seen[e] && c->syn_seq[e] == tcp->seq;
		if (!(pure_syn && ended && !same_isn))
			return idx;
	}
	if (cap->conn_cnt == cap->conn_cap) {
		size_t ncap = cap->conn_cap ? cap->conn_cap * 2 : 16;
		cconn_t *n = realloc(cap->conns, ncap * sizeof *n);
		if (n == NULL)
			return NO_CONN;
		cap->conns = n;
		cap->conn_cap = ncap;
	}
	uint32_t idx = (uint32_t)cap->conn_cnt++;
	cconn_t *c = &cap->conns[idx];
	memset(c, 0, sizeof *c);
	c->ep_addr[0] = src;
	c->ep_port[0] = tcp->sport;
	c->ep_addr[1] = dst;
	c->ep_port[1] = tcp->dport;
	c->left = c->left_weak = -1;
	cap->table[slot] = idx + 1;
	return idx;
}

/* ---- link layers ---- */

/* Offset of the network header in a frame, with its IP version in *ver (4,
 * 6, or 0 for anything else), or -1 when the frame is too short to tell. */
static long l3_offset(int dlt, const uint8_t *p, size_t len, int *ver)
{
	*ver = 0;
	switch (dlt) {
	case DLT_EN10MB: {
		size_t off = 12;
		if (len < off + 2)
			return -1;
		uint16_t type = sf_be16(p + off);
		/* IEEE 802.1Q / 802.1ad tags: 4 bytes each, any number. */
		while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
		       type == ETHERTYPE_QINQ_OLD) {
			off += 4;
			if (len < off + 2)
				return -1;
			type = sf_be16(p + off);
		}
		*ver = type == ETHERTYPE_IPV4 ? 4 : type == ETHERTYPE_IPV6 ? 6 : 0;
		return (long)off + 2;
	}
	case DLT_RAW:
	case LINKTYPE_RAW:
	case DLT_IPV4:
		if (len < 1)
			return -1;
		*ver = p[0] >> 4 == 4 ? 4 : p[0] >> 4 == 6 && dlt != DLT_IPV4 ? 6 : 0;
		return 0;
	case DLT_NULL:
	case DLT_LOOP: {
		/* The address family: in the capturing host's byte order for
		 * DLT_NULL, big-endian for DLT_LOOP. AF_INET is 2 everywhere;
		 * AF_INET6 is 10 (Linux), 24, 28 or 30 (the BSDs, macOS). */
		if (len < 4)
			return -1;
		uint32_t be = sf_be32(p);
		uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		              (uint32_t)p[3] << 24;
		uint32_t fam = dlt == DLT_LOOP || be < 256 ? be : le;
		*ver = fam == 2 ? 4 : fam == 10 || fam == 24 || fam == 28 || fam == 30 ? 6 : 0;
		return 4;
	}
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2: {
		size_t at = dlt == DLT_LINUX_SLL ? 14 : 0, off = dlt == DLT_LINUX_SLL ? 16 : 20;
		if (len < off)
			return -1;
		uint16_t type = sf_be16(p + at);
		*ver = type == ETHERTYPE_IPV4 ? 4 : type == ETHERTYPE_IPV6 ? 6 : 0;
		return (long)off;
	}
	default:
		return -1;
	}
}

static bool dlt_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_RAW || dlt == LINKTYPE_RAW || dlt == DLT_IPV4 ||
	       dlt == DLT_NULL || dlt == DLT_LOOP || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2;
}

/* Parses IPv4 + TCP from ip[0..len). A packet cut by the capture's snap
 * length still yields its headers: the IP header is re-checked against the
 * bytes present and the TCP payload length taken from the IP total length.
 * `scratch` holds at least 65535 bytes. Returns 0 or a negative code. */
static int parse_packet(const uint8_t *ip, size_t len, uint8_t *scratch, sf_ipv4_t *iph,
                        sf_tcp_t *tcp)
{
	int err = sf_ipv4_parse(ip, len, iph);
	size_t orig_total = 0;
	if (err == SF_ETRUNCATED && len >= SF_IPV4_HDR_LEN && (ip[0] >> 4) == 4) {
		size_t hl = (size_t)(ip[0] & 0x0f) * 4;
		orig_total = sf_be16(ip + 2);
		if (hl < SF_IPV4_HDR_LEN || hl > len || orig_total <= len || len > 65535)
			return SF_ETRUNCATED;
		memcpy(scratch, ip, len);
		sf_put16(scratch + 2, (uint16_t)len);
		sf_put16(scratch + 10, 0);
		sf_put16(scratch + 10, sf_csum(scratch, hl));
		/* Only if the original header checksum held. */
		if (sf_csum(ip, hl) != 0)
			return SF_ECHECKSUM;
		ip = scratch;
		err = sf_ipv4_parse(ip, len, iph);
	}
	if (err < 0)
		return err;
	if (iph->proto != SF_IP_PROTO_TCP || sf_ipv4_is_fragment(iph))
		return SF_EINVAL;
	err = sf_tcp_parse(ip + iph->hdr_len, iph->total_len - iph->hdr_len, iph->src, iph->dst,
	                   false, tcp);
	if (err < 0)
		return err;
	if (orig_total) {
		size_t full = orig_total - iph->hdr_len;
		tcp->payload_len = full > tcp->hdr_len ? (uint16_t)(full - tcp->hdr_len) : 0;
		iph->total_len = (uint16_t)orig_total;
	}
	return 0;
}

static int add_packet(sf_capture_t *cap, int64_t t_us, const sf_ipv4_t *ip, const sf_tcp_t *tcp)
{
	uint32_t ci = conn_for(cap, ip->src, ip->dst, tcp);
	if (ci == NO_CONN)
		return SF_ENOMEM;
	if (cap->pkt_cnt == cap->pkt_cap) {
		size_t ncap = cap->pkt_cap ? cap->pkt_cap * 2 : 256;
		cpkt_t *n = realloc(cap->pkts, ncap * sizeof *n);
		if (n == NULL)
			return SF_ENOMEM;
		cap->pkts = n;
		cap->pkt_cap = ncap;
	}
	cpkt_t *p = &cap->pkts[cap->pkt_cnt++];
	p->t_us = t_us;
	p->src = ip->src;
	p->dst = ip->dst;
	p->conn = ci;
	p->tcp = *tcp;

	cconn_t *c = &cap->conns[ci];
	int e = ep_of(c, ip->src, tcp->sport);
	if (c->pub.pkt_cnt == 0)
		c->pub.first_us = t_us;
	c->pub.last_us = t_us;
	c->pub.pkt_cnt++;
	c->pub.bytes[e] += tcp->payload_len;
	if (tcp->flags & SF_TCP_SYN) {
		c->pub.has_syn |= !(tcp->flags & SF_TCP_ACK);
		if (!c->syn_seen[e]) {
			c->syn_seen[e] = true;
			c->syn_seq[e] = tcp->seq;
		}
		if (!(tcp->flags & SF_TCP_ACK) && c->left < 0)
			c->left = e;
		if ((tcp->flags & SF_TCP_ACK) && c->left_weak < 0)
			c->left_weak = 1 - e;
	}
	if (tcp->flags & SF_TCP_FIN)
		c->fin_seen[e] = true;
	if (tcp->flags & SF_TCP_RST)
		c->rst_seen = true;
	return 0;
}

/* The client end of a connection: SYN sender, else SYN+ACK receiver, else
 * the first packet's source. */
static int left_of(const cconn_t *c)
{
	if (c->left >= 0)
		return c->left;
	if (c->left_weak >= 0)
		return c->left_weak;
	return 0;
}

static void finish_conns(sf_capture_t *cap)
{
	for (size_t i = 0; i < cap->conn_cnt; i++) {
		cconn_t *c = &cap->conns[i];
		int lf = left_of(c);
		uint64_t b0 = c->pub.bytes[0], b1 = c->pub.bytes[1];
		c->pub.addr[0] = c->ep_addr[lf];
		c->pub.port[0] = c->ep_port[lf];
		c->pub.addr[1] = c->ep_addr[1 - lf];
		c->pub.port[1] = c->ep_port[1 - lf];
		c->pub.bytes[0] = lf == 0 ? b0 : b1;
		c->pub.bytes[1] = lf == 0 ? b1 : b0;
	}
}

int sf_capture_open(const char *path, sf_capture_t **out)
{
	if (path == NULL || out == NULL)
		return SF_EINVAL;
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return SF_EINVAL;
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_fopen_offline(fp, errbuf); /* owns fp on success */
	if (pc == NULL) {
		fclose(fp);
		return SF_EMALFORMED;
	}
	int dlt = pcap_datalink(pc);
	if (!dlt_supported(dlt)) {
		pcap_close(pc);
		return SF_ENOTSUP;
	}
	sf_capture_t *cap = calloc(1, sizeof *cap);
	uint8_t *scratch = malloc(65536);
	if (cap == NULL || scratch == NULL) {
		free(cap);
		free(scratch);
		pcap_close(pc);
		return SF_ENOMEM;
	}
	int err = 0;
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(pc, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			break;
		if (rc != 1) {
			cap->truncated = true;
			break;
		}
		cap->total++;
		int ver;
		long off = l3_offset(dlt, data, h->caplen, &ver);
		sf_ipv4_t ip;
		sf_tcp_t tcp;
		if (off < 0 || ver != 4 ||
		    parse_packet(data + off, h->caplen - (size_t)off, scratch, &ip, &tcp) < 0) {
			/* IPv6's next header (byte 6) is TCP: a connection the user
			 * will look for (curl http://localhost/ goes to ::1). */
			if (off >= 0 && ver == 6 && h->caplen >= (size_t)off + 40 &&
			    data[off + 6] == 6)
				cap->ipv6_tcp++;
			cap->skipped++;
			continue;
		}
		/* pcapng carries 64-bit timestamps: one past what microseconds
		 * in an int64 can hold is not a real capture time (found by
		 * fuzz_capture); skip the packet rather than overflow. */
		if (h->ts.tv_sec < 0 || h->ts.tv_sec > (INT64_MAX - 999999) / 1000000) {
			cap->skipped++;
			continue;
		}
		int64_t t_us = (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec;
		err = add_packet(cap, t_us, &ip, &tcp);
		if (err < 0)
			break;
	}
	free(scratch);
	pcap_close(pc);
	if (err < 0) {
		sf_capture_close(cap);
		return err;
	}
	finish_conns(cap);
	*out = cap;
	return 0;
}

void sf_capture_close(sf_capture_t *cap)
{
	if (cap == NULL)
		return;
	free(cap->pkts);
	free(cap->conns);
	free(cap->table);
	free(cap);
}

size_t sf_capture_conn_count(const sf_capture_t *cap)
{
	return cap ? cap->conn_cnt : 0;
}
size_t sf_capture_pkt_count(const sf_capture_t *cap)
{
	return cap ? cap->total : 0;
}
size_t sf_capture_skipped_count(const sf_capture_t *cap)
{
	return cap ? cap->skipped : 0;
}

size_t sf_capture_ipv6_tcp_count(const sf_capture_t *cap)
{
	return cap ? cap->ipv6_tcp : 0;
}
bool sf_capture_truncated(const sf_capture_t *cap)
{
	return cap && cap->truncated;
}

int sf_capture_conn_get(const sf_capture_t *cap, size_t index, sf_capture_conn_t *out)
{
	if (cap == NULL || out == NULL || index >= cap->conn_cnt)
		return SF_EINVAL;
	*out = cap->conns[index].pub;
	return 0;
}

int sf_capture_conn_format(const sf_capture_conn_t *c, char *buf, size_t cap)
{
	char a[16], b[16];
	return snprintf(buf, cap, "%s:%u > %s:%u, %zu segments, %llu/%llu bytes",
	                sf_ipv4_addr_str(c->addr[0], a), (unsigned)c->port[0],
	                sf_ipv4_addr_str(c->addr[1], b), (unsigned)c->port[1], c->pkt_cnt,
	                (unsigned long long)c->bytes[0], (unsigned long long)c->bytes[1]);
}

/* ---- a connection as trace events ---- */

/* One captured segment as the trace event of a stack that sent (tx) or
 * received it. */
static sf_event_t capture_event(const cpkt_t *p, bool tx)
{
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = tx ? SF_EV_SEG_TX : SF_EV_SEG_RX;
	ev.now_us = p->t_us;
	ev.conn_id = 1;
	ev.u.seg.ip.src = p->src;
	ev.u.seg.ip.dst = p->dst;
	ev.u.seg.ip.proto = SF_IP_PROTO_TCP;
	ev.u.seg.tcp = p->tcp;
	return ev;
}

int sf_ladder_from_capture(const sf_capture_t *cap, size_t index, sf_ladder_t **out)
{
	if (cap == NULL || out == NULL)
		return SF_EINVAL;
	*out = NULL;
	if (cap->conn_cnt == 0)
		return SF_ENOTCONN;
	if (index >= cap->conn_cnt)
		return SF_EINVAL;
	sf_ladder_t *l = sf_ladder_new();
	if (l == NULL)
		return SF_ENOMEM;
	const sf_capture_conn_t *c = &cap->conns[index].pub;
	/* Each segment was sent by one end and, as far as the capture can
	 * tell, received by the other at the instant it was captured: the same
	 * events two traced stacks would give, without their state events, so
	 * the ladder infers both ends' states (infer.c).
	 * A capture of an offloading link (synfin's own --pcap over TUN) holds
	 * TSO/GRO super-segments as one packet each: one carrying more than the
	 * receiver's MSS (from its SYN, less the timestamp option's 12 bytes
	 * when both asked for it) stands for ceil(len / that) wire segments,
	 * which the ladder says (u.seg.segs), as the live trace does. */
	uint32_t mss[2] = {0, 0};
	bool ts[2] = {false, false};
	for (size_t i = 0; i < cap->pkt_cnt; i++) {
		const cpkt_t *p = &cap->pkts[i];
		if (p->conn != index)
			continue;
		int s = p->src == c->addr[0] && p->tcp.sport == c->port[0] ? 0 : 1;
		if (p->tcp.flags & SF_TCP_SYN) {
			mss[s] = p->tcp.opt.has_mss ? p->tcp.opt.mss : 536; /* RFC 9293 §3.7.1 */
			ts[s] = p->tcp.opt.has_ts;
		}
		sf_event_t tx = capture_event(p, true), rx = capture_event(p, false);
		uint32_t eff = mss[1 - s] > 64 ? mss[1 - s] - (ts[0] && ts[1] ? 12 : 0) : 0;
		if (eff && p->tcp.payload_len > eff) {
			uint32_t n = (p->tcp.payload_len + eff - 1) / eff;
			tx.u.seg.segs = rx.u.seg.segs = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
		}
		if (sf_ladder_add_event(l, s, &tx) < 0 || sf_ladder_add_event(l, 1 - s, &rx) < 0) {
			sf_ladder_free(l);
			return SF_ENOMEM;
		}
	}
	int err = sf_ladder_build(l);
	if (err < 0) {
		sf_ladder_free(l);
		return err;
	}
	l->sealed = true;
	*out = l;
	return 0;
}
