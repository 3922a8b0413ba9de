/* IPv4 header codec (RFC 791) and address helpers.
 *
 * sf_ipv4_parse() validates a received header once and yields a host-order
 * sf_ipv4_t; sf_ipv4_emit() writes a 20-byte header without options. Options
 * are skipped, never interpreted. Fragments are recognised here but not
 * reassembled (that is the core's decision). The address helpers classify
 * addresses that must never be a TCP peer and convert dotted quads.
 */
#include <string.h>

#include "synfin/wire.h"

#define IP_FLAG_DF   0x4000u
#define IP_FLAG_MF   0x2000u
#define IP_FRAG_MASK 0x1fffu
#define IP_MAX_LEN   65535u

/* Paths that buy speed with code size are left out of builds optimised
 * for size (-Os: the firmware build, bench/footprint.sh), which take the
 * general path; both give the same bytes. */
#if defined(__OPTIMIZE_SIZE__)
#define FAST_PATHS 0
#else
#define FAST_PATHS 1
#endif

/* The RFC 1071 sum of a 20-byte header without options (nearly every
 * datagram), folded to 16 bits in native byte order: five 32-bit words
 * into a 64-bit accumulator, no carry to track. Stored as it is (native
 * order), ~sum is the header checksum in network order, since the one's
 * complement sum is byte-order independent (RFC 1071 §2(B)); a header
 * that checks sums to 0xffff in either order. */
static uint32_t hdr20_sum(const uint8_t *b)
{
	uint32_t w[5];
	memcpy(w, b, sizeof w);
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]; /* < 2^35 */
	s = (s & 0xffffffffu) + (s >> 32);                       /* < 2^33 */
	s = (s & 0xffffu) + (s >> 16);                           /* < 2^18 */
	s = (s & 0xffffu) + (s >> 16);                           /* < 2^16 + 4 */
	s = (s & 0xffffu) + (s >> 16);                           /* <= 0xffff */
	return (uint32_t)s;
}

int sf_ipv4_parse(const uint8_t *buf, size_t len, sf_ipv4_t *ip)
{
	if (len < SF_IPV4_HDR_LEN)
		return SF_ETRUNCATED;
	if ((buf[0] >> 4) != 4)
		return SF_EMALFORMED;
	size_t hdr_len = (size_t)(buf[0] & 0x0f) * 4;
	if (hdr_len < SF_IPV4_HDR_LEN)
		return SF_EMALFORMED;
	if (hdr_len > len)
		return SF_ETRUNCATED;
	/* RFC 791 §3.1 / RFC 1122 §3.2.1.2: a datagram whose header checksum
	 * fails is discarded. Checked before total_len is trusted. */
	if (FAST_PATHS && hdr_len == SF_IPV4_HDR_LEN ? hdr20_sum(buf) != 0xffffu
	                                             : sf_csum(buf, hdr_len) != 0)
		return SF_ECHECKSUM;
	size_t total_len = sf_be16(buf + 2);
	if (total_len < hdr_len)
		return SF_EMALFORMED;
	/* Bytes past total_len (link-layer padding) are not ours; bytes missing
	 * before it mean the datagram was cut short. */
	if (total_len > len)
		return SF_ETRUNCATED;

	uint16_t frag = sf_be16(buf + 6);
	ip->dscp = buf[1] >> 2;
	ip->ecn = buf[1] & 0x03;
	ip->id = sf_be16(buf + 4);
	/* RFC 791 §3.1: bit 0 of the flags is reserved; it is ignored on input. */
	ip->df = (frag & IP_FLAG_DF) != 0;
	ip->mf = (frag & IP_FLAG_MF) != 0;
	ip->frag_off = (uint16_t)((frag & IP_FRAG_MASK) * 8);
	ip->ttl = buf[8];
	ip->proto = buf[9];
	ip->src = sf_be32(buf + 12);
	ip->dst = sf_be32(buf + 16);
	ip->hdr_len = (uint16_t)hdr_len;
	ip->total_len = (uint16_t)total_len;
	return 0;
}

/* Besides the documented payload check, a frag_off that is not a multiple of
 * 8 (or exceeds the 13-bit field), dscp > 63 or ecn > 3 is SF_EINVAL rather
 * than being silently truncated. */
