/* synfin wire codecs: Ethernet II, ARP, IPv4, TCP (with options), ICMP, the
 * Internet checksum and sequence-number arithmetic.
 *
 * Pure functions: no state, no allocation, no clock. A parser validates its
 * input once and fills a host-order "repr" struct; an emitter writes a repr
 * back to bytes. Parsers never read past `len` and tell a truncated input
 * (SF_ETRUNCATED) from a malformed one (SF_EMALFORMED). Addresses are host
 * order uint32_t (192.0.2.1 == 0xC0000201).
 */
#ifndef SYNFIN_WIRE_H
#define SYNFIN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- byte order helpers (buffers are never cast to structs) ---- */

static inline uint16_t sf_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t sf_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void sf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void sf_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071, RFC 1624) ---- */

/* Adds `len` bytes at `data` to the running one's-complement sum `sum`
 * (start with 0). Chunks chained this way must all have even length except
 * the last one. The result is unfolded: pass it to sf_csum_fold(). */
uint64_t sf_csum_add(uint64_t sum, const void *data, size_t len);
/* Same as sf_csum_add, and copies the bytes to `dst` (no overlap). */
uint64_t sf_csum_copy(uint64_t sum, void *dst, const void *src, size_t len);
/* Folds a running sum to 16 bits and complements it: the value to store. */
uint16_t sf_csum_fold(uint64_t sum);
/* Checksum of one buffer: sf_csum_fold(sf_csum_add(0, data, len)). */
uint16_t sf_csum(const void *data, size_t len);
/* RFC 1624 eqn. 3: the new checksum after one 16-bit field changes from
 * `old_val` to `new_val`. */
uint16_t sf_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val);
/* Running sum of the IPv4 pseudo-header (RFC 9293 §3.1). */
uint64_t sf_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* ---- sequence-number arithmetic (mod 2^32, RFC 9293 §3.4) ---- */

static inline bool sf_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool sf_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline bool sf_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}
static inline bool sf_seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}
static inline uint32_t sf_seq_max(uint32_t a, uint32_t b)
{
	return sf_seq_gt(a, b) ? a : b;
}
static inline uint32_t sf_seq_min(uint32_t a, uint32_t b)
{
	return sf_seq_lt(a, b) ? a : b;
}
/* lo <= x < lo + len (an empty window contains nothing). */
static inline bool sf_seq_in_window(uint32_t x, uint32_t lo, uint32_t len)
{
	return x - lo < len;
}

/* ---- Ethernet II (IEEE 802.3 with EtherType, RFC 894) ---- */

#define SF_ETH_ADDR_LEN   6
#define SF_ETH_HDR_LEN    14
#define SF_ETH_MIN_FRAME  60 /* without the FCS: shorter frames are padded */
#define SF_ETHERTYPE_IPV4 0x0800
#define SF_ETHERTYPE_ARP  0x0806

typedef struct sf_ether {
	uint8_t dst[SF_ETH_ADDR_LEN], src[SF_ETH_ADDR_LEN];
	uint16_t type; /* SF_ETHERTYPE_*; values < 0x0600 are 802.3 lengths */
} sf_ether_t;

/* Parses the 14-byte header at buf[0..len); the payload starts at
 * buf[SF_ETH_HDR_LEN]. Only the length is checked: which destinations and
 * types are accepted is the receiver's decision. Returns 0 or SF_ETRUNCATED. */
int sf_ether_parse(const uint8_t *buf, size_t len, sf_ether_t *eth);
/* Writes the 14-byte header. Returns SF_ETH_HDR_LEN or SF_ENOBUFS. */
int sf_ether_emit(const sf_ether_t *eth, uint8_t *buf, size_t cap);
/* The group bit: broadcast and multicast addresses, never a sender. */
static inline bool sf_ether_is_group(const uint8_t mac[SF_ETH_ADDR_LEN])
{
	return (mac[0] & 1) != 0;
}
static inline bool sf_ether_is_broadcast(const uint8_t mac[SF_ETH_ADDR_LEN])
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

