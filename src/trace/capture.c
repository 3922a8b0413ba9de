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
 * sf_ladder_from_capture turns one connection into ladder rows. A capture
 * shows packets, not states, so each side runs a shadow of the RFC 9293
 * state machine (§3.3.2, §3.10.7) fed with what it sent and what it
 * received, a packet being taken as received when it was captured. When a
 * side's FIN shows that it had not yet seen the peer's FIN (its ACK does not
 * cover it), that side is reinterpreted as closing simultaneously: FIN-WAIT-1
 * then CLOSING, instead of CLOSE-WAIT (RFC 9293 §3.6, figure 13). How the
 * other end first answers the opening SYN tells what it was: a SYN,ACK (or
 * nothing) a listener in LISTEN; a RST,ACK a CLOSED port with no listener
 * (§3.10.7.1); a SYN of its own a simultaneous open (§3.5, figure 8), where
 * both ends start CLOSED and each takes the peer's SYN only after sending
 * its own: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED on both sides.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

#define ETHERTYPE_IPV4     0x0800
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

/* Offset of the IPv4 header in a frame, or -1 when the frame carries no
 * IPv4 (or is too short to tell). */
static long ipv4_offset(int dlt, const uint8_t *p, size_t len)
{
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
		return type == ETHERTYPE_IPV4 ? (long)off + 2 : -1;
	}
	case DLT_RAW:
	case LINKTYPE_RAW:
	case DLT_IPV4:
		return len >= 1 && (p[0] >> 4) == 4 ? 0 : -1;
	case DLT_NULL:
		/* The family in the capturing host's byte order; AF_INET is 2
		 * everywhere. */
		if (len < 4)
			return -1;
		return (p[0] == 2 && p[1] == 0 && p[2] == 0 && p[3] == 0) ||
		                       (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 2)
		               ? 4
		               : -1;
	case DLT_LOOP:
		return len >= 4 && sf_be32(p) == 2 ? 4 : -1;
	case DLT_LINUX_SLL:
		return len >= 16 && sf_be16(p + 14) == ETHERTYPE_IPV4 ? 16 : -1;
	case DLT_LINUX_SLL2:
		return len >= 20 && sf_be16(p) == ETHERTYPE_IPV4 ? 20 : -1;
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
		long off = ipv4_offset(dlt, data, h->caplen);
		sf_ipv4_t ip;
		sf_tcp_t tcp;
		if (off < 0 ||
		    parse_packet(data + off, h->caplen - (size_t)off, scratch, &ip, &tcp) < 0) {
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

/* ---- shadow state machines ---- */

struct shadow {
	sf_state_t st;
	bool iss_known, fin_sent, peer_fin;
	uint32_t iss;
	uint32_t fin_seq;      /* the sequence number our FIN occupies */
	uint32_t peer_fin_seq; /* the one the peer's FIN occupies */
	size_t close_wait_row; /* row where CLOSE-WAIT was inferred */
};

/* RFC 9293 §3.10: the state a side enters by sending `t`. */
static sf_state_t shadow_send(struct shadow *sh, const sf_tcp_t *t)
{
	if (t->flags & SF_TCP_RST)
		return SF_CLOSED; /* §3.10.4 ABORT, or a reset of an unknown connection */
	if (t->flags & SF_TCP_SYN) {
		if (!sh->iss_known) {
			sh->iss_known = true;
			sh->iss = t->seq;
		}
		if (!(t->flags & SF_TCP_ACK)) {
			/* §3.10.1 OPEN (active), or SEND in LISTEN */
			if (sh->st == SF_CLOSED || sh->st == SF_LISTEN)
				return SF_SYN_SENT;
		} else if (sh->st == SF_LISTEN || sh->st == SF_SYN_SENT) {
			/* §3.10.7.2: LISTEN answers a SYN with SYN,ACK */
			return SF_SYN_RECEIVED;
		}
	}
	if (t->flags & SF_TCP_FIN) {
		sh->fin_sent = true;
		sh->fin_seq = t->seq + t->payload_len + !!(t->flags & SF_TCP_SYN);
		/* §3.10.4 CLOSE */
		if (sh->st == SF_ESTABLISHED || sh->st == SF_SYN_RECEIVED)
			return SF_FIN_WAIT_1;
		if (sh->st == SF_CLOSE_WAIT)
			return SF_LAST_ACK;
	}
	return sh->st;
}

/* RFC 9293 §3.10.7: the state a side enters by receiving `t`. */
static sf_state_t shadow_recv(struct shadow *sh, const sf_tcp_t *t)
{
	sf_state_t st = sh->st;
	bool ack = (t->flags & SF_TCP_ACK) != 0;
	if (st == SF_CLOSED)
		return st;
	if (t->flags & SF_TCP_RST) {
		/* §3.10.7.2: LISTEN ignores a RST; §3.10.7.3: in SYN-SENT
		 * only one that acknowledges our SYN counts. */
		if (st == SF_LISTEN)
			return st;
		if (st == SF_SYN_SENT && !(ack && sh->iss_known && t->ack == sh->iss + 1))
			return st;
		return SF_CLOSED;
	}
	if (t->flags & SF_TCP_SYN) {
		if (st == SF_SYN_SENT) {
			/* §3.10.7.3: SYN,ACK of our SYN -> ESTABLISHED; a bare
			 * SYN is a simultaneous open -> SYN-RECEIVED. */
			if (ack && sh->iss_known && t->ack == sh->iss + 1)
				return SF_ESTABLISHED;
			if (!ack)
				return SF_SYN_RECEIVED;
			return st;
		}
		if (st == SF_SYN_RECEIVED && ack && sh->iss_known && sf_seq_ge(t->ack, sh->iss + 1))
			return SF_ESTABLISHED;
		return st; /* LISTEN waits for its own SYN,ACK to be sent */
	}
	if (ack) {
		if (st == SF_SYN_RECEIVED && (!sh->iss_known || sf_seq_gt(t->ack, sh->iss)))
			st = SF_ESTABLISHED; /* §3.10.7.4: our SYN acknowledged */
		if (sh->fin_sent && sf_seq_gt(t->ack, sh->fin_seq)) {
			/* §3.10.7.4: our FIN acknowledged */
			if (st == SF_FIN_WAIT_1)
				st = SF_FIN_WAIT_2;
			else if (st == SF_CLOSING)
				st = SF_TIME_WAIT;
			else if (st == SF_LAST_ACK)
				st = SF_CLOSED;
		}
	}
	if ((t->flags & SF_TCP_FIN) && !sh->peer_fin) {
		sh->peer_fin = true;
		sh->peer_fin_seq = t->seq + t->payload_len;
		/* §3.10.7.4, eighth: check the FIN bit */
		if (st == SF_ESTABLISHED || st == SF_SYN_RECEIVED)
			st = SF_CLOSE_WAIT;
		else if (st == SF_FIN_WAIT_1)
			st = SF_CLOSING;
		else if (st == SF_FIN_WAIT_2)
			st = SF_TIME_WAIT;
	}
	return st;
}

static lrow_t *push_state_row(sf_ladder_t *l, int side, int64_t t_us, uint64_t order, sf_state_t st)
{
	lrow_t *r = sf_ladder_row_push(l);
	if (r == NULL)
		return NULL;
	r->kind = LROW_STATE;
	r->side = (uint8_t)side;
	r->t_us = r->t_rx_us = t_us;
	r->order = order;
	r->has_state[side] = true;
	r->state[side] = st;
	return r;
}

/* Which end of connection c sent packet p: 0 left/client, 1 right/server. */
static int side_of(const sf_capture_conn_t *c, const cpkt_t *p)
{
	return p->src == c->addr[0] && p->tcp.sport == c->port[0] ? 0 : 1;
}

/* How the other end took the opening SYN (packet first_idx of conn c):
 * the first segment it sent tells. */
enum open_kind {
	OPEN_PASSIVE,     /* it listened: LISTEN (a SYN,ACK, or nothing seen) */
	OPEN_REFUSED,     /* RST,ACK of the SYN: no listener, CLOSED */
	OPEN_SIMULTANEOUS /* a SYN of its own: both ends opened actively */
};

static enum open_kind open_kind_of(const sf_capture_t *cap, const sf_capture_conn_t *c,
                                   size_t first_idx)
{
	const cpkt_t *syn = &cap->pkts[first_idx];
	int opener = side_of(c, syn);
	for (size_t i = first_idx + 1; i < cap->pkt_cnt; i++) {
		const cpkt_t *p = &cap->pkts[i];
		if (p->conn != syn->conn || side_of(c, p) == opener)
			continue;
		uint8_t f = p->tcp.flags;
		/* RFC 9293 §3.10.7.1: a CLOSED end answers a SYN with
		 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; a LISTEN one never
		 * resets a SYN (§3.10.7.2). */
		if ((f & SF_TCP_RST) && (f & SF_TCP_ACK) &&
		    p->tcp.ack == syn->tcp.seq + sf_tcp_seg_len(&syn->tcp))
			return OPEN_REFUSED;
		/* §3.5 Figure 8: a SYN without ACK crosses ours. */
		if ((f & (SF_TCP_SYN | SF_TCP_ACK | SF_TCP_RST)) == SF_TCP_SYN)
			return OPEN_SIMULTANEOUS;
		return OPEN_PASSIVE;
	}
	return OPEN_PASSIVE;
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
	l->from_capture = l->built = true;
	const sf_capture_conn_t *c = &cap->conns[index].pub;
	for (int s = 0; s < 2; s++) {
		l->has_ep[s] = true;
		l->addr[s] = c->addr[s];
		l->port[s] = c->port[s];
	}

	/* Initial states: a connection seen from its SYN starts CLOSED, against
	 * a listener, or, when the other end refused it or opened at the same
	 * time, against another CLOSED end (open_kind_of); one seen from the
	 * SYN,ACK has a client in SYN-SENT; one picked up mid-stream is taken as
	 * ESTABLISHED on both sides. */
	struct shadow sh[2];
	memset(sh, 0, sizeof sh);
	size_t first_idx = 0;
	while (cap->pkts[first_idx].conn != index)
		first_idx++;
	const cpkt_t *first = &cap->pkts[first_idx];
	int first_side = side_of(c, first);
	uint8_t ff = first->tcp.flags;
	enum open_kind open = OPEN_PASSIVE;
	if ((ff & SF_TCP_SYN) && !(ff & SF_TCP_ACK)) {
		open = open_kind_of(cap, c, first_idx);
		sh[first_side].st = SF_CLOSED;
		sh[1 - first_side].st = open == OPEN_PASSIVE ? SF_LISTEN : SF_CLOSED;
	} else if ((ff & SF_TCP_SYN) && (ff & SF_TCP_ACK)) {
		sh[first_side].st = SF_LISTEN;
		sh[1 - first_side].st = SF_SYN_SENT;
		sh[1 - first_side].iss_known = true;
		sh[1 - first_side].iss = first->tcp.ack - 1;
	} else {
		sh[0].st = sh[1].st = SF_ESTABLISHED;
	}
	l->init[0] = sh[0].st;
	l->init[1] = sh[1].st;

	/* Simultaneous open: the peer's SYN that reached a side before it
	 * sent its own (as the capture saw them), held until it has. */
	bool syn_pending[2] = {false, false};
	sf_tcp_t syn_held[2];
	memset(syn_held, 0, sizeof syn_held);
	uint64_t order = 0;
	for (size_t i = first_idx; i < cap->pkt_cnt; i++) {
		const cpkt_t *p = &cap->pkts[i];
		if (p->conn != index)
			continue;
		int s = side_of(c, p);
		int r = 1 - s;
		order += 4;
		lrow_t *row = sf_ladder_row_push(l);
		if (row == NULL)
			goto nomem;
		size_t row_idx = l->row_cnt - 1;
		row->kind = LROW_SEG;
		row->side = (uint8_t)s;
		row->t_us = row->t_rx_us = p->t_us;
		row->order = order;
		row->tcp = p->tcp;

		sf_state_t before = sh[s].st;
		/* A FIN sent from CLOSE-WAIT that does not acknowledge the
		 * peer's FIN was sent before that FIN arrived: both closed at
		 * once (§3.6). Undo CLOSE-WAIT; FIN-WAIT-1 then CLOSING. */
		bool simultaneous = (p->tcp.flags & SF_TCP_FIN) && before == SF_CLOSE_WAIT &&
		                    sh[s].peer_fin && (p->tcp.flags & SF_TCP_ACK) &&
		                    sf_seq_le(p->tcp.ack, sh[s].peer_fin_seq);
		if (simultaneous) {
			lrow_t *cw = &l->rows[sh[s].close_wait_row];
			if (cw->has_state[s] && cw->state[s] == SF_CLOSE_WAIT)
				cw->has_state[s] = false;
			sh[s].st = SF_ESTABLISHED;
		}
		sf_state_t st = shadow_send(&sh[s], &p->tcp);
		if (st != before || simultaneous) {
			row->has_state[s] = true;
			row->state[s] = st;
		}
		sh[s].st = st;
		if (simultaneous && st == SF_FIN_WAIT_1) {
			sh[s].st = SF_CLOSING;
			if (push_state_row(l, s, p->t_us, order + 1, SF_CLOSING) == NULL)
				goto nomem;
			row = &l->rows[row_idx];
		}
		/* RFC 9293 §3.5 Figure 8: its own SYN out, the side takes the
		 * peer's SYN it was holding: SYN-SENT -> SYN-RECEIVED, just
		 * below. */
		if (syn_pending[s] && before == SF_CLOSED && st == SF_SYN_SENT) {
			syn_pending[s] = false;
			sh[s].st = shadow_recv(&sh[s], &syn_held[s]);
			if (sh[s].st != st &&
			    push_state_row(l, s, p->t_us, order + 1, sh[s].st) == NULL)
				goto nomem;
			row = &l->rows[row_idx];
		}

		before = sh[r].st;
		if (open == OPEN_SIMULTANEOUS && before == SF_CLOSED && !sh[r].iss_known &&
		    (p->tcp.flags & (SF_TCP_SYN | SF_TCP_ACK | SF_TCP_RST)) == SF_TCP_SYN) {
			/* A side that is about to send its own SYN: the peer's
			 * crossed it on the way (it cannot have arrived before,
			 * or the answer would be a SYN,ACK or a RST). */
			syn_pending[r] = true;
			syn_held[r] = p->tcp;
			continue;
		}
		st = shadow_recv(&sh[r], &p->tcp);
		if (st != before) {
			row->has_state[r] = true;
			row->state[r] = st;
			if (st == SF_CLOSE_WAIT)
				sh[r].close_wait_row = row_idx;
		}
		sh[r].st = st;
	}
	sf_ladder_rows_finish(l, true);
	*out = l;
	return 0;
nomem:
	sf_ladder_free(l);
	return SF_ENOMEM;
}
