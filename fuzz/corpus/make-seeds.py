#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/{ipv4,tcp,icmp}/ for the fuzz targets.

Seeds are the packets of the kernel captures in tests/data/*.pcap (see
tests/data/make-captures.sh) plus hand-made edge cases: truncations, bad
lengths and checksums, every TCP option shape, ICMP errors with quotes.
Input layouts: ipv4 = an IPv4 datagram; tcp = 4-byte source and 4-byte
destination address, then the segment; icmp = an ICMP message; eth = frames
for one Ethernet interface, each a 2-byte length and the frame.
Deterministic: rerunning it rewrites the same files (kernel-*, edge-*).
Files named fuzz-* were found by libFuzzer (new coverage, kept with
`fuzz_<name> -merge=1`) and crash-* are inputs that once crashed a parser;
this script leaves both alone.

Usage: python3 fuzz/corpus/make-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "tests", "data")
A = bytes([192, 0, 2, 1])
B = bytes([192, 0, 2, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(payload, proto=6, src=A, dst=B, opts=b"", flags_frag=0x4000, ident=1, ttl=64,
         total=None, fix=True, tos=0):
    ihl = (20 + len(opts)) // 4
    tl = total if total is not None else 20 + len(opts) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, tl, ident, flags_frag, ttl, proto, 0,
                    src, dst) + opts
    if fix:
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(sport=40000, dport=80, seq=1000, ack=0, flags=0x02, wnd=64240, opts=b"",
        payload=b"", src=A, dst=B, urg=0, doff=None, fix=True, res=0):
    off = doff if doff is not None else (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (off << 4) | res, flags, wnd, 0,
                    urg) + opts
    seg = h + payload
    if fix:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
        c = csum(pseudo + seg)
        seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return seg


def icmp(typ, code, rest=b"\0\0\0\0", data=b"", fix=True):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    if fix:
        m = m[:2] + struct.pack("!H", csum(m)) + m[4:]
    return m


def read_pcap(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack("<I", raw[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", raw[20:24])[0]
    off = 24
    while off + 16 <= len(raw):
        _, _, incl, _ = struct.unpack(endian + "IIII", raw[off:off + 16])
        pkt = raw[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:  # EN10MB
            if pkt[12:14] != b"\x08\x00":
                continue
            pkt = pkt[14:]
        yield pkt


def write(kind, name, data):
    d = os.path.join(HERE, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


MSS = struct.pack("!BBH", 2, 4, 1460)
SACKP = b"\x04\x02"
TS = struct.pack("!BBII", 8, 10, 1, 0)
WS = b"\x01\x03\x03\x07"
NOP2 = b"\x01\x01"


def sack(*blocks):
    return struct.pack("!BB", 5, 2 + 8 * len(blocks)) + b"".join(
        struct.pack("!II", l, r) for l, r in blocks)


def main():
    # ---- real packets ----
    frags = {}
    for fn in sorted(os.listdir(DATA)):
        if not fn.endswith(".pcap"):
            continue
        stem = fn[:-5]
        for i, pkt in enumerate(read_pcap(os.path.join(DATA, fn))):
            write("ipv4", "%s-%02d" % (stem, i), pkt)
            ihl = (pkt[0] & 15) * 4
            tl = struct.unpack("!H", pkt[2:4])[0]
            proto = pkt[9]
            fo = struct.unpack("!H", pkt[6:8])[0]
            body = pkt[ihl:tl]
            if fo & 0x3FFF:
                frags.setdefault((pkt[12:20], pkt[4:6]), []).append(((fo & 0x1FFF) * 8, body))
                continue
            if proto == 6:
                write("tcp", "%s-%02d" % (stem, i), pkt[12:20] + body)
            elif proto == 1:
                write("icmp", "%s-%02d" % (stem, i), body)
    # The fragmented pings, reassembled: a 2008-byte echo message.
    for n, (_, parts) in enumerate(sorted(frags.items())):
        msg = b"".join(b for _, b in sorted(parts))
        write("icmp", "kernel-frag-reassembled-%d" % n, msg)

    # ---- ipv4 edge cases ----
    syn = tcp(opts=MSS + SACKP + TS + b"\x01" + b"\x03\x03\x07")
    write("ipv4", "edge-empty", b"")
    write("ipv4", "edge-19-bytes", ipv4(syn)[:19])
    write("ipv4", "edge-header-only", ipv4(b""))
    write("ipv4", "edge-version6", b"\x60" + ipv4(syn)[1:])
    write("ipv4", "edge-ihl4", b"\x44" + ipv4(syn)[1:])
    write("ipv4", "edge-bad-checksum", ipv4(syn, fix=False))
    write("ipv4", "edge-total-short", ipv4(syn, total=19))
    write("ipv4", "edge-total-long", ipv4(syn, total=200))
    write("ipv4", "edge-padding", ipv4(b"\0" * 6, proto=17) + b"\0" * 20)
    write("ipv4", "edge-options-rr", ipv4(syn, opts=b"\x07\x07\x04" + b"\0" * 4 + b"\x00"))
    write("ipv4", "edge-options-max", ipv4(b"xy", proto=253, opts=b"\x01" * 39 + b"\x00"))
    write("ipv4", "edge-ihl-past-end", ipv4(b"", opts=b"\x01" * 40)[:40])
    write("ipv4", "edge-first-fragment", ipv4(syn[:16], flags_frag=0x2000))
    write("ipv4", "edge-last-fragment", ipv4(syn[16:], flags_frag=2))
    write("ipv4", "edge-max-offset", ipv4(b"abcdefgh", flags_frag=0x1FFF, proto=1))
    write("ipv4", "edge-reserved-flag", ipv4(syn, flags_frag=0x8000))
    write("ipv4", "edge-tos-ecn", ipv4(syn, tos=0xBB))
    write("ipv4", "edge-ttl0-bcast", ipv4(syn, ttl=0, src=b"\xff\xff\xff\xff",
                                          dst=b"\xe0\0\0\x01"))
    write("ipv4", "edge-zero-src", ipv4(icmp(8, 0, b"\0\1\0\1", b"ping"), proto=1,
                                        src=b"\0\0\0\0"))
    write("ipv4", "edge-tcp-bad-sum", ipv4(tcp(fix=False)))
    write("ipv4", "edge-udp", ipv4(b"\x9c\x40\x00\x09\x00\x0e\x00\x00synfin", proto=17))

    # ---- tcp edge cases (8 address bytes, then the segment) ----
    def t(name, seg, src=A, dst=B):
        write("tcp", "edge-" + name, src + dst + seg)

    t("short", A + B)
    t("19-bytes", tcp()[:19])
    t("bare-syn", tcp())
    t("bad-sum", tcp(fix=False))
    t("swapped-addrs", tcp(), src=B, dst=A)
    t("linux-syn", syn)
    t("synack", tcp(sport=80, dport=40000, seq=5000, ack=1001, flags=0x12, opts=MSS + SACKP +
                    TS + b"\x01\x03\x03\x0a", src=B, dst=A), src=B, dst=A)
    t("established-ts", tcp(flags=0x18, ack=1, opts=NOP2 + TS, payload=b"GET / HTTP/1.1\r\n\r\n"))
    t("odd-payload", tcp(flags=0x18, ack=1, payload=b"abc"))
    t("urg", tcp(flags=0x30, ack=1, urg=2, payload=b"!!"))
    t("all-flags", tcp(flags=0xFF, ack=1, res=0xF))
    t("no-flags", tcp(flags=0))
    t("rst", tcp(flags=0x04, seq=77, wnd=0))
    t("fin-ack", tcp(flags=0x11, seq=88, ack=217, wnd=63, opts=NOP2 + TS))
    t("sack-1", tcp(flags=0x10, opts=NOP2 + TS + NOP2 + sack((100, 200)), ack=1))
    t("sack-3", tcp(flags=0x10, opts=NOP2 + TS + NOP2 + sack((1, 2), (3, 4), (5, 6)), ack=1))
    t("sack-4", tcp(flags=0x10, opts=NOP2 + sack((1, 2), (3, 4), (5, 6), (7, 8)), ack=1))
    t("sack-bad-len", tcp(flags=0x10, opts=b"\x05\x05\0\0\0\x01\x01\x01", ack=1))
    # 40 option bytes whose aligned re-emission does not fit: emit says EINVAL.
    t("opts-no-refit", tcp(opts=MSS + TS + b"\x04\x02" + sack((1, 2), (3, 4)) + b"\x00" * 2))
    t("opts-unaligned", tcp(opts=b"\x03\x03\x0e" + MSS + b"\x08\x0a" + b"\0" * 8 + b"\x00"))
    t("opts-unknown", tcp(opts=b"\x1e\x06abcd" + b"\xfe\x04\xf9\x89" + b"\x00" * 2))
    t("opts-len0", tcp(opts=b"\x02\x00\x05\xb4"))
    t("opts-len1", tcp(opts=b"\x1e\x01\x00\x00"))
    t("opts-past-end", tcp(opts=b"\x01\x01\x08\x0a\0\0\0\x01"))
    t("opts-kind-last", tcp(opts=b"\x01\x01\x01\x02"))
    t("opts-eol-first", tcp(opts=b"\x00" + MSS[1:] + b"\x02\x04\x05\xb4"))
    t("opts-mss-bad-len", tcp(opts=b"\x02\x05\x05\xb4\x00\x01\x01\x01"))
    t("opts-duplicate-mss", tcp(opts=MSS + struct.pack("!BBH", 2, 4, 536)))
    t("opts-wscale-255", tcp(opts=b"\x01\x03\x03\xff"))
    t("opts-sackperm-bad-len", tcp(opts=b"\x04\x03\x00\x01"))
    t("opts-max-nops", tcp(opts=b"\x01" * 40))
    t("doff4", tcp(doff=4))
    t("doff15-short", tcp(doff=15))
    t("doff15", tcp(opts=b"\x01" * 36 + MSS))
    t("max-payload", tcp(flags=0x10, ack=1, payload=b"\xa5" * 1460))

    # ---- icmp edge cases ----
    def quote_of(inner_payload, proto=6, opts=b""):
        return ipv4(inner_payload, proto=proto, src=B, dst=A, opts=opts)

    seg = tcp(sport=80, dport=40000, seq=0xDEADBEEF, ack=1, flags=0x10, src=B, dst=A)
    write("icmp", "edge-empty", b"")
    write("icmp", "edge-7-bytes", icmp(8, 0, b"\0\1\0\1")[:7])
    write("icmp", "edge-echo-bare", icmp(8, 0, b"\x12\x34\x00\x01"))
    write("icmp", "edge-echo-odd", icmp(0, 0, b"\x12\x34\x00\x02", b"abc"))
    write("icmp", "edge-bad-sum", icmp(8, 0, b"\0\1\0\1", b"data", fix=False))
    write("icmp", "edge-port-unreach-tcp", icmp(3, 3, b"\0\0\0\0", quote_of(seg)[:28]))
    write("icmp", "edge-port-unreach-full", icmp(3, 3, b"\0\0\0\0", quote_of(seg)))
    write("icmp", "edge-needfrag", icmp(3, 4, b"\0\0\x05\x78", quote_of(seg)[:28]))
    write("icmp", "edge-needfrag-old", icmp(3, 4, b"\0\0\0\0", quote_of(seg)[:28]))
    write("icmp", "edge-host-unreach", icmp(3, 1, b"\0\0\0\0", quote_of(seg)[:28]))
    write("icmp", "edge-quote-short", icmp(3, 3, b"\0\0\0\0", quote_of(seg)[:27]))
    write("icmp", "edge-quote-hdr-only", icmp(3, 3, b"\0\0\0\0", quote_of(seg)[:20]))
    write("icmp", "edge-quote-options", icmp(3, 3, b"\0\0\0\0",
                                             quote_of(seg, opts=b"\x01" * 8)[:36]))
    write("icmp", "edge-quote-bad-ip", icmp(3, 3, b"\0\0\0\0",
                                            b"\x45" + b"\0" * 9 + b"\x12\x34" + b"\0" * 16))
    write("icmp", "edge-quote-v6", icmp(3, 3, b"\0\0\0\0", b"\x60" + quote_of(seg)[1:28]))
    write("icmp", "edge-source-quench", icmp(4, 0, b"\0\0\0\0", quote_of(seg)[:28]))
    write("icmp", "edge-time-exceeded", icmp(11, 0, b"\0\0\0\0", quote_of(seg)[:28]))
    write("icmp", "edge-param-problem", icmp(12, 0, b"\x14\0\0\0", quote_of(seg)[:28]))
    write("icmp", "edge-unknown-type", icmp(42, 7, b"\xff\xff\xff\xff", b"x" * 9))
    write("icmp", "edge-timestamp", icmp(13, 0, b"\0\1\0\1", b"\0" * 12))
    eth_seeds()


def eth_seeds():
    us, peer, gw = bytes([2, 0, 0, 0, 0, 2]), bytes([0x52, 0x54, 0, 0, 0, 1]), \
        bytes([0x52, 0x54, 0, 0, 0, 0xFE])
    bc, z = b"\xff" * 6, b"\0" * 6
    g = bytes([192, 0, 2, 254])

    def eth(dst, src, typ, payload):
        f = dst + src + struct.pack("!H", typ) + payload
        return f + b"\0" * max(0, 60 - len(f))

    def arp(op, sha, spa, tha, tpa, hrd=1):
        return struct.pack("!HHBBH", hrd, 0x0800, 6, 4, op) + sha + spa + tha + tpa

    def rec(*frames):
        return b"".join(struct.pack("!H", len(f)) + f for f in frames)

    write("eth", "edge-request-for-us", rec(eth(bc, peer, 0x0806, arp(1, peer, A, z, B))))
    write("eth", "edge-reply-peer", rec(eth(us, peer, 0x0806, arp(2, peer, A, us, B))))
    write("eth", "edge-reply-gateway", rec(eth(us, gw, 0x0806, arp(2, gw, g, us, B))))
    write("eth", "edge-probe", rec(eth(bc, peer, 0x0806, arp(1, peer, b"\0" * 4, z, B))))
    write("eth", "edge-conflict", rec(eth(bc, peer, 0x0806, arp(1, peer, B, z, B))))
    write("eth", "edge-truncated", rec(b"\x02\0\0\0\0\x02\x52"))
    write("eth", "edge-ipv6", rec(eth(us, peer, 0x86DD, b"\x60" + b"\0" * 39)))
    write("eth", "edge-bad-arp", rec(eth(us, peer, 0x0806, arp(1, peer, A, z, B, hrd=6))))
    write("eth", "edge-many", rec(eth(us, peer, 0x0806, arp(2, peer, A, us, B)),
                                  eth(bc, gw, 0x0806, arp(1, gw, g, z, bytes([192, 0, 2, 9]))),
                                  eth(us, peer, 0x0800, ipv4(tcp(flags=0x12, ack=1)))))


if __name__ == "__main__":
    main()
