/* Fuzz target for the IPv4 codec (sf_ipv4_parse / sf_ipv4_emit) and the
 * address helpers; an accepted datagram's payload goes on to the TCP or ICMP
 * parser as the stack's input path would send it.
 *
 * Input: one IPv4 datagram. Oracles, each abort()s on a mismatch:
 *  - the header checksum verdict agrees with a naive reference sum;
 *  - an accepted header keeps its promises (hdr_len, total_len <= len,
 *    fragment offset a multiple of 8), and any shorter prefix of the datagram
 *    is SF_ETRUNCATED (RFC 791: total length counts the whole datagram);
 *  - round trip: the repr emitted with sf_ipv4_emit parses back to the same
 *    fields (options dropped, so hdr_len 20);
 *  - the source address prints and parses back to itself.
 * Fuzzer convenience: a header checksum field of 0 is replaced by the right
 * checksum before parsing, so mutated headers get past the check and reach
 * the deeper paths (the transport parsers); any other value is kept.
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

/* Fills in a zero header checksum (see the file comment). */
static void repair_checksum(uint8_t *buf, size_t size)
{
	if (size < SF_IPV4_HDR_LEN || buf[10] != 0 || buf[11] != 0)
		return;
	size_t hl = (size_t)(buf[0] & 0xf) * 4;
	if (hl < SF_IPV4_HDR_LEN || hl > size)
		return;
	sf_put16(buf + 10, sf_csum(buf, hl));
}

static int run(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	/* An exact-size copy, so ASan still sees reads past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	memcpy(buf, in, size);
	repair_checksum(buf, size);
	int rc = run(buf, size);
	free(buf);
	return rc;
}

static int run(const uint8_t *data, size_t size)
{
	sf_ipv4_t ip;
	int rc = sf_ipv4_parse(data, size, &ip);
	CHECK(rc == 0 || rc == SF_ETRUNCATED || rc == SF_EMALFORMED || rc == SF_ECHECKSUM);
	if (size >= SF_IPV4_HDR_LEN && (data[0] >> 4) == 4 && (data[0] & 0xf) >= 5 &&
	    (size_t)(data[0] & 0xf) * 4 <= size) {
		/* A complete header of the right version: the checksum decides. */
		bool ok = ref_csum_ok(data, (size_t)(data[0] & 0xf) * 4);
		CHECK((rc == SF_ECHECKSUM) == !ok);
	} else {
		CHECK(rc != 0 && rc != SF_ECHECKSUM);
	}
	if (rc != 0)
		return 0;

	CHECK(ip.hdr_len >= SF_IPV4_HDR_LEN && ip.hdr_len <= 60 && ip.hdr_len % 4 == 0);
	CHECK(ip.hdr_len == (data[0] & 0xf) * 4);
	CHECK(ip.total_len >= ip.hdr_len && ip.total_len <= size);
	CHECK(ip.total_len == sf_be16(data + 2));
	CHECK(ip.frag_off % 8 == 0);
	CHECK(ip.dscp < 64 && ip.ecn < 4);
	CHECK(ip.src == sf_be32(data + 12) && ip.dst == sf_be32(data + 16));
	CHECK(ip.proto == data[9] && ip.ttl == data[8]);
	CHECK(sf_ipv4_is_fragment(&ip) == (ip.mf || ip.frag_off != 0));

	/* Every prefix that cuts into the datagram is partial input. */
	sf_ipv4_t cut;
	CHECK(sf_ipv4_parse(data, ip.total_len - 1u, &cut) == SF_ETRUNCATED);
	if (ip.hdr_len > SF_IPV4_HDR_LEN)
		CHECK(sf_ipv4_parse(data, ip.hdr_len - 1u, &cut) == SF_ETRUNCATED);

	/* Round trip: 20-byte header + the same payload length. */
	size_t payload_len = (size_t)ip.total_len - ip.hdr_len;
	uint8_t hdr[SF_IPV4_HDR_LEN];
	CHECK(sf_ipv4_emit(&ip, payload_len, hdr, sizeof hdr - 1) == SF_ENOBUFS);
	CHECK(sf_ipv4_emit(&ip, payload_len, hdr, sizeof hdr) == SF_IPV4_HDR_LEN);
	uint8_t *dgram = malloc(SF_IPV4_HDR_LEN + payload_len);
	CHECK(dgram != NULL);
	memcpy(dgram, hdr, sizeof hdr);
	memcpy(dgram + SF_IPV4_HDR_LEN, data + ip.hdr_len, payload_len);
	sf_ipv4_t again;
	CHECK(sf_ipv4_parse(dgram, SF_IPV4_HDR_LEN + payload_len, &again) == 0);
	CHECK(ref_csum_ok(dgram, SF_IPV4_HDR_LEN));
	free(dgram);
	CHECK(again.src == ip.src && again.dst == ip.dst && again.proto == ip.proto);
	CHECK(again.ttl == ip.ttl && again.dscp == ip.dscp && again.ecn == ip.ecn);
	CHECK(again.id == ip.id && again.df == ip.df && again.mf == ip.mf);
	CHECK(again.frag_off == ip.frag_off);
	CHECK(again.hdr_len == SF_IPV4_HDR_LEN);
	CHECK(again.total_len == SF_IPV4_HDR_LEN + payload_len);

	/* Address text round trip. */
	char s[16];
	uint32_t back = 0;
	CHECK(sf_ipv4_addr_str(ip.src, s) == s);
	CHECK(strlen(s) >= 7 && strlen(s) <= 15);
	CHECK(sf_ipv4_addr_parse(s, &back) == 0 && back == ip.src);
	(void)sf_ipv4_addr_is_special(ip.src, ip.dst, data[1] % 33);

	/* On to the transport, as the stack would (first fragments only). */
	const uint8_t *payload = data + ip.hdr_len;
	if (ip.frag_off == 0 && !ip.mf) {
		if (ip.proto == SF_IP_PROTO_TCP) {
			sf_tcp_t tcp;
			int r = sf_tcp_parse(payload, payload_len, ip.src, ip.dst, true, &tcp);
			CHECK(r == 0 || r == SF_ETRUNCATED || r == SF_EMALFORMED ||
			      r == SF_ECHECKSUM);
		} else if (ip.proto == SF_IP_PROTO_ICMP) {
			sf_icmp_t icmp;
			int r = sf_icmp_parse(payload, payload_len, &icmp);
			CHECK(r == 0 || r == SF_ETRUNCATED || r == SF_ECHECKSUM);
		}
	}
	return 0;
}
