#!/usr/bin/env python3
"""Reads a pcap that synfin wrote (its pcap tap: every frame the stack sent
and received) back with tshark, and checks what any TCP must show on the wire:

- every IPv4, TCP and ICMP checksum verifies (tshark's own verification is
  switched on; a packet whose checksum tshark did not check counts as an
  error too), and tshark finds no malformed packet;
- every TCP connection (tshark stream) opens with SYN from the client, then
  SYN+ACK from the server, then the client's ACK (RFC 9293 §3.5), and closes
  with a FIN from each side, each acknowledged (§3.6) — or, for a SYN to a
  closed port, is answered by RST+ACK and nothing else (§3.10.7.1);
- who closed first: synfin, the kernel, or both at once (simultaneous close:
  the second FIN does not acknowledge the first, RFC 9293 Figure 13);
- on Ethernet (a TAP capture), ARP packets are valid and counted: replies
  and announcements from synfin.

Prints a one-line summary with the counts, e.g.
  pcapcheck: x.pcap: 812 packets, 3 streams (complete 3, refused 0, reset 0;
  closer synfin 1, kernel 2, simultaneous 0), half-closed 1, icmp replies 0: OK
and exits 1 with the reasons when a check fails.
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile

FIELDS = [
    "frame.number", "ip.src", "ip.dst", "ip.proto", "ip.checksum.status",
    "tcp.checksum.status", "icmp.checksum.status", "tcp.stream", "tcp.flags",
    "tcp.len", "tcp.seq_raw", "tcp.ack_raw", "_ws.malformed", "icmp.type",
    "tcp.checksum", "tcp.checksum_calculated", "arp.opcode", "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4",
]
SYN, RST, ACK, FIN = 0x02, 0x04, 0x10, 0x01


def quiet_profile(tmp):
    """A tshark configuration directory in which only frame, raw, ip, tcp,
    icmp and data are dissected: a protocol above TCP (HTTP on port 80, the
    echo protocol on 7, AFS on 7000...) would parse arbitrary payload and
    report it as malformed, which says nothing about synfin's segments."""
    out = subprocess.run(["tshark", "-G", "protocols"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, timeout=120)
    keep = {"frame", "raw", "eth", "ethertype", "arp", "ip", "tcp", "icmp", "data"}
    names = [l.split("\t")[2] for l in out.stdout.splitlines() if l.count("\t") >= 2]
    with open(os.path.join(tmp, "disabled_protos"), "w") as f:
        for n in names:
            if n not in keep and not n.startswith("_ws."):
                f.write(n + "\n")


def read(path):
    # No TCP reassembly: HTTP would otherwise reassemble a 100 MB body (minutes).
    cmd = ["tshark", "-n", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE",
           "-o", "ip.check_checksum:TRUE",
           "-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    with tempfile.TemporaryDirectory() as tmp:
        quiet_profile(tmp)
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=600, env=dict(os.environ, WIRESHARK_CONFIG_DIR=tmp))
    if out.returncode != 0:
        sys.exit("pcapcheck: tshark failed on %s: %s" % (path, out.stderr.strip()))
    for line in out.stdout.splitlines():
        v = line.split("\t")
        v += [""] * (len(FIELDS) - len(v))
        yield dict(zip(FIELDS, v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pcap")
    ap.add_argument("--synfin", default="192.0.2.2", help="synfin's address")
    ap.add_argument("--streams", type=int, help="exactly this many TCP connections")
    ap.add_argument("--refused", type=int, default=0,
                    help="this many connections are SYN answered by RST")
    ap.add_argument("--closer", choices=["synfin", "kernel", "simultaneous"],
                    help="every complete connection was closed first by this side")
    ap.add_argument("--closers", help="exact counts 'synfin=N,kernel=M' of first closers")
    ap.add_argument("--halfclose", action="store_true",
                    help="some connection carried data after its first FIN")
    ap.add_argument("--icmp-replies", type=int, default=0,
                    help="at least this many ICMP echo replies from synfin")
    ap.add_argument("--arp-replies", type=int, default=0,
                    help="at least this many ARP replies from synfin (Ethernet captures)")
    ap.add_argument("--arp-announces", type=int, default=0,
                    help="at least this many gratuitous ARPs from synfin")
    ap.add_argument("--allow-rst", action="store_true",
                    help="connections may end with RST instead of FINs")
    ap.add_argument("--allow-strays", action="store_true",
                    help="segments of an earlier process's connection (no SYN, from the "
                    "kernel only) answered by synfin's RST are not counted as a connection")
    a = ap.parse_args()

    errors = []
    pkts = 0
    icmp_replies = 0
    arp = collections.Counter()
    streams = collections.OrderedDict()
    for p in read(a.pcap):
        pkts += 1
        n = p["frame.number"]
        if p["_ws.malformed"]:
            errors.append("frame %s: malformed" % n)
        if p["arp.opcode"]:
            if p["arp.src.proto_ipv4"] == a.synfin:
                if p["arp.opcode"] == "2":
                    arp["reply"] += 1
                elif p["arp.dst.proto_ipv4"] == a.synfin:
                    arp["announce"] += 1
                else:
                    arp["request"] += 1
            continue
        if not p["ip.src"]:
            errors.append("frame %s: not IPv4" % n)
            continue
        if p["ip.checksum.status"] != "1":
            errors.append("frame %s: IPv4 checksum %s" % (
                n, "bad" if p["ip.checksum.status"] == "0" else "unverified"))
        proto = p["ip.proto"]
        if proto == "6":
            # 0xffff and 0x0000 are the two zeros of ones' complement: a
            # receiver summing the segment accepts either (RFC 1624 §3); the
            # kernel sends 0xffff at times, tshark only takes 0x0000.
            zeros = {p["tcp.checksum"], p["tcp.checksum_calculated"]} == {"0xffff", "0x0000"}
            if p["tcp.checksum.status"] != "1" and not zeros:
                errors.append("frame %s: TCP checksum %s" % (
                    n, "bad" if p["tcp.checksum.status"] == "0" else "unverified"))
            from_synfin = p["ip.src"] == a.synfin
            streams.setdefault(p["tcp.stream"], []).append(
                (int(n), from_synfin, int(p["tcp.flags"], 16), int(p["tcp.len"] or 0),
                 int(p["tcp.seq_raw"] or 0), int(p["tcp.ack_raw"] or 0)))
        elif proto == "1":
            if p["icmp.checksum.status"] == "0":
                errors.append("frame %s: ICMP checksum bad" % n)
            if p["icmp.type"] == "0" and p["ip.src"] == a.synfin:
                icmp_replies += 1

    count = collections.Counter()
    halfclosed = 0
    for sid, segs in streams.items():
        client = segs[0][1]  # True: synfin opened it
        first = segs[0]
        # A late retransmission (the kernel's FIN, say) for a connection of a
        # synfin process that has exited: the new stack knows no such
        # connection and answers RST (RFC 9293 §3.10.7.1).
        if a.allow_strays and not any(s[2] & SYN for s in segs) and all(
                (not s[1]) or (s[2] & RST) for s in segs):
            count["stray"] += 1
            continue
        if not (first[2] & SYN) or (first[2] & ACK):
            errors.append("stream %s: does not start with a SYN (frame %s)" % (sid, first[0]))
            continue
        server_segs = [s for s in segs if s[1] != client]
        if server_segs and server_segs[0][2] & RST and not server_segs[0][2] & SYN:
            if any(s[2] & (FIN) or s[3] for s in segs) or server_segs[0][2] & ACK == 0:
                errors.append("stream %s: refused, but more than SYN and RST+ACK" % sid)
            count["refused"] += 1
            continue
        synack = next((s for s in server_segs if s[2] & (SYN | ACK) == SYN | ACK), None)
        if synack is None:
            errors.append("stream %s: no SYN+ACK from the server" % sid)
            continue
        if any(s[2] & SYN == 0 for s in server_segs if s[0] < synack[0]) or any(
                s[2] & SYN == 0 for s in segs if s[1] == client and s[0] < synack[0]):
            errors.append("stream %s: segments before the handshake completed" % sid)
        ack3 = next((s for s in segs if s[1] == client and s[0] > synack[0]
                     and not s[2] & SYN), None)
        if ack3 is None or not ack3[2] & ACK:
            errors.append("stream %s: the client never acknowledged the SYN+ACK" % sid)
            continue
        # A RST after both FINs were exchanged and acknowledged is a closed
        # end answering a late duplicate (RFC 9293 §3.10.7.1): allowed.
        rst = next((s for s in segs if s[2] & RST), None)
        live = [s for s in segs if rst is None or s[0] < rst[0]]
        fins = {True: None, False: None}
        for s in live:
            if s[2] & FIN and fins[s[1]] is None:
                fins[s[1]] = s
        acked = {}
        for side, f in fins.items():
            if f is not None:
                end = (f[4] + f[3] + 1) & 0xffffffff
                acked[side] = any(s[1] != f[1] and s[2] & ACK and s[5] == end and s[0] > f[0]
                                  for s in live)
        if rst is not None and not (len(acked) == 2 and all(acked.values())):
            count["reset"] += 1
            if not a.allow_rst:
                errors.append("stream %s: reset (frame %s)" % (sid, rst[0]))
            continue
        if rst is not None:
            count["late_rst"] += 1
        if fins[True] is None or fins[False] is None:
            errors.append("stream %s: not closed by both sides (FIN from synfin: %s, "
                          "kernel: %s)" % (sid, fins[True] is not None, fins[False] is not None))
            continue
        for side, ok in acked.items():
            if not ok:
                errors.append("stream %s: FIN in frame %s never acknowledged" % (
                    sid, fins[side][0]))
        f1, f2 = sorted(fins.values(), key=lambda s: s[0])
        count["complete"] += 1
        f1_end = (f1[4] + f1[3] + 1) & 0xffffffff
        if f2[2] & ACK and f2[5] == f1_end:
            count["synfin" if f1[1] else "kernel"] += 1
        else:
            count["simultaneous"] += 1
        if any(s[1] != f1[1] and s[3] > 0 and s[0] > f1[0] for s in segs):
            halfclosed += 1

    if a.streams is not None and len(streams) - count["stray"] != a.streams:
        errors.append("%d TCP connections, expected %d" % (len(streams) - count["stray"],
                                                          a.streams))
    if count["refused"] != a.refused:
        errors.append("%d refused connections, expected %d" % (count["refused"], a.refused))
    if a.closer:
        others = count["complete"] - count[a.closer]
        if others:
            errors.append("%d connections not closed first by %s" % (others, a.closer))
    if a.closers:
        for kv in a.closers.split(","):
            k, v = kv.split("=")
            if count[k] != int(v):
                errors.append("%d connections closed first by %s, expected %s" % (count[k], k, v))
    if a.halfclose and not halfclosed:
        errors.append("no connection carried data after its first FIN (half-close)")
    if arp["reply"] < a.arp_replies:
        errors.append("%d ARP replies from synfin, expected at least %d" % (
            arp["reply"], a.arp_replies))
    if arp["announce"] < a.arp_announces:
        errors.append("%d gratuitous ARPs from synfin, expected at least %d" % (
            arp["announce"], a.arp_announces))
    if icmp_replies < a.icmp_replies:
        errors.append("%d ICMP echo replies from synfin, expected at least %d" % (
            icmp_replies, a.icmp_replies))

    print("pcapcheck: %s: %d packets, %d streams (complete %d, refused %d, reset %d, "
          "RST after close %d, strays %d; closer synfin %d, kernel %d, simultaneous %d), half-closed %d, "
          "icmp replies %d, arp from synfin: %d replies, %d requests, %d announces: %s"
          % (a.pcap, pkts, len(streams), count["complete"], count["refused"], count["reset"],
             count["late_rst"], count["stray"],
             count["synfin"], count["kernel"], count["simultaneous"], halfclosed,
             icmp_replies, arp["reply"], arp["request"], arp["announce"],
             "OK" if not errors else "FAILED"))
    for e in errors[:20]:
        print("  " + e)
    if len(errors) > 20:
        print("  ... %d more" % (len(errors) - 20))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
