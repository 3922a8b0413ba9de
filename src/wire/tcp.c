/* TCP header codec: parse a segment into sf_tcp_t, emit sf_tcp_t back to
 * bytes, and print a segment the way tcpdump does.
 *
 * Pure functions (no state, no allocation, no stdio). The option layout on
 * emit is decided once, as a list of option "slots" (plan_options), and that
 * one list drives sf_tcp_emit and sf_tcp_format, so the printed options are
 * always exactly the bytes we would put on the wire (sf_tcp_opts_len and
 * emit's timestamps-only fast path follow the same layout by arithmetic;
 * tests/unit/test_tcp.c checks they agree).
 * The layout is the one Linux uses (tcp_options_write): every option sits on
 * a 4-byte boundary thanks to NOPs, e.g. a SYN carries
 *   MSS(4) SACK-permitted(2) TS(10) NOP WS(3)            = 20 bytes
 * and an established segment NOP NOP TS(10) [NOP NOP SACK(2+8n)].
 */
#include <string.h>

#include "synfin/wire.h"

/* Option lengths (RFC 9293 §3.2, RFC 7323 §2.2/§3.2, RFC 2018 §2/§3). */
#define MSS_LEN        4
#define WSCALE_LEN     3
#define SACK_PERM_LEN  2
#define TS_LEN         10
#define SACK_BASE_LEN  2
#define SACK_BLOCK_LEN 8

/* Paths that buy speed with code size are left out of builds optimised
 * for size (-Os: the firmware build, bench/footprint.sh), which take the
 * general path; both give the same bytes. */
#if defined(__OPTIMIZE_SIZE__)
#define FAST_PATHS 0
#else
#define FAST_PATHS 1
#endif

/* ---- parse ---- */

/* Reads one option whose kind/length byte have been checked to lie inside
 * the header. A known option with a length other than its defined one is
 * ignored (skipped by its length), as Linux does (tcp_parse_options): RFC 9293
 * MUST-7 asks a receiver to cope with an illegal option length, and only a
 * length that breaks the option walk (0, 1, past the header) is fatal. */
static void read_option(const uint8_t *o, uint8_t olen, sf_tcp_opts_t *opt)
{
	switch (o[0]) {
	case SF_TCPOPT_MSS: /* RFC 9293 §3.2 */
		if (olen == MSS_LEN) {
			opt->has_mss = true;
			opt->mss = sf_be16(o + 2);
		}
		break;
	case SF_TCPOPT_WSCALE: /* RFC 7323 §2.2; clamping to 14 is the caller's */
		if (olen == WSCALE_LEN) {
			opt->has_wscale = true;
			opt->wscale = o[2];
		}
		break;
	case SF_TCPOPT_SACK_PERM: /* RFC 2018 §2 */
		if (olen == SACK_PERM_LEN)
			opt->sack_perm = true;
		break;
	case SF_TCPOPT_TS: /* RFC 7323 §3.2 */
		if (olen == TS_LEN) {
			opt->has_ts = true;
			opt->ts_val = sf_be32(o + 2);
			opt->ts_ecr = sf_be32(o + 6);
		}
		break;
	case SF_TCPOPT_SACK: { /* RFC 2018 §3: 2 + 8n bytes */
		if (olen < SACK_BASE_LEN + SACK_BLOCK_LEN ||
		    (olen - SACK_BASE_LEN) % SACK_BLOCK_LEN)
			break;
		unsigned n = (unsigned)(olen - SACK_BASE_LEN) / SACK_BLOCK_LEN;
		/* 40 option bytes hold at most 4 blocks; keep the first 4 anyway. */
		if (n > SF_TCP_MAX_SACK)
			n = SF_TCP_MAX_SACK;
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *b = o + SACK_BASE_LEN + i * SACK_BLOCK_LEN;
			opt->sack[i].left = sf_be32(b);
			opt->sack[i].right = sf_be32(b + 4);
		}
		opt->sack_cnt = (uint8_t)n;
		break;
	}
	default: /* MUST-6: unknown kinds are skipped by their length */
		break;
	}
}

