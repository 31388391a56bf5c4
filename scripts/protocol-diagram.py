#!/usr/bin/env python3
"""Draw the protocol's sequence diagram, docs/img/protocol.svg, from its text source.

    scripts/protocol-diagram.py [SOURCE [OUTPUT]]

SOURCE defaults to docs/img/protocol.txt and OUTPUT to docs/img/protocol.svg, both in this
checkout; OUTPUT "-" is standard output. The source's header describes its line format.

The SVG is written by hand, not by a plotting library, so that the picture needs nothing beyond
Python's standard library and comes out byte for byte the same on every machine:
tests/cli/t0975-diagram.sh regenerates it and compares it with the committed one. Text widths
are estimated from the monospace advance of 0.6 em (the box contents are monospace), so that
wrapping does not depend on the fonts installed.
"""
import os
import sys
from xml.sax.saxutils import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Monochrome, plus one accent colour for the client's state file.
INK = "#1f2328"
GREY = "#6e7781"
RULE = "#8c959f"
BAND = "#f3f4f6"
ACCENT = "#c2410c"

SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"

WIDTH = 1080
MARGIN = 20
MONO_SIZE = 12
CHAR = 0.6 * MONO_SIZE + 0.2  # a little over the advance: a wrapped line never overflows its box
CMD_SIZE = 13
LINE = 16          # box text line height
BOX_PAD = 9        # inside a box
BOX_GAP = 20       # between a lane's column and its box
KEY_CHARS = 7      # "writes " ahead of a list, so that the items line up
ROW_GAP = 12
SEND_ROW = 30      # an arrow with its label
BAND_HEAD = 30
BAND_PAD = 12
BAND_GAP = 10


class SourceError(Exception):
    pass


# --- the source ------------------------------------------------------------------------------

def split_top(text, sep):
    """Split on sep outside parentheses."""
    out, depth, cur, i = [], 0, "", 0
    while i < len(text):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            out.append(cur)
            cur = ""
            i += len(sep)
            continue
        cur += c
        i += 1
    out.append(cur)
    return [s.strip() for s in out if s.strip()]


def parse(path):
    d = {"title": "", "lanes": [], "states": [], "rounds": [], "notes": []}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{no}"
        word, _, rest = line.partition(" ")
        fields = [x.strip() for x in rest.split(" | ")]
        if word == "title":
            d["title"] = rest.strip()
        elif word == "lane":
            if len(fields) not in (3, 4) or (len(fields) == 4 and fields[3] != "faint"):
                raise SourceError(f"{where}: lane KEY | TITLE | SUBTITLE [| faint]")
            if any(l["key"] == fields[0] for l in d["lanes"]):
                raise SourceError(f"{where}: lane '{fields[0]}' is declared twice")
            d["lanes"].append({"key": fields[0], "title": fields[1], "subtitle": fields[2],
                               "faint": len(fields) == 4})
        elif word == "state":
            d["states"].append(rest.strip())
        elif word == "round":
            if len(fields) not in (2, 3) or (len(fields) == 3 and fields[2] != "active"):
                raise SourceError(f"{where}: round LABEL | NAME [| active]")
            d["rounds"].append({"label": fields[0], "name": fields[1], "active": len(fields) == 3,
                                "items": []})
        elif word in ("step", "send"):
            if not d["rounds"]:
                raise SourceError(f"{where}: a {word} before the first round")
            if word == "step":
                if len(fields) < 2:
                    raise SourceError(f"{where}: step LANE | COMMAND | LINE...")
                item = {"kind": "step", "lane": lane_of(d, fields[0], where), "command": fields[1],
                        "lines": fields[2:]}
            else:
                ends, _, label = rest.partition(" | ")
                src, arrow, dst = ends.partition(" -> ")
                if not arrow or not label.strip():
                    raise SourceError(f"{where}: send FROM -> TO | LABEL")
                a, b = lane_of(d, src.strip(), where), lane_of(d, dst.strip(), where)
                if a == b:
                    raise SourceError(f"{where}: an arrow from lane '{src.strip()}' to itself")
                item = {"kind": "send", "from": a, "to": b, "label": label.strip()}
            d["rounds"][-1]["items"].append(item)
        elif word == "note":
            d["notes"].append(rest.strip())
        else:
            raise SourceError(f"{where}: unknown statement '{word}' (title, lane, state, round, step, send, note)")
    if not d["lanes"]:
        raise SourceError(f"{path}: no lanes")
    return d


