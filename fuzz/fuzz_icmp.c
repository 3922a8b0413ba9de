/* Fuzz target for the ICMP codec (sf_icmp_parse / sf_icmp_emit).
 *
 * Input: one ICMP message (an IP payload). Oracles, each abort()s on a
 * mismatch:
 *  - the checksum verdict agrees with a naive reference sum (RFC 792);
 *  - an accepted message keeps its promises (data_off/data_len inside it,
 *    quoted ports and sequence number read from the quote);
 *  - round trip: the repr emitted with sf_icmp_emit and the same data parses
 *    back to the same repr, quote included.
 * Fuzzer convenience: a checksum field of 0 is replaced by the right checksum
 * before parsing (and so is a zero header checksum of a quoted IPv4 header),
 * so mutated messages reach the quote parser; other values are kept.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synfin/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static bool ref_csum_ok(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static bool is_echo(uint8_t type)
{
	return type == SF_ICMP_ECHO || type == SF_ICMP_ECHO_REPLY;
}

static void check_same_ip(const sf_ipv4_t *a, const sf_ipv4_t *b)
{
	CHECK(a->src == b->src && a->dst == b->dst && a->proto == b->proto);
	CHECK(a->ttl == b->ttl && a->dscp == b->dscp && a->ecn == b->ecn && a->id == b->id);
	CHECK(a->df == b->df && a->mf == b->mf && a->frag_off == b->frag_off);
	CHECK(a->hdr_len == b->hdr_len && a->total_len == b->total_len);
}

static void check_same_icmp(const sf_icmp_t *a, const sf_icmp_t *b)
{
	CHECK(a->type == b->type && a->code == b->code);
	CHECK(a->id == b->id && a->seq == b->seq && a->mtu == b->mtu);
	CHECK(a->data_off == b->data_off && a->data_len == b->data_len);
	CHECK(a->has_quote == b->has_quote);
	if (a->has_quote) {
		check_same_ip(&a->q_ip, &b->q_ip);
		CHECK(a->q_sport == b->q_sport && a->q_dport == b->q_dport);
		CHECK(a->q_seq == b->q_seq);
	}
}

static uint8_t out[65536];

static int run(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	/* An exact-size copy, so ASan still sees reads past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	memcpy(buf, in, size);
	if (size >= SF_ICMP_HDR_LEN + SF_IPV4_HDR_LEN) {
		uint8_t *q = buf + SF_ICMP_HDR_LEN;
		size_t hl = (size_t)(q[0] & 0xf) * 4;
		if (q[10] == 0 && q[11] == 0 && hl >= SF_IPV4_HDR_LEN &&
		    hl <= size - SF_ICMP_HDR_LEN)
			sf_put16(q + 10, sf_csum(q, hl));
	}
	if (size >= SF_ICMP_HDR_LEN && buf[2] == 0 && buf[3] == 0)
		sf_put16(buf + 2, sf_csum(buf, size));
	int rc = run(buf, size);
	free(buf);
	return rc;
}

static int run(const uint8_t *data, size_t size)
{
	sf_icmp_t icmp;
	int rc = sf_icmp_parse(data, size, &icmp);
	CHECK(rc == 0 || rc == SF_ETRUNCATED || rc == SF_ECHECKSUM || rc == SF_EMALFORMED);
	if (size < SF_ICMP_HDR_LEN)
		CHECK(rc == SF_ETRUNCATED);
	else if (size <= 65535 - SF_IPV4_HDR_LEN)
		CHECK((rc == 0) == ref_csum_ok(data, size));
	if (rc != 0)
		return 0;

	CHECK(icmp.type == data[0] && icmp.code == data[1]);
	CHECK(icmp.data_off == SF_ICMP_HDR_LEN);
	CHECK((size_t)icmp.data_off + icmp.data_len == size);
	if (is_echo(icmp.type)) {
		CHECK(icmp.id == sf_be16(data + 4) && icmp.seq == sf_be16(data + 6));
		CHECK(!icmp.has_quote);
	}
	if (icmp.has_quote) {
		/* The quote holds an IPv4 header and 8 bytes of its payload. */
		const uint8_t *q = data + icmp.data_off;
		CHECK(icmp.data_len >= icmp.q_ip.hdr_len + 8u);
		CHECK(icmp.q_ip.hdr_len >= SF_IPV4_HDR_LEN);
		CHECK(icmp.q_sport == sf_be16(q + icmp.q_ip.hdr_len));
		CHECK(icmp.q_dport == sf_be16(q + icmp.q_ip.hdr_len + 2));
		CHECK(icmp.q_seq == sf_be32(q + icmp.q_ip.hdr_len + 4));
		CHECK(icmp.q_ip.src == sf_be32(q + 12) && icmp.q_ip.dst == sf_be32(q + 16));
	}

	/* Round trip. */
	const uint8_t *payload = data + icmp.data_off;
	int n = sf_icmp_emit(&icmp, payload, icmp.data_len, out,
	                     (size_t)SF_ICMP_HDR_LEN + icmp.data_len - 1);
	CHECK(n == SF_ENOBUFS);
	n = sf_icmp_emit(&icmp, payload, icmp.data_len, out, sizeof out);
	CHECK(n == (int)(SF_ICMP_HDR_LEN + icmp.data_len));
	CHECK(ref_csum_ok(out, (size_t)n));
	CHECK(memcmp(out + SF_ICMP_HDR_LEN, payload, icmp.data_len) == 0);
	sf_icmp_t again;
	CHECK(sf_icmp_parse(out, (size_t)n, &again) == 0);
	check_same_icmp(&icmp, &again);
	return 0;
}