/* Walks the options in hdr[SF_TCP_HDR_LEN .. hdr_len). Never reads at or
 * past hdr_len. A later copy of an option overrides an earlier one. */
static int parse_options(const uint8_t *hdr, size_t hdr_len, sf_tcp_opts_t *opt)
{
	size_t i = SF_TCP_HDR_LEN;
	while (i < hdr_len) {
		uint8_t kind = hdr[i];
		if (kind == SF_TCPOPT_EOL) /* RFC 9293 §3.2: end of the option list */
			break;
		if (kind == SF_TCPOPT_NOP) {
			i++;
			continue;
		}
		/* RFC 9293 §3.2: every other option has a length octet that counts
		 * the kind and length octets; MUST-7: a length that cannot be
		 * walked makes the segment malformed. */
		if (hdr_len - i < 2)
			return SF_EMALFORMED;
		uint8_t olen = hdr[i + 1];
		if (olen < 2 || olen > hdr_len - i)
			return SF_EMALFORMED;
		read_option(hdr + i, olen, opt);
		i += olen;
	}
	return 0;
}

int sf_tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst, bool verify,
                 sf_tcp_t *tcp)
{
	*tcp = (sf_tcp_t){0};
	if (len < SF_TCP_HDR_LEN)
		return SF_ETRUNCATED;
	/* The IP total length is 16 bits, so a longer segment is not one. */
	if (len > UINT16_MAX)
		return SF_EMALFORMED;
	size_t hdr_len = (size_t)(seg[12] >> 4) * 4;
	if (hdr_len < SF_TCP_HDR_LEN) /* RFC 9293 §3.1: data offset >= 5 */
		return SF_EMALFORMED;
	/* The IP layer has already delimited the segment, so a data offset that
	 * points past its end is a lie, not a partial read: malformed. */
	if (hdr_len > len)
		return SF_EMALFORMED;
	if (verify) { /* MUST-3: pseudo-header + header + data sum to zero */
		uint64_t sum = sf_csum_pseudo(src, dst, SF_IP_PROTO_TCP, (uint16_t)len);
		if (sf_csum_fold(sf_csum_add(sum, seg, len)) != 0)
			return SF_ECHECKSUM;
	}

	tcp->sport = sf_be16(seg);
	tcp->dport = sf_be16(seg + 2);
	tcp->seq = sf_be32(seg + 4);
	tcp->ack = sf_be32(seg + 8);
	tcp->reserved = seg[12] & 0x0f;
	tcp->flags = seg[13];
	tcp->wnd = sf_be16(seg + 14);
	tcp->urg = sf_be16(seg + 18);
	tcp->hdr_len = (uint16_t)hdr_len;
	tcp->payload_off = (uint16_t)hdr_len;
	tcp->payload_len = (uint16_t)(len - hdr_len);
	/* The layout of nearly every segment of a connection with timestamps
	 * (NOP NOP TS, RFC 7323 Appendix A), read without the option walk. */
	if (FAST_PATHS && hdr_len == SF_TCP_HDR_LEN + 2 + TS_LEN && seg[20] == SF_TCPOPT_NOP &&
	    seg[21] == SF_TCPOPT_NOP && seg[22] == SF_TCPOPT_TS && seg[23] == TS_LEN) {
		tcp->opt.has_ts = true;
		tcp->opt.ts_val = sf_be32(seg + 24);
		tcp->opt.ts_ecr = sf_be32(seg + 28);
		return 0;
	}
	return parse_options(seg, hdr_len, &tcp->opt);
}

/* ---- option layout ---- */

enum slot { SLOT_NOP, SLOT_MSS, SLOT_SACK_PERM, SLOT_TS, SLOT_WSCALE, SLOT_SACK };

#define MAX_SLOTS 12

/* Lays out the options in `opt` as Linux does (see the file comment): MSS,
 * SACK-permitted (sharing a word with TS when both are present), timestamps,
 * window scale, SACK blocks, each group NOP-aligned to 4 bytes. Fills
 * `slots` and returns their count; *len gets the unpadded byte count. */