int sf_ipv4_emit(const sf_ipv4_t *ip, size_t payload_len, uint8_t *buf, size_t cap)
{
	if (payload_len > IP_MAX_LEN - SF_IPV4_HDR_LEN)
		return SF_EINVAL;
	if ((ip->frag_off & 7) != 0 || ip->dscp > 63 || ip->ecn > 3)
		return SF_EINVAL;
	if (cap < SF_IPV4_HDR_LEN)
		return SF_ENOBUFS;

	uint16_t frag = (uint16_t)(ip->frag_off / 8);
	if (ip->df)
		frag |= IP_FLAG_DF;
	if (ip->mf)
		frag |= IP_FLAG_MF;
	uint16_t w0 = (uint16_t)(0x4500u | (unsigned)(ip->dscp << 2 | ip->ecn)); /* v4, IHL 5 */
	uint16_t total = (uint16_t)(SF_IPV4_HDR_LEN + payload_len);
	uint16_t w4 = (uint16_t)(ip->ttl << 8 | ip->proto);
	sf_put16(buf, w0);
	sf_put16(buf + 2, total);
	sf_put16(buf + 4, ip->id);
	sf_put16(buf + 6, frag);
	sf_put16(buf + 8, w4);
	sf_put32(buf + 12, ip->src);
	sf_put32(buf + 16, ip->dst);
	/* The sum of the header's 16-bit words (RFC 1071), taken from the
	 * values rather than read back from the bytes just stored (loads
	 * spanning several narrow stores stall the CPU). */
	if (!FAST_PATHS) {
		sf_put16(buf + 10, 0);
		sf_put16(buf + 10, sf_csum(buf, SF_IPV4_HDR_LEN));
		return SF_IPV4_HDR_LEN;
	}
	uint32_t sum = (uint32_t)w0 + total + ip->id + frag + w4 + (ip->src >> 16) +
	               (ip->src & 0xffffu) + (ip->dst >> 16) + (ip->dst & 0xffffu);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	sf_put16(buf + 10, (uint16_t)~sum);
	return SF_IPV4_HDR_LEN;
}

/* Besides the classes named in wire.h, loopback 127/8 is special too:
 * RFC 1122 §3.2.1.3(g) says such addresses MUST NOT appear outside a host,
 * so one arriving from (or bound for) the link is never a valid peer.
 * Directed broadcast, RFC 1122 §3.2.1.3(c..e) and §3.3.6: within the local
 * prefix, a host part of all ones, and also of all zeros (the 4.2BSD form a
 * host SHOULD recognise as broadcast). Prefixes /31 (RFC 3021) and /32 have
 * no broadcast address; prefix_len outside 0..32 disables the test too. */
bool sf_ipv4_addr_is_special(uint32_t addr, uint32_t local, int prefix_len)
{
	uint8_t first = (uint8_t)(addr >> 24);
	if (first == 0) /* RFC 1122 §3.2.1.3(a,b): "this network" */
		return true;
	if (first == 127) /* RFC 1122 §3.2.1.3(g): loopback */
		return true;
	if (first >= 224) /* multicast 224/4, class E 240/4, 255.255.255.255 */
		return true;
	if (prefix_len >= 0 && prefix_len <= 30) {
		uint32_t mask = prefix_len == 0 ? 0 : ~(uint32_t)0 << (32 - prefix_len);
		if ((addr & mask) == (local & mask)) {
			uint32_t host = addr & ~mask;
			if (host == ~mask || host == 0)
				return true;
		}
	}
	return false;
}

/* Strict dotted quad, as inet_pton(AF_INET): exactly four decimal parts of
 * 1..3 digits, each 0..255, no leading zeros, nothing before or after. */
int sf_ipv4_addr_parse(const char *s, uint32_t *addr)
{
	if (s == NULL || addr == NULL)
		return SF_EINVAL;
	uint32_t a = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (*s != '.')
				return SF_EINVAL;
			s++;
		}
		if (*s < '0' || *s > '9')
			return SF_EINVAL;
		unsigned v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			if (digits == 1 && v == 0)
				return SF_EINVAL; /* leading zero */
			v = v * 10 + (unsigned)(*s - '0');
			if (v > 255)
				return SF_EINVAL;
			digits++;
			s++;
		}
		a = a << 8 | v;
	}
	if (*s != '\0')
		return SF_EINVAL;
	*addr = a;
	return 0;
}

char *sf_ipv4_addr_str(uint32_t addr, char buf[16])
{
	char *p = buf;
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned v = (addr >> shift) & 0xffu;
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		if (shift > 0)
			*p++ = '.';
	}
	*p = '\0';
	return buf;
}
