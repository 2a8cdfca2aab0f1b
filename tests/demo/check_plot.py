#!/usr/bin/python3
"""Checks the demo's picture: a valid PNG of sane size that is not blank,
and an SVG (matplotlib's) carrying the event label and every series name.

Usage: check_plot.py out.png out.svg LABEL SERIES...
Only the standard library: the check must not trust the library it checks.
"""
import struct
import sys
import zlib


def check_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG (signature)"
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        if pos + 8 > len(data):
            return "truncated chunk header"
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            return f"bad CRC in chunk {kind!r}"
        chunks.append(kind)
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    if not chunks or chunks[0] != b"IHDR" or chunks[-1] != b"IEND":
        return "IHDR first and IEND last expected"
    if not (600 <= width <= 4000 and 400 <= height <= 3000):
        return f"odd size {width}x{height}"
    raw = zlib.decompress(idat)
    if len(set(raw[: len(raw) // 2])) < 16:  # a drawing has many distinct byte values
        return "the image is (almost) blank"
    print(f"{path}: PNG {width}x{height}, {len(data)} bytes, depth {depth}, color type {color}")
    return None


def main(argv):
    png, svg, label, series = argv[1], argv[2], argv[3], argv[4:]
    problem = check_png(png)
    if problem:
        print(f"{png}: {problem}", file=sys.stderr)
        return 1
    text = open(svg, encoding="utf-8").read()
    if "<svg" not in text:
        print(f"{svg}: not an SVG", file=sys.stderr)
        return 1
    for needle in [label] + series:
        if needle not in text:
            print(f"{svg}: '{needle}' missing", file=sys.stderr)
            return 1
    print(f"{svg}: has '{label}' and {', '.join(series)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