static int plan_options(const sf_tcp_opts_t *opt, uint8_t slots[MAX_SLOTS], size_t *len)
{
	int n = 0;
	size_t bytes = 0;
	if (opt->has_mss) {
		slots[n++] = SLOT_MSS;
		bytes += MSS_LEN;
	}
	if (opt->has_ts) {
		if (opt->sack_perm) {
			slots[n++] = SLOT_SACK_PERM;
			bytes += SACK_PERM_LEN;
		} else {
			slots[n++] = SLOT_NOP;
			slots[n++] = SLOT_NOP;
			bytes += 2;
		}
		slots[n++] = SLOT_TS;
		bytes += TS_LEN;
	} else if (opt->sack_perm) {
		slots[n++] = SLOT_NOP;
		slots[n++] = SLOT_NOP;
		slots[n++] = SLOT_SACK_PERM;
		bytes += 2 + SACK_PERM_LEN;
	}
	if (opt->has_wscale) {
		slots[n++] = SLOT_NOP;
		slots[n++] = SLOT_WSCALE;
		bytes += 1 + WSCALE_LEN;
	}
	if (opt->sack_cnt > 0) {
		slots[n++] = SLOT_NOP;
		slots[n++] = SLOT_NOP;
		slots[n++] = SLOT_SACK;
		bytes += 2 + SACK_BASE_LEN + (size_t)opt->sack_cnt * SACK_BLOCK_LEN;
	}
	*len = bytes;
	return n;
}

/* plan_options' byte count, by arithmetic: every group it lays out is
 * NOP-aligned to 4 bytes, so no padding is ever added. */
size_t sf_tcp_opts_len(const sf_tcp_opts_t *opt)
{
	size_t len = opt->has_mss ? MSS_LEN : 0;
	if (opt->has_ts)
		len += 2 + TS_LEN; /* SACK-permitted or two NOPs, then TS */
	else if (opt->sack_perm)
		len += 2 + SACK_PERM_LEN;
	if (opt->has_wscale)
		len += 1 + WSCALE_LEN;
	if (opt->sack_cnt > 0)
		len += 2 + SACK_BASE_LEN + (size_t)opt->sack_cnt * SACK_BLOCK_LEN;
	return len;
}

/* Writes one slot at p; returns the bytes written. */
static size_t write_slot(uint8_t slot, const sf_tcp_opts_t *opt, uint8_t *p)
{
	switch (slot) {
	case SLOT_MSS:
		p[0] = SF_TCPOPT_MSS;
		p[1] = MSS_LEN;
		sf_put16(p + 2, opt->mss);
		return MSS_LEN;
	case SLOT_SACK_PERM:
		p[0] = SF_TCPOPT_SACK_PERM;
		p[1] = SACK_PERM_LEN;
		return SACK_PERM_LEN;
	case SLOT_TS:
		p[0] = SF_TCPOPT_TS;
		p[1] = TS_LEN;
		sf_put32(p + 2, opt->ts_val);
		sf_put32(p + 6, opt->ts_ecr);
		return TS_LEN;
	case SLOT_WSCALE:
		p[0] = SF_TCPOPT_WSCALE;
		p[1] = WSCALE_LEN;
		p[2] = opt->wscale;
		return WSCALE_LEN;
	case SLOT_SACK: {
		size_t len = SACK_BASE_LEN + (size_t)opt->sack_cnt * SACK_BLOCK_LEN;
		p[0] = SF_TCPOPT_SACK;
		p[1] = (uint8_t)len;
		for (unsigned i = 0; i < opt->sack_cnt; i++) {
			sf_put32(p + SACK_BASE_LEN + i * SACK_BLOCK_LEN, opt->sack[i].left);
			sf_put32(p + SACK_BASE_LEN + i * SACK_BLOCK_LEN + 4, opt->sack[i].right);
		}
		return len;
	}
	default:
		p[0] = SF_TCPOPT_NOP;
		return 1;
	}
}

/* ---- emit ---- */

