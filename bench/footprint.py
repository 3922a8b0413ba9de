#!/usr/bin/env python3
"""Reads GNU ld map files of the footprint firmware (bench/footprint.sh) and
prints what each part costs: flash (.text + .rodata) and RAM (.data + .bss)
per synfin source file and per group (base, wire, engine, congestion
control, Ethernet/ARP, sockets), then the C library, libgcc and the fake
board/app, for each configuration side by side.

Usage: footprint.py NAME=MAPFILE [NAME=MAPFILE ...]
Prints RESULT lines too (RESULT footprint <config> <metric> <value>), and
exits 1 if a map cannot be read."""
import collections
import re
import sys

SEC = re.compile(r"^ (\.[\w.$]+|COMMON)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*))?$")
CONT = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
MEMBER = re.compile(r"([^/(]+\.a)\(([^)]+)\)$")

GROUPS = [
    ("base (allocator hook, errors, assert)", lambda o: o.startswith("base_")),
    ("wire codecs (IPv4, TCP, ICMP, checksum)",
     lambda o: o.startswith("wire_") and o != "wire_ethernet.o"),
    ("engine (stack, TCBs, input, output, timers, ...)",
     lambda o: o.startswith("core_") and o not in ("core_eth.o", "core_cc_cubic.o",
                                                   "core_cc_newreno.o")),
    ("congestion control (CUBIC, NewReno)", lambda o: o in ("core_cc_cubic.o",
                                                           "core_cc_newreno.o")),
    ("Ethernet + ARP (link layer and codecs)", lambda o: o in ("core_eth.o",
                                                              "wire_ethernet.o")),
    ("socket API", lambda o: o.startswith("api_")),
]


def kind(section):
    if section.startswith((".text", ".ARM.exidx", ".ARM.extab", ".glue", ".vfp11", ".v4_bx",
                           ".iplt", ".init", ".fini")):
        return "flash"
    if section.startswith(".rodata"):
        return "flash"
    if section.startswith(".data"):
        return "data"
    if section.startswith((".bss", "COMMON")):
        return "bss"
    return None


def owner(path):
    m = MEMBER.search(path)
    if m:
        lib, obj = m.group(1), m.group(2)
        if lib == "libsynfin_core.a":
            return ("synfin", obj)
        return (lib, obj)
    base = path.rsplit("/", 1)[-1]
    return ("app" if base in ("app.o", "board.o") else "startup", base)


def read(path):
    sizes = collections.defaultdict(lambda: collections.Counter())
    in_map = False
    pending = None
    with open(path) as f:
        for line in f:
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            if pending:
                m = CONT.match(line)
                if m:
                    add(sizes, pending, int(m.group(2), 16), m.group(3))
                pending = None
                continue
            m = SEC.match(line)
            if not m:
                continue
            if m.group(2) is None:
                pending = m.group(1)
            else:
                add(sizes, m.group(1), int(m.group(3), 16), m.group(4))
    return sizes


def add(sizes, section, size, path):
    k = kind(section)
    if k is None or size == 0 or path.startswith("load address"):
        return
    sizes[owner(path.strip())][k] += size


def main():
    configs = []
    for arg in sys.argv[1:]:
        name, path = arg.split("=", 1)
        try:
            configs.append((name, read(path)))
        except OSError as e:
            print("footprint: %s" % e, file=sys.stderr)
            return 1
    names = [c[0] for c in configs]
    w = 50

    def row(label, vals):
        print("  %-*s %s" % (w, label, " ".join("%15s" % v for v in vals)))

    def cell(c):
        return "%d / %d" % (c["flash"], c["data"] + c["bss"])

    print("\nCortex-M4 (-Os -mthumb, newlib-nano, --gc-sections): flash / RAM bytes")
    print("(flash = .text + .rodata; RAM = .data + .bss; the heap is measured apart)\n")
    row("", names)
    objs = sorted({o for _, s in configs for (who, o) in s if who == "synfin"})
    for label, pred in GROUPS:
        tot = []
        for _, s in configs:
            c = collections.Counter()
            for (who, o), v in s.items():
                if who == "synfin" and pred(o):
                    c.update(v)
            tot.append(cell(c))
        row(label, tot)
        for o in objs:
            if pred(o):
                row("    " + o[:-2], [cell(s.get(("synfin", o), collections.Counter()))
                                      for _, s in configs])
    totals = {}
    for name, s in configs:
        t = collections.Counter()
        for (who, _), v in s.items():
            t[who] += 0
        totals[name] = t
    groups = ["synfin", "libc_nano.a", "libgcc.a", "libnosys.a", "app", "startup"]
    print()
    res = []
    for g in groups:
        vals = []
        for name, s in configs:
            c = collections.Counter()
            for (who, _), v in s.items():
                if who == g or (g == "startup" and who not in groups):
                    c.update(v)
            vals.append(cell(c))
            res.append((name, g, c))
        label = {"synfin": "synfin total", "libc_nano.a": "newlib-nano (memcpy, malloc, ...)",
                 "libgcc.a": "libgcc (64-bit division, ...)", "libnosys.a": "libnosys (stubs)",
                 "app": "the fake board and the echo app",
                 "startup": "C runtime start-up"}[g]
        row(label, vals)
    allv = []
    for name, s in configs:
        c = collections.Counter()
        for v in s.values():
            c.update(v)
        allv.append(cell(c))
        res.append((name, "image", c))
    row("whole image", allv)
    for name, g, c in res:
        g = {"libc_nano.a": "libc", "libgcc.a": "libgcc", "libnosys.a": "nosys"}.get(g, g)
        print("RESULT footprint %s %s_flash %d B" % (name, g, c["flash"]))
        print("RESULT footprint %s %s_ram %d B" % (name, g, c["data"] + c["bss"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