/* ---- ARP for IPv4 over Ethernet (RFC 826) ---- */

#define SF_ARP_LEN     28 /* hardware Ethernet (1), protocol IPv4 (0x0800) */
#define SF_ARP_REQUEST 1
#define SF_ARP_REPLY   2

typedef struct sf_arp {
	uint16_t op; /* SF_ARP_REQUEST or SF_ARP_REPLY */
	uint8_t sha[SF_ETH_ADDR_LEN];
	uint32_t spa; /* host order */
	uint8_t tha[SF_ETH_ADDR_LEN];
	uint32_t tpa;
} sf_arp_t;

/* Parses an ARP packet buf[0..len) (the Ethernet payload; trailing padding
 * is ignored). RFC 826: only hardware type 1 (Ethernet) with 6-byte
 * addresses and protocol type 0x0800 with 4-byte addresses are ours; any
 * other pair, or an opcode other than request/reply, is SF_EMALFORMED.
 * Returns 0, SF_ETRUNCATED or SF_EMALFORMED. */
int sf_arp_parse(const uint8_t *buf, size_t len, sf_arp_t *arp);
/* Writes the 28-byte packet. Returns SF_ARP_LEN or SF_ENOBUFS. */
int sf_arp_emit(const sf_arp_t *arp, uint8_t *buf, size_t cap);

/* ---- IPv4 (RFC 791) ---- */

#define SF_IP_PROTO_ICMP 1
#define SF_IP_PROTO_TCP  6
#define SF_IPV4_HDR_LEN  20

typedef struct sf_ipv4 {
	uint32_t src, dst;
	uint8_t proto;
	uint8_t ttl;
	uint8_t dscp; /* 6 bits */
	uint8_t ecn;  /* 2 bits */
	uint16_t id;
	bool df, mf;
	uint16_t frag_off;  /* fragment offset in bytes (a multiple of 8) */
	uint16_t hdr_len;   /* IHL * 4, options included (parse only) */
	uint16_t total_len; /* header + payload, from the header (parse only) */
} sf_ipv4_t;

/* Parses an IPv4 header at buf[0..len). Verifies version 4, IHL >= 5, the
 * header checksum, and total_len <= len (bytes past total_len, such as link
 * padding, are ignored). IP options are skipped, never interpreted
 * (MUST-50). The payload is buf[hdr_len .. total_len).
 * Returns 0, SF_ETRUNCATED, SF_EMALFORMED or SF_ECHECKSUM. */
int sf_ipv4_parse(const uint8_t *buf, size_t len, sf_ipv4_t *ip);

/* Writes a 20-byte header (no options) for a payload of `payload_len`
 * bytes, checksum included. hdr_len/total_len in `ip` are ignored.
 * Returns 20, or SF_ENOBUFS / SF_EINVAL (payload too large). */
int sf_ipv4_emit(const sf_ipv4_t *ip, size_t payload_len, uint8_t *buf, size_t cap);

static inline bool sf_ipv4_is_fragment(const sf_ipv4_t *ip)
{
	return ip->mf || ip->frag_off != 0;
}
/* Limited/directed broadcast (given the local prefix length), multicast,
 * 0.0.0.0/8 "this network" and class E: never a valid peer (MUST-46,
 * MUST-57, MUST-63). prefix_len 0..32; 32 disables the directed test. */
bool sf_ipv4_addr_is_special(uint32_t addr, uint32_t local, int prefix_len);
/* "a.b.c.d" <-> host order. parse returns 0 or SF_EINVAL. */
int sf_ipv4_addr_parse(const char *s, uint32_t *addr);
/* Writes "a.b.c.d" (needs 16 bytes); returns buf. */
char *sf_ipv4_addr_str(uint32_t addr, char buf[16]);

/* ---- TCP (RFC 9293 §3.1, options RFC 7323 / RFC 2018) ---- */