int sf_tcp_emit(const sf_tcp_t *tcp, uint32_t src, uint32_t dst, const uint8_t *payload,
                size_t payload_len, uint8_t *buf, size_t cap)
{
	return sf_tcp_emit_ex(tcp, src, dst, payload, payload_len, buf, cap, false);
}

int sf_tcp_emit_ex(const sf_tcp_t *tcp, uint32_t src, uint32_t dst, const uint8_t *payload,
                   size_t payload_len, uint8_t *buf, size_t cap, bool csum_partial)
{
	const sf_tcp_opts_t *opt = &tcp->opt;
	if (opt->sack_cnt > SF_TCP_MAX_SACK)
		return SF_EINVAL;
	uint8_t slots[MAX_SLOTS];
	size_t opts_len;
	/* Timestamps alone (every segment of an established connection that
	 * uses them, and no SACK blocks): NOP NOP TS without the plan. */
	bool ts_only = FAST_PATHS && opt->has_ts && !opt->has_mss && !opt->sack_perm &&
	               !opt->has_wscale && !opt->sack_cnt;
	int nslots = 0;
	if (ts_only)
		opts_len = 2 + TS_LEN;
	else
		nslots = plan_options(opt, slots, &opts_len);
	size_t padded = (opts_len + 3) & ~(size_t)3;
	if (padded > SF_TCP_MAX_OPT_LEN)
		return SF_EINVAL;
	size_t hdr_len = SF_TCP_HDR_LEN + padded;
	if (payload_len > UINT16_MAX - hdr_len) /* must fit the IP total length */
		return SF_EINVAL;
	size_t total = hdr_len + payload_len;
	if (cap < total)
		return SF_ENOBUFS;

	uint16_t off_flags =
	        (uint16_t)((hdr_len / 4) << 12 | (tcp->reserved & 0x0fu) << 8 | tcp->flags);
	sf_put16(buf, tcp->sport);
	sf_put16(buf + 2, tcp->dport);
	sf_put32(buf + 4, tcp->seq);
	sf_put32(buf + 8, tcp->ack);
	sf_put16(buf + 12, off_flags);
	sf_put16(buf + 14, tcp->wnd);
	sf_put16(buf + 16, 0);
	sf_put16(buf + 18, tcp->urg);
	/* The fixed header's 16-bit words, summed from the values (RFC 1071:
	 * as host integers, like sf_csum_pseudo) instead of read back from
	 * the bytes just stored, which stalls on store forwarding. */
	uint64_t hsum = (uint64_t)tcp->sport + tcp->dport + (tcp->seq >> 16) +
	                (tcp->seq & 0xffffu) + (tcp->ack >> 16) + (tcp->ack & 0xffffu) + off_flags +
	                tcp->wnd + tcp->urg;

	uint8_t *p = buf + SF_TCP_HDR_LEN;
	if (ts_only) {
		p[0] = p[1] = SF_TCPOPT_NOP;
		p[2] = SF_TCPOPT_TS;
		p[3] = TS_LEN;
		sf_put32(p + 4, opt->ts_val);
		sf_put32(p + 8, opt->ts_ecr);
		p += 2 + TS_LEN;
		hsum += (uint32_t)(SF_TCPOPT_NOP << 8 | SF_TCPOPT_NOP) +
		        (uint32_t)(SF_TCPOPT_TS << 8 | TS_LEN) + (opt->ts_val >> 16) +
		        (opt->ts_val & 0xffffu) + (opt->ts_ecr >> 16) + (opt->ts_ecr & 0xffffu);
	}
	for (int i = 0; i < nslots; i++)
		p += write_slot(slots[i], opt, p);
	/* MUST-69: the header is padded with zeros (EOL) to a 32-bit boundary.
	 * With the NOP-aligned layout above this never actually happens. */
	while (p < buf + hdr_len)
		*p++ = SF_TCPOPT_EOL;

	/* RFC 9293 §3.1: the checksum covers the pseudo-header, the header and
	 * the data; the data is summed while it is copied. hdr_len is a
	 * multiple of 4, so chaining the two chunks is allowed. */
	uint64_t sum = sf_csum_pseudo(src, dst, SF_IP_PROTO_TCP, (uint16_t)total);
	if (csum_partial) {
		/* The link sums from the TCP header on and folds the result in;
		 * the data only needs to be in place. */
		if (payload_len > 0 && payload != buf + hdr_len)
			memcpy(buf + hdr_len, payload, payload_len);
		sf_put16(buf + 16, (uint16_t)~sf_csum_fold(sum));
		return (int)total;
	}
	if (!FAST_PATHS) {
		sum = sf_csum_add(sum, buf, hdr_len);
	} else {
		sum += hsum;
		if (!ts_only && hdr_len > SF_TCP_HDR_LEN) /* options laid out by the plan */
			sum = sf_csum_add(sum, buf + SF_TCP_HDR_LEN, hdr_len - SF_TCP_HDR_LEN);
	}
	if (payload_len > 0) {
		if (payload == buf + hdr_len) /* already in place */
			sum = sf_csum_add(sum, payload, payload_len);
		else
			sum = sf_csum_copy(sum, buf + hdr_len, payload, payload_len);
	}
	sf_put16(buf + 16, sf_csum_fold(sum));
	return (int)total;
}