def lane_of(d, key, where):
    for i, l in enumerate(d["lanes"]):
        if l["key"] == key:
            return i
    raise SourceError(f"{where}: unknown lane '{key}' (declare it with a lane line first)")


# --- text: styled words, wrapped -------------------------------------------------------------

def styled_words(item, states, base="ink"):
    """An item as (word, style) pairs: a state file in the accent, "(...)" in grey."""
    main, paren = item, ""
    k = item.find(" (")
    if k >= 0:
        main, paren = item[:k], item[k + 1:]
    style = "state" if main.split(" ")[0] in states else base
    words = [(w, style) for w in main.split(" ") if w]
    words += [(w, "grey") for w in paren.split(" ") if w]
    return words


def list_words(items, states):
    words = []
    for i, item in enumerate(items):
        ws = styled_words(item, states)
        if i + 1 < len(items):
            ws[-1] = (ws[-1][0] + ",", ws[-1][1])
        words += ws
    return words


def wrap(words, chars, where):
    lines, cur, n = [], [], 0
    for w, s in words:
        if len(w) > chars:
            raise SourceError(f"{where}: '{w}' is longer than a line of its box ({chars} characters)")
        if cur and n + 1 + len(w) > chars:
            lines.append(cur)
            cur, n = [], 0
        n += len(w) + (1 if cur else 0)
        cur.append((w, s))
    if cur:
        lines.append(cur)
    return lines


FILL = {"ink": INK, "grey": GREY, "state": ACCENT}


def tspans(words):
    """Words of one line as tspans, one per run of a style; the space goes with the run before
    (the root element's xml:space="preserve" keeps it)."""
    runs = []
    for w, s in words:
        if runs and runs[-1][1] == s:
            runs[-1][0].append(w)
        else:
            if runs:
                runs[-1][0].append("")  # the space before this run, at the end of the last one
            runs.append(([w], s))
    out = []
    for ws, s in runs:
        attrs = f' fill="{FILL[s]}"' + (' font-weight="bold"' if s == "state" else "")
        out.append(f"<tspan{attrs}>{escape(' '.join(ws))}</tspan>")
    return "".join(out)


# --- layout ----------------------------------------------------------------------------------

class Svg:
    def __init__(self):
        self.parts = []

    def add(self, s):
        self.parts.append(s)


def lane_x(d, i):
    col = (WIDTH - 2 * MARGIN) / len(d["lanes"])
    return round(MARGIN + col * (i + 0.5))


def box_width(d):
    return round((WIDTH - 2 * MARGIN) / len(d["lanes"]) - BOX_GAP)


def box_lines(d, item, where):
    """The lines of a step's box under its command: (indent in characters, words, keyword or None)."""
    chars = int((box_width(d) - 2 * BOX_PAD) / CHAR)
    out = []
    for text in item["lines"]:
        key, _, rest = text.partition(" ")
        if key in ("reads", "writes") and rest:
            lines = wrap(list_words(split_top(rest, "; "), d["states"]), chars - KEY_CHARS, where)
            for j, ws in enumerate(lines):
                out.append((KEY_CHARS, ws, [(key, "grey")] if j == 0 else None))
        else:
            for ws in wrap([(w, "grey") for w in text.split(" ") if w], chars, where):
                out.append((0, ws, None))
    return out


