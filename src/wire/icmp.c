/* ICMP codec (RFC 792, RFC 1191).
 *
 * sf_icmp_parse() verifies the checksum and decodes the 8-byte header: echo
 * id/seq, the next-hop MTU of "fragmentation needed", and, for error
 * messages, the quoted datagram's IP header and first 8 payload bytes, which
 * is what the core needs to find the TCP connection an error is about
 * (RFC 1122 §3.2.2, RFC 5927). sf_icmp_emit() writes a message back.
 */
#include <string.h>

#include "synfin/wire.h"

/* RFC 792: every error message quotes "the internet header + 64 bits of
 * original data datagram". */
#define QUOTE_DATA_LEN 8

static bool is_error_type(uint8_t type)
{
	return type == SF_ICMP_UNREACH || type == SF_ICMP_SOURCE_QUENCH ||
	       type == SF_ICMP_TIME_EXCEEDED || type == SF_ICMP_PARAM_PROBLEM;
}

static bool is_echo_type(uint8_t type)
{
	return type == SF_ICMP_ECHO || type == SF_ICMP_ECHO_REPLY;
}

/* Parses the quote q[0..len) leniently: the quoted header was valid when it
 * was sent, but routers may have rewritten it since (TTL, checksum) and the
 * quote is usually shorter than the datagram, so neither its checksum nor its
 * total length is checked. It needs version 4, IHL >= 5, and the whole header
 * plus 8 payload bytes present. Returns true and fills icmp->q_* if so. */
static bool parse_quote(const uint8_t *q, size_t len, sf_icmp_t *icmp)
{
	if (len < SF_IPV4_HDR_LEN || (q[0] >> 4) != 4)
		return false;
	size_t hl = (size_t)(q[0] & 0x0f) * 4;
	if (hl < SF_IPV4_HDR_LEN || hl + QUOTE_DATA_LEN > len)
		return false;

	sf_ipv4_t *ip = &icmp->q_ip;
	uint16_t frag = sf_be16(q + 6);
	ip->dscp = q[1] >> 2;
	ip->ecn = q[1] & 0x03;
	ip->total_len = sf_be16(q + 2);
	ip->id = sf_be16(q + 4);
	ip->df = (frag & 0x4000u) != 0;
	ip->mf = (frag & 0x2000u) != 0;
	ip->frag_off = (uint16_t)((frag & 0x1fffu) * 8);
	ip->ttl = q[8];
	ip->proto = q[9];
	ip->src = sf_be32(q + 12);
	ip->dst = sf_be32(q + 16);
	ip->hdr_len = (uint16_t)hl;
	icmp->q_sport = sf_be16(q + hl);
	icmp->q_dport = sf_be16(q + hl + 2);
	icmp->q_seq = sf_be32(q + hl + 4);
	return true;
}

int sf_icmp_parse(const uint8_t *msg, size_t len, sf_icmp_t *icmp)
{
	if (len < SF_ICMP_HDR_LEN)
		return SF_ETRUNCATED;
	/* An ICMP message is at most an IP payload (65515 bytes); anything longer
	 * did not come from one, and is SF_EMALFORMED. */
	if (len > 65535 - SF_IPV4_HDR_LEN)
		return SF_EMALFORMED;
	/* RFC 792: the checksum covers the whole message. */
	if (sf_csum(msg, len) != 0)
		return SF_ECHECKSUM;

	sf_icmp_t m;
	memset(&m, 0, sizeof m);
	m.type = msg[0];
	m.code = msg[1];
	m.data_off = SF_ICMP_HDR_LEN;
	m.data_len = (uint16_t)(len - SF_ICMP_HDR_LEN);
	if (is_echo_type(m.type)) {
		m.id = sf_be16(msg + 4);
		m.seq = sf_be16(msg + 6);
	} else if (is_error_type(m.type)) {
		/* RFC 1191 §4: the next-hop MTU is the low 16 bits of the unused
		 * field of "fragmentation needed and DF set"; 0 from old routers. */
		if (m.type == SF_ICMP_UNREACH && m.code == SF_ICMP_UNREACH_NEEDFRAG)
			m.mtu = sf_be16(msg + 6);
		m.has_quote = parse_quote(msg + SF_ICMP_HDR_LEN, m.data_len, &m);
	}
	*icmp = m;
	return 0;
}

/* Messages longer than an IP payload can carry are SF_EINVAL. `data` may be
 * exactly buf + SF_ICMP_HDR_LEN (e.g. turning an echo request into a reply
 * in place); otherwise it must not overlap buf. */
int sf_icmp_emit(const sf_icmp_t *icmp, const uint8_t *data, size_t data_len, uint8_t *buf,
                 size_t cap)
{
	if (data_len > 65535 - SF_IPV4_HDR_LEN - SF_ICMP_HDR_LEN)
		return SF_EINVAL;
	size_t len = SF_ICMP_HDR_LEN + data_len;
	if (cap < len)
		return SF_ENOBUFS;

	buf[0] = icmp->type;
	buf[1] = icmp->code;
	sf_put16(buf + 2, 0);
	sf_put32(buf + 4, 0);
	if (is_echo_type(icmp->type)) {
		sf_put16(buf + 4, icmp->id);
		sf_put16(buf + 6, icmp->seq);
	} else if (icmp->type == SF_ICMP_UNREACH && icmp->code == SF_ICMP_UNREACH_NEEDFRAG) {
		sf_put16(buf + 6, icmp->mtu); /* RFC 1191 §4 */
	}

	uint64_t sum = sf_csum_add(0, buf, SF_ICMP_HDR_LEN);
	if (data == buf + SF_ICMP_HDR_LEN)
		sum = sf_csum_add(sum, data, data_len);
	else
		sum = sf_csum_copy(sum, buf + SF_ICMP_HDR_LEN, data, data_len);
	sf_put16(buf + 2, sf_csum_fold(sum));
	return (int)len;
}