int sf_tcp_csum_fill(uint8_t *frame, size_t len)
{
	if (len < SF_IPV4_HDR_LEN || (frame[0] >> 4) != 4)
		return SF_EINVAL;
	size_t ihl = (size_t)(frame[0] & 0x0f) * 4;
	size_t total = sf_be16(frame + 2);
	if (ihl < SF_IPV4_HDR_LEN || total > len || total < ihl + SF_TCP_HDR_LEN ||
	    frame[9] != SF_IP_PROTO_TCP || (sf_be16(frame + 6) & 0x3fff) != 0)
		return SF_EINVAL;
	uint8_t *seg = frame + ihl;
	size_t seg_len = total - ihl;
	sf_put16(seg + 16, 0);
	uint64_t sum = sf_csum_pseudo(sf_be32(frame + 12), sf_be32(frame + 16), SF_IP_PROTO_TCP,
	                              (uint16_t)seg_len);
	sf_put16(seg + 16, sf_csum_fold(sf_csum_add(sum, seg, seg_len)));
	return 0;
}

/* ---- printing ---- */

/* tcpdump's flag letters, in tcpdump's order (print-tcp.c tcp_flag_values). */
static const struct {
	uint8_t bit;
	char letter;
} flag_letters[] = {
        {SF_TCP_FIN, 'F'}, {SF_TCP_SYN, 'S'}, {SF_TCP_RST, 'R'}, {SF_TCP_PSH, 'P'},
        {SF_TCP_ACK, '.'}, {SF_TCP_URG, 'U'}, {SF_TCP_ECE, 'E'}, {SF_TCP_CWR, 'W'},
};

char *sf_tcp_flags_str(uint8_t flags, char buf[9])
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof flag_letters / sizeof flag_letters[0]; i++)
		if (flags & flag_letters[i].bit)
			buf[n++] = flag_letters[i].letter;
	if (n == 0) {
		memcpy(buf, "none", 5);
		return buf;
	}
	buf[n] = '\0';
	return buf;
}