def draw_box(svg, d, item, y, where):
    lane = d["lanes"][item["lane"]]
    w = box_width(d)
    x = lane_x(d, item["lane"]) - w // 2
    lines = box_lines(d, item, where)
    h = 2 * BOX_PAD + LINE + LINE * len(lines) - 2
    stroke = RULE if lane["faint"] else INK
    svg.add(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="#ffffff" stroke="{stroke}"'
            f' stroke-width="1.2"/>')
    tx, ty = x + BOX_PAD, y + BOX_PAD + 12
    cmd_fill = GREY if lane["faint"] else INK
    svg.add(f'<text x="{tx}" y="{ty}" font-family="{MONO}" font-size="{CMD_SIZE}" font-weight="bold"'
            f' fill="{cmd_fill}">{escape(item["command"])}</text>')
    for k, (indent, ws, key) in enumerate(lines):
        ly = ty + LINE * (k + 1)
        if key:
            svg.add(f'<text x="{tx}" y="{ly}" font-family="{MONO}" font-size="{MONO_SIZE}">{tspans(key)}</text>')
        svg.add(f'<text x="{tx + round(indent * CHAR)}" y="{ly}" font-family="{MONO}"'
                f' font-size="{MONO_SIZE}">{tspans(ws)}</text>')
    return h


def draw_send(svg, d, item, y):
    x1, x2 = lane_x(d, item["from"]), lane_x(d, item["to"])
    ay = y + SEND_ROW - 6
    end = x2 - 2 if x2 > x1 else x2 + 2  # the arrowhead's tip on the lifeline
    svg.add(f'<line x1="{x1}" y1="{ay}" x2="{end}" y2="{ay}" stroke="{INK}" stroke-width="1.3"'
            f' marker-end="url(#arrow)"/>')
    words = styled_words(item["label"], d["states"])
    svg.add(f'<text x="{(x1 + x2) // 2}" y="{ay - 7}" text-anchor="middle" font-family="{MONO}"'
            f' font-size="{MONO_SIZE}">{tspans(words)}</text>')


def rows_of(rnd):
    """Group a round's items into rows: steps on distinct lanes, arrows that do not overlap."""
    rows = []
    for item in rnd["items"]:
        row = rows[-1] if rows else None
        if row and row[0]["kind"] == item["kind"]:
            if item["kind"] == "step":
                fits = all(o["lane"] != item["lane"] for o in row)
            else:
                lo, hi = sorted((item["from"], item["to"]))
                fits = all(max(lo, min(o["from"], o["to"])) >= min(hi, max(o["from"], o["to"])) for o in row)
            if fits:
                row.append(item)
                continue
        rows.append([item])
    return rows


