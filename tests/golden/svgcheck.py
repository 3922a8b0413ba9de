#!/usr/bin/env python3
"""Checks that nothing collides in a ladder SVG (synfin demo/ladder --svg).

Every text is a box: its x and y (the baseline) with its text-anchor, as wide
as its display width (East Asian wide and fullwidth characters count two
columns) times 7 px (the renderer's monospace 12 px advance), from 10 px
above the baseline to 3 px below. A state's text is inside its <rect>: the
rect is the box. Lines are every <line> (arrows, lifelines, section rules)
and the strokes of every <path> (lost marks).

Fails (exit 1, one line per problem) when two boxes intersect or a line
enters a box. With --crossing, also when no two segment arrows going
opposite ways cross (a simultaneous close, as in Stevens' figures).
Usage: svgcheck.py [--crossing] FILE.svg...
"""
import re
import sys
import unicodedata
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
CHAR_W = 7


def width(text):
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ('W', 'F') else 1
    return w * CHAR_W


def text_box(el):
    x, y = int(el.get('x')), int(el.get('y'))
    w = width(el.text or '')
    anchor = el.get('text-anchor', 'start')
    x0 = x if anchor == 'start' else x - w // 2 if anchor == 'middle' else x - w
    return (x0, y - 10, x0 + w, y + 3)


def meets(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def line_meets(s, b):
    """Liang-Barsky clip of segment s against box b (not grown)."""
    x0, y0, x1, y1 = s
    dx, dy = x1 - x0, y1 - y0
    p = (-dx, dx, -dy, dy)
    q = (x0 - b[0], b[2] - x0, y0 - b[1], b[3] - y0)
    t0, t1 = 0.0, 1.0
    for pi, qi in zip(p, q):
        if pi == 0:
            if qi < 0:
                return False
            continue
        t = qi / pi
        if pi < 0:
            if t > t1:
                return False
            t0 = max(t0, t)
        else:
            if t < t0:
                return False
            t1 = min(t1, t)
    # Touching an edge is not crossing: require some length inside.
    return t1 - t0 > 1e-9 and not (
        (x0 <= b[0] and x1 <= b[0]) or (x0 >= b[2] and x1 >= b[2]) or
        (y0 <= b[1] and y1 <= b[1]) or (y0 >= b[3] and y1 >= b[3]))


def crossing(path):
    """Do two arrows (class seg) going opposite ways cross?"""
    root = ET.parse(path).getroot()
    segs = [tuple(int(el.get(k)) for k in ('x1', 'y1', 'x2', 'y2'))
            for el in root.iter() if el.tag.replace(NS, '') == 'line' and
            (el.get('class') or '').startswith('seg')]

    def cross(a, b):
        def orient(p, q, r):
            v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
            return (v > 0) - (v < 0)
        p1, p2, p3, p4 = a[:2], a[2:], b[:2], b[2:]
        return (orient(p1, p2, p3) * orient(p1, p2, p4) < 0 and
                orient(p3, p4, p1) * orient(p3, p4, p2) < 0)
    for i, a in enumerate(segs):
        for b in segs[i + 1:]:
            if (a[2] > a[0]) != (b[2] > b[0]) and cross(a, b):
                return True
    return False


def check(path):
    problems = []
    root = ET.parse(path).getroot()
    boxes, lines = [], []
    rects = []
    for el in root.iter():
        tag = el.tag.replace(NS, '')
        if tag == 'rect' and el.get('class') == 'state':
            x, y = int(el.get('x')), int(el.get('y'))
            rects.append((x, y, x + int(el.get('width')), y + int(el.get('height'))))
            boxes.append(('state box', rects[-1]))
        elif tag == 'text':
            b = text_box(el)
            if el.get('class') == 'state':
                # Inside its rect (the rect is its box).
                if not any(r[0] <= b[0] and b[2] <= r[2] for r in rects):
                    problems.append('state text %r outside its box' % el.text)
                continue
            boxes.append(('text %r' % el.text, b))
        elif tag == 'line':
            lines.append(tuple(int(el.get(k)) for k in ('x1', 'y1', 'x2', 'y2')))
        elif tag == 'path' and el.get('class') == 'lost-mark':
            pts = [tuple(map(int, m)) for m in re.findall(r'[ML](-?\d+),(-?\d+)', el.get('d'))]
            for a, b in zip(pts[0::2], pts[1::2]):
                lines.append(a + b)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if meets(boxes[i][1], boxes[j][1]):
                problems.append('%s %s overlaps %s %s' % (boxes[i][0], boxes[i][1],
                                                          boxes[j][0], boxes[j][1]))
    for name, b in boxes:
        for s in lines:
            if line_meets(s, b):
                problems.append('line %s crosses %s %s' % (s, name, b))
    return problems


def main():
    bad = 0
    args = sys.argv[1:]
    want_crossing = '--crossing' in args
    for path in [a for a in args if a != '--crossing']:
        for p in check(path):
            print('%s: %s' % (path, p))
            bad += 1
        if want_crossing and not crossing(path):
            print('%s: no two arrows going opposite ways cross' % path)
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
