/* Fuzz target for the TCP codec (sf_tcp_parse / sf_tcp_emit).
 *
 * Input: 4 bytes source address, 4 bytes destination address, then the
 * segment. Oracles, each abort()s on a mismatch:
 *  - checksum: parsing with verify=true succeeds exactly when parsing with
 *    verify=false succeeds and a byte-by-byte reference sum over the
 *    pseudo-header and segment is 0xffff (RFC 9293 §3.1); with verify=true the
 *    result is either the verify=false result or SF_ECHECKSUM;
 *  - the two parses agree on every field when both succeed;
 *  - the options agree with an independent reference walk of the option
 *    list, and the verdict (truncated / malformed / ok) with the header;
 *  - every accepted segment keeps its fields in range (hdr_len, payload);
 *  - round trip: the parsed repr, emitted with sf_tcp_emit, parses back
 *    (checksum verified) to the same repr, field by field, with the same
 *    payload bytes; emit refuses (SF_EINVAL) only when the options do not fit
 *    the 40 bytes in our aligned layout.
 * Fuzzer convenience: a checksum field of 0 is replaced by the right checksum
 * before parsing, so mutated segments pass verification and reach the option
 * parser with verify=true too; any other value is kept.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synfin/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* The RFC 1071 sum, one 16-bit word at a time: deliberately naive, unlike
 * the 64-bit sf_csum_add it checks. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static bool ref_tcp_csum_ok(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	uint8_t pseudo[12];
	sf_put32(pseudo, src);
	sf_put32(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = SF_IP_PROTO_TCP;
	sf_put16(pseudo + 10, (uint16_t)len);
	uint32_t sum = ref_sum(0, pseudo, sizeof pseudo);
	sum = ref_sum(sum, seg, len);
	return sum == 0xffff;
}

static void check_same_opts(const sf_tcp_opts_t *a, const sf_tcp_opts_t *b)
{
	CHECK(a->has_mss == b->has_mss);
	CHECK(a->has_wscale == b->has_wscale);
	CHECK(a->sack_perm == b->sack_perm);
	CHECK(a->has_ts == b->has_ts);
	CHECK(a->mss == b->mss);
	CHECK(a->wscale == b->wscale);
	CHECK(a->ts_val == b->ts_val);
	CHECK(a->ts_ecr == b->ts_ecr);
	CHECK(a->sack_cnt == b->sack_cnt);
	for (unsigned i = 0; i < a->sack_cnt && i < SF_TCP_MAX_SACK; i++) {
		CHECK(a->sack[i].left == b->sack[i].left);
		CHECK(a->sack[i].right == b->sack[i].right);
	}
}

/* Header fields and options; hdr_len/payload_off are compared by the caller
 * where they must agree. */
static void check_same_tcp(const sf_tcp_t *a, const sf_tcp_t *b)
{
	CHECK(a->sport == b->sport);
	CHECK(a->dport == b->dport);
	CHECK(a->seq == b->seq);
	CHECK(a->ack == b->ack);
	CHECK(a->flags == b->flags);
	CHECK(a->reserved == b->reserved);
	CHECK(a->wnd == b->wnd);
	CHECK(a->urg == b->urg);
	CHECK(a->payload_len == b->payload_len);
	check_same_opts(&a->opt, &b->opt);
}

/* A second, independent reading of the option list (RFC 9293 §3.2, RFC 7323,
 * RFC 2018) with the rules of wire.h: EOL ends the list, NOP is one byte, a
 * length of 0 or 1 or one that runs past the header is malformed; a known
 * option with the wrong length is skipped (as Linux does); a later copy of an
 * option overrides an earlier one; SACK keeps its first 4 blocks. Returns 0 or
 * SF_EMALFORMED. */
static int ref_options(const uint8_t *hdr, size_t hdr_len, sf_tcp_opts_t *o)
{
	memset(o, 0, sizeof *o);
	size_t i = SF_TCP_HDR_LEN;
	while (i < hdr_len) {
		const uint8_t *p = hdr + i;
		if (p[0] == SF_TCPOPT_EOL)
			return 0;
		if (p[0] == SF_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hdr_len || p[1] < 2 || i + p[1] > hdr_len)
			return SF_EMALFORMED;
		size_t n = p[1];
		if (p[0] == SF_TCPOPT_MSS && n == 4) {
			o->has_mss = true;
			o->mss = sf_be16(p + 2);
		} else if (p[0] == SF_TCPOPT_WSCALE && n == 3) {
			o->has_wscale = true;
			o->wscale = p[2];
		} else if (p[0] == SF_TCPOPT_SACK_PERM && n == 2) {
			o->sack_perm = true;
		} else if (p[0] == SF_TCPOPT_TS && n == 10) {
			o->has_ts = true;
			o->ts_val = sf_be32(p + 2);
			o->ts_ecr = sf_be32(p + 6);
		} else if (p[0] == SF_TCPOPT_SACK && n >= 10 && (n - 2) % 8 == 0) {
			size_t blocks = (n - 2) / 8;
			o->sack_cnt =
			        (uint8_t)(blocks < SF_TCP_MAX_SACK ? blocks : SF_TCP_MAX_SACK);
			memset(o->sack, 0, sizeof o->sack);
			for (size_t b = 0; b < o->sack_cnt; b++) {
				o->sack[b].left = sf_be32(p + 2 + 8 * b);
				o->sack[b].right = sf_be32(p + 6 + 8 * b);
			}
		}
		i += n;
	}
	return 0;
}