#define SF_TCP_FIN 0x01
#define SF_TCP_SYN 0x02
#define SF_TCP_RST 0x04
#define SF_TCP_PSH 0x08
#define SF_TCP_ACK 0x10
#define SF_TCP_URG 0x20
#define SF_TCP_ECE 0x40
#define SF_TCP_CWR 0x80

#define SF_TCP_HDR_LEN     20
#define SF_TCP_MAX_OPT_LEN 40
#define SF_TCP_MAX_SACK    4

#define SF_TCPOPT_EOL       0
#define SF_TCPOPT_NOP       1
#define SF_TCPOPT_MSS       2
#define SF_TCPOPT_WSCALE    3
#define SF_TCPOPT_SACK_PERM 4
#define SF_TCPOPT_SACK      5
#define SF_TCPOPT_TS        8

typedef struct sf_sack_block {
	uint32_t left, right; /* [left, right) */
} sf_sack_block_t;

typedef struct sf_tcp_opts {
	bool has_mss, has_wscale, sack_perm, has_ts;
	uint16_t mss;
	uint8_t wscale; /* as received; the caller clamps to 14 (RFC 7323 §2.3) */
	uint32_t ts_val, ts_ecr;
	uint8_t sack_cnt; /* 0..4 */
	sf_sack_block_t sack[SF_TCP_MAX_SACK];
} sf_tcp_opts_t;

typedef struct sf_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;        /* SF_TCP_* */
	uint8_t reserved;     /* the 4 reserved bits, as received */
	uint16_t wnd;         /* raw 16-bit window, unscaled (MUST-1: unsigned) */
	uint16_t urg;         /* urgent pointer */
	uint16_t hdr_len;     /* data offset * 4 (parse); computed on emit */
	uint16_t payload_off; /* offset of the payload in the parsed segment */
	uint16_t payload_len; /* payload bytes */
	sf_tcp_opts_t opt;
} sf_tcp_t;

/* Parses a TCP segment seg[0..len) (the IP payload). If `verify` is true,
 * the checksum over the pseudo-header (src, dst) is checked (MUST-3).
 * Options are accepted in any segment, at any alignment (MUST-5, MUST-64);
 * unknown options are skipped by their length (MUST-6); an option whose
 * length is 0, 1, or runs past the header makes the segment malformed
 * (MUST-7). Returns 0, SF_ETRUNCATED, SF_EMALFORMED or SF_ECHECKSUM. */
int sf_tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst, bool verify,
                 sf_tcp_t *tcp);

/* Bytes the options in `opt` take on the wire, padded to a multiple of 4. */
size_t sf_tcp_opts_len(const sf_tcp_opts_t *opt);

/* Writes header + options + payload to buf and fills in the checksum
 * (computed while the payload is copied). Options are written in the order
 * MSS, SACK-permitted, timestamps, window scale, SACK blocks, NOP-aligned,
 * padded with EOL/zero bytes (MUST-69). tcp->hdr_len/payload_* are ignored.
 * Returns the segment length, or SF_ENOBUFS / SF_EINVAL (options > 40 bytes). */
int sf_tcp_emit(const sf_tcp_t *tcp, uint32_t src, uint32_t dst, const uint8_t *payload,
                size_t payload_len, uint8_t *buf, size_t cap);

/* Like sf_tcp_emit, but with `csum_partial` the checksum field gets only
 * the folded pseudo-header sum (not complemented) and the data is not
 * summed: a link with checksum offload (virtio-net NEEDS_CSUM, csum_start
 * at the TCP header, csum_offset 16) completes it. */
int sf_tcp_emit_ex(const sf_tcp_t *tcp, uint32_t src, uint32_t dst, const uint8_t *payload,
                   size_t payload_len, uint8_t *buf, size_t cap, bool csum_partial);

/* Completes the TCP checksum of the IPv4 datagram frame[0..len) in place
 * (after a link handed it over with only the pseudo-header sum filled, or
 * before one that does not take partial checksums). Returns 0, or
 * SF_EINVAL when the frame is not an unfragmented IPv4 TCP datagram. */
int sf_tcp_csum_fill(uint8_t *frame, size_t len);