def render(d, where, source_name):
    body = Svg()
    y = MARGIN + 18
    body.add(f'<text x="{MARGIN}" y="{y}" font-size="17" font-weight="bold" fill="{INK}">'
             f'{escape(d["title"])}</text>')

    # Lane headers.
    y += 18
    head_h = 44
    for i, lane in enumerate(d["lanes"]):
        w = box_width(d)
        x = lane_x(d, i)
        stroke = RULE if lane["faint"] else INK
        body.add(f'<rect x="{x - w // 2}" y="{y}" width="{w}" height="{head_h}" rx="6" fill="#ffffff"'
                 f' stroke="{stroke}" stroke-width="1.6"/>')
        body.add(f'<text x="{x}" y="{y + 19}" text-anchor="middle" font-size="15" font-weight="bold"'
                 f' fill="{INK}">{escape(lane["title"])}</text>')
        body.add(f'<text x="{x}" y="{y + 35}" text-anchor="middle" font-size="12" fill="{GREY}">'
                 f'{escape(lane["subtitle"])}</text>')
    lifeline_top = y + head_h
    y += head_h + 14

    bands, content = [], Svg()
    for rnd in d["rounds"]:
        top = y
        y += BAND_HEAD
        for row in rows_of(rnd):
            if row[0]["kind"] == "step":
                h = 0
                for item in row:
                    h = max(h, draw_box(content, d, item, y, f"{where}: round '{rnd['label']}'"))
                y += h + ROW_GAP
            else:
                for item in row:
                    draw_send(content, d, item, y)
                y += SEND_ROW + ROW_GAP
        y += BAND_PAD - ROW_GAP
        bands.append((rnd, top, y))
        y += BAND_GAP
    lifeline_bottom = y - BAND_GAP

    svg = Svg()
    for rnd, top, bottom in bands:
        x, w, h = MARGIN - 10, WIDTH - 2 * MARGIN + 20, bottom - top
        if rnd["active"]:
            svg.add(f'<rect x="{x}" y="{top}" width="{w}" height="{h}" rx="6" fill="#ffffff" stroke="{GREY}"'
                    f' stroke-width="1.3" stroke-dasharray="7 4"/>')
            svg.add(f'<text x="{x + w - 12}" y="{top + 20}" text-anchor="end" font-size="13" font-style="italic"'
                    f' fill="{INK}">active sessions only (--threat-model active)</text>')
        else:
            svg.add(f'<rect x="{x}" y="{top}" width="{w}" height="{h}" rx="6" fill="{BAND}"/>')
        svg.add(f'<text x="{x + 12}" y="{top + 20}" font-size="14" fill="{INK}"><tspan font-weight="bold">'
                f'{escape(rnd["label"])}</tspan><tspan fill="{GREY}"> \u00b7 </tspan>{escape(rnd["name"])}</text>')
    for i in range(len(d["lanes"])):
        x = lane_x(d, i)
        svg.add(f'<line x1="{x}" y1="{lifeline_top}" x2="{x}" y2="{lifeline_bottom}" stroke="{RULE}"'
                f' stroke-width="1" stroke-dasharray="3 4"/>')
    svg.parts += content.parts

    # The legend, then the notes.
    y = lifeline_bottom + 26
    for s in d["states"]:
        svg.add(f'<text x="{MARGIN}" y="{y}" font-size="12.5" fill="{INK}"><tspan font-family="{MONO}"'
                f' font-weight="bold" fill="{ACCENT}">{escape(s)}</tspan> is the client\'s state file (secret,'
                f' mode 0600): every client step reads it and writes its next version.</text>')
        y += 19
    for n in d["notes"]:
        svg.add(f'<text x="{MARGIN}" y="{y}" font-size="12.5" fill="{INK}">{escape(n)}</text>')
        y += 19
    height = y - 19 + MARGIN

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- Generated by scripts/protocol-diagram.py from {escape(source_name)}: edit that file,"
        " not this one. -->",
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" font-family="{SANS}" xml:space="preserve">',
        f"<title>{escape(d['title'])}</title>",
        "<defs>",
        f'<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9"'
        f' markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    out += body.parts + svg.parts + ["</svg>", ""]
    return "\n".join(out)


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1] in ("-h", "--help")):
        sys.stderr.write("usage: protocol-diagram.py [SOURCE [OUTPUT]]\n")
        return 64
    source = argv[1] if len(argv) > 1 else os.path.join(ROOT, "docs", "img", "protocol.txt")
    output = argv[2] if len(argv) > 2 else os.path.join(ROOT, "docs", "img", "protocol.svg")
    try:
        d = parse(source)
        svg = render(d, source, os.path.relpath(os.path.abspath(source), ROOT))
    except OSError as e:
        sys.stderr.write(f"protocol-diagram: {e.filename}: {e.strerror}\n")
        return 66
    except SourceError as e:
        sys.stderr.write(f"protocol-diagram: {e}\n")
        return 65
    if output == "-":
        sys.stdout.write(svg)
    else:
        tmp = output + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(svg)
        os.replace(tmp, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