static uint8_t out[65536 + 64];

static int run(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint32_t src = sf_be32(data), dst = sf_be32(data + 4);
	size_t len = size - 8;
	/* An exact-size copy, so ASan still sees reads past the end. */
	uint8_t *seg = malloc(len ? len : 1);
	CHECK(seg != NULL);
	memcpy(seg, data + 8, len);
	if (len >= SF_TCP_HDR_LEN && len <= UINT16_MAX && seg[16] == 0 && seg[17] == 0) {
		uint64_t sum = sf_csum_pseudo(src, dst, SF_IP_PROTO_TCP, (uint16_t)len);
		sf_put16(seg + 16, sf_csum_fold(sf_csum_add(sum, seg, len)));
	}
	int rc = run(seg, len, src, dst);
	free(seg);
	return rc;
}

static int run(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	sf_tcp_t loose, strict;
	int rc_loose = sf_tcp_parse(seg, len, src, dst, false, &loose);
	int rc_strict = sf_tcp_parse(seg, len, src, dst, true, &strict);
	CHECK(rc_loose == 0 || rc_loose == SF_ETRUNCATED || rc_loose == SF_EMALFORMED);
	CHECK(rc_strict == rc_loose || rc_strict == SF_ECHECKSUM);
	/* The header's fixed part decides truncated/malformed; then the options. */
	if (len < SF_TCP_HDR_LEN) {
		CHECK(rc_loose == SF_ETRUNCATED);
		return 0;
	}
	size_t doff = (size_t)(seg[12] >> 4) * 4;
	if (doff < SF_TCP_HDR_LEN || doff > len) {
		CHECK(rc_loose == SF_EMALFORMED);
		return 0;
	}
	sf_tcp_opts_t ref;
	int rc_ref = ref_options(seg, doff, &ref);
	CHECK(rc_loose == rc_ref);
	if (rc_loose != 0)
		return 0;
	check_same_opts(&loose.opt, &ref);
	bool sum_ok = ref_tcp_csum_ok(seg, len, src, dst);
	CHECK((rc_strict == 0) == sum_ok);
	if (rc_strict == 0) {
		check_same_tcp(&loose, &strict);
		CHECK(loose.hdr_len == strict.hdr_len);
	}

	/* Accepted input keeps its promises. */
	CHECK(loose.hdr_len >= SF_TCP_HDR_LEN && loose.hdr_len <= SF_TCP_HDR_LEN + 40);
	CHECK(loose.hdr_len % 4 == 0);
	CHECK(loose.payload_off == loose.hdr_len);
	CHECK((size_t)loose.payload_off + loose.payload_len == len);
	CHECK(loose.opt.sack_cnt <= SF_TCP_MAX_SACK);
	CHECK(loose.hdr_len == (seg[12] >> 4) * 4);

	/* Round trip through the emitter. */
	const uint8_t *payload = seg + loose.payload_off;
	int n = sf_tcp_emit(&loose, src, dst, payload, loose.payload_len, out, sizeof out);
	size_t opts_len = sf_tcp_opts_len(&loose.opt);
	CHECK(opts_len % 4 == 0);
	if (n == SF_EINVAL) {
		CHECK(opts_len > SF_TCP_MAX_OPT_LEN);
		return 0;
	}
	CHECK(opts_len <= SF_TCP_MAX_OPT_LEN);
	CHECK(n == (int)(SF_TCP_HDR_LEN + opts_len + loose.payload_len));

	/* A buffer one byte short is refused, not overrun. */
	CHECK(sf_tcp_emit(&loose, src, dst, payload, loose.payload_len, out, (size_t)n - 1) ==
	      SF_ENOBUFS);
	n = sf_tcp_emit(&loose, src, dst, payload, loose.payload_len, out, sizeof out);

	sf_tcp_t again;
	CHECK(sf_tcp_parse(out, (size_t)n, src, dst, true, &again) == 0);
	CHECK(ref_tcp_csum_ok(out, (size_t)n, src, dst));
	check_same_tcp(&loose, &again);
	CHECK(again.hdr_len == SF_TCP_HDR_LEN + opts_len);
	CHECK(memcmp(out + again.payload_off, payload, loose.payload_len) == 0);
	/* Same addresses the other way round: the pseudo-header sum is
	 * symmetric in src/dst, so this must verify too. */
	CHECK(sf_tcp_parse(out, (size_t)n, dst, src, true, &again) == 0);

	/* The emitter's output is canonical: emitting it again gives the same
	 * bytes. */
	static uint8_t out2[sizeof out];
	int n2 = sf_tcp_emit(&again, src, dst, out + again.payload_off, again.payload_len, out2,
	                     sizeof out2);
	CHECK(n2 == n && memcmp(out, out2, (size_t)n) == 0);

	/* The printers never write past their buffer and agree on length. */
	char flags[9];
	sf_tcp_flags_str(loose.flags, flags);
	CHECK(strlen(flags) >= 1 && strlen(flags) <= 8);
	sf_ipv4_t ip = {.src = src, .dst = dst, .proto = SF_IP_PROTO_TCP};
	char line[64];
	int want = sf_tcp_format(line, sizeof line, &ip, &loose, false, 0, 0);
	CHECK(want >= 0 &&
	      strlen(line) == ((size_t)want < sizeof line ? (size_t)want : sizeof line - 1));
	return 0;
}