/* A bounded string builder with snprintf semantics: `len` counts every byte
 * that would have been written; at most cap - 1 are stored. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void put_char(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void put_str(struct out *o, const char *s)
{
	while (*s)
		put_char(o, *s++);
}

static void put_u32(struct out *o, uint32_t v)
{
	char digits[10];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0)
		put_char(o, digits[--n]);
}

static void put_endpoint(struct out *o, uint32_t addr, uint16_t port)
{
	for (int shift = 24; shift >= 0; shift -= 8) {
		put_u32(o, (addr >> shift) & 0xff);
		put_char(o, '.');
	}
	put_u32(o, port);
}

static void put_options(struct out *o, const sf_tcp_opts_t *opt, uint32_t sack_base)
{
	uint8_t slots[MAX_SLOTS];
	size_t len;
	sf_tcp_opts_t clamped = *opt;
	if (clamped.sack_cnt > SF_TCP_MAX_SACK)
		clamped.sack_cnt = SF_TCP_MAX_SACK;
	int n = plan_options(&clamped, slots, &len);
	if (n == 0)
		return;
	put_str(o, ", options [");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			put_char(o, ',');
		switch (slots[i]) {
		case SLOT_MSS:
			put_str(o, "mss ");
			put_u32(o, clamped.mss);
			break;
		case SLOT_SACK_PERM:
			put_str(o, "sackOK");
			break;
		case SLOT_TS:
			put_str(o, "TS val ");
			put_u32(o, clamped.ts_val);
			put_str(o, " ecr ");
			put_u32(o, clamped.ts_ecr);
			break;
		case SLOT_WSCALE:
			put_str(o, "wscale ");
			put_u32(o, clamped.wscale);
			break;
		case SLOT_SACK:
			put_str(o, "sack ");
			put_u32(o, clamped.sack_cnt);
			put_char(o, ' ');
			for (unsigned b = 0; b < clamped.sack_cnt; b++) {
				put_char(o, '{');
				put_u32(o, clamped.sack[b].left - sack_base);
				put_char(o, ':');
				put_u32(o, clamped.sack[b].right - sack_base);
				put_char(o, '}');
			}
			break;
		default:
			put_str(o, "nop");
			break;
		}
	}
	put_char(o, ']');
}

/* Follows tcpdump 4.99 print-tcp.c: seq only when the segment has data or
 * SYN/FIN/RST, "seq a:b" with data, ack only with ACK, urg only with URG.
 * Relative numbers: tcpdump only looks up its per-connection bases for a
 * segment with ACK set, and (re)starts them on any SYN, printing that
 * segment's numbers as they are; so a segment without ACK (SYN, bare RST) or
 * with SYN (SYN+ACK) is printed absolute here too, even when `relative`.
 * SACK blocks are relative to ack_base, as tcpdump makes them relative to
 * the acknowledged sequence space. The
 * options are printed in our emit layout (sf_tcp_opts_t does not keep the
 * order seen on the wire, nor unknown options), which is byte for byte what
 * tcpdump shows for a segment sf_tcp_emit wrote. `ip` must not be NULL. */
int sf_tcp_format(char *buf, size_t cap, const sf_ipv4_t *ip, const sf_tcp_t *tcp, bool relative,
                  uint32_t seq_base, uint32_t ack_base)
{
	struct out o = {buf, cap, 0};
	char flags[9];
	bool rel = relative && (tcp->flags & (SF_TCP_ACK | SF_TCP_SYN)) == SF_TCP_ACK;
	uint32_t seq = rel ? tcp->seq - seq_base : tcp->seq;
	uint32_t ack = rel ? tcp->ack - ack_base : tcp->ack;

	put_endpoint(&o, ip->src, tcp->sport);
	put_str(&o, " > ");
	put_endpoint(&o, ip->dst, tcp->dport);
	put_str(&o, ": Flags [");
	put_str(&o, sf_tcp_flags_str(tcp->flags, flags));
	put_char(&o, ']');
	if (tcp->payload_len > 0 || (tcp->flags & (SF_TCP_SYN | SF_TCP_FIN | SF_TCP_RST))) {
		put_str(&o, ", seq ");
		put_u32(&o, seq);
		if (tcp->payload_len > 0) {
			put_char(&o, ':');
			put_u32(&o, seq + tcp->payload_len);
		}
	}
	if (tcp->flags & SF_TCP_ACK) {
		put_str(&o, ", ack ");
		put_u32(&o, ack);
	}
	put_str(&o, ", win ");
	put_u32(&o, tcp->wnd);
	if (tcp->flags & SF_TCP_URG) {
		put_str(&o, ", urg ");
		put_u32(&o, tcp->urg);
	}
	put_options(&o, &tcp->opt, rel ? ack_base : 0);
	put_str(&o, ", length ");
	put_u32(&o, tcp->payload_len);
	if (cap > 0)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}