/* What a link with offloads (the virtio-net header of a TUN device) says
 * about one datagram, beside its bytes. Zeroed: a plain datagram. */
typedef struct sf_offload {
	uint16_t gso_size; /* TCP payload bytes per segment on the wire; 0: one segment */
	uint16_t segs;     /* segments the datagram stands for (0 or 1: one) */
	bool csum_partial; /* the TCP checksum holds only the pseudo-header sum:
	                      whoever puts it on a wire completes it; input: unverified
	                      and not to be verified (the kernel's own data) */
	bool csum_valid;   /* input: the link verified the checksums already */
} sf_offload_t;

/* Segment length in sequence space: payload + SYN + FIN (RFC 9293 §3.4). */
static inline uint32_t sf_tcp_seg_len(const sf_tcp_t *t)
{
	return t->payload_len + !!(t->flags & SF_TCP_SYN) + !!(t->flags & SF_TCP_FIN);
}

/* "S", "S.", "P.", "F.", "R", ... as tcpdump prints flags; needs 9 bytes. */
char *sf_tcp_flags_str(uint8_t flags, char buf[9]);

/* One tcpdump-style line for a segment, e.g.
 *   192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq 1000, win 64240,
 *   options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
 * (on one line). seq/ack are printed relative to seq_base/ack_base when
 * `relative` is true (tcpdump prints absolute numbers on SYNs).
 * Returns the length it would write (snprintf semantics). */
int sf_tcp_format(char *buf, size_t cap, const sf_ipv4_t *ip, const sf_tcp_t *tcp, bool relative,
                  uint32_t seq_base, uint32_t ack_base);

/* ---- ICMP (RFC 792, RFC 1191) ---- */

#define SF_ICMP_ECHO_REPLY    0
#define SF_ICMP_UNREACH       3
#define SF_ICMP_SOURCE_QUENCH 4
#define SF_ICMP_ECHO          8
#define SF_ICMP_TIME_EXCEEDED 11
#define SF_ICMP_PARAM_PROBLEM 12

#define SF_ICMP_UNREACH_NET      0
#define SF_ICMP_UNREACH_HOST     1
#define SF_ICMP_UNREACH_PROTO    2
#define SF_ICMP_UNREACH_PORT     3
#define SF_ICMP_UNREACH_NEEDFRAG 4
#define SF_ICMP_UNREACH_SRCFAIL  5

#define SF_ICMP_HDR_LEN 8

typedef struct sf_icmp {
	uint8_t type, code;
	uint16_t id, seq;  /* echo request/reply */
	uint16_t mtu;      /* next-hop MTU of unreachable/fragmentation-needed */
	uint16_t data_off; /* offset of the data (echo payload or quote) */
	uint16_t data_len;
	/* Error messages (unreachable, source quench, time exceeded, parameter
	 * problem) quote the offending datagram: its IP header plus at least the
	 * first 8 bytes of its payload. has_quote tells whether that parsed. */
	bool has_quote;
	sf_ipv4_t q_ip;
	uint16_t q_sport, q_dport; /* first 4 bytes of the quoted payload */
	uint32_t q_seq;            /* bytes 4..7 (the TCP sequence number) */
} sf_icmp_t;

/* Parses an ICMP message msg[0..len) (the IP payload), checksum verified.
 * A quote that does not parse leaves has_quote false; it does not make the
 * message malformed. Returns 0, SF_ETRUNCATED or SF_ECHECKSUM. */
int sf_icmp_parse(const uint8_t *msg, size_t len, sf_icmp_t *icmp);

/* Writes an ICMP message: the 8-byte header from `icmp` (id/seq for echo,
 * mtu for fragmentation-needed) followed by `data` (echo payload, or the
 * quoted datagram for errors), checksum included. Other repr fields are
 * ignored. Returns the message length or SF_ENOBUFS. */
int sf_icmp_emit(const sf_icmp_t *icmp, const uint8_t *data, size_t data_len, uint8_t *buf,
                 size_t cap);

#ifdef __cplusplus
}
#endif
#endif
