#!/usr/bin/env python3
"""Writes public/favicon.ico: Keygate's hexagon with a keyhole, 16/32/48 px, PNG-in-ICO, stdlib only."""
import math
import struct
import sys
import zlib
from pathlib import Path

BLUE = (0x25, 0x63, 0xEB)
WHITE = (0xFF, 0xFF, 0xFF)


def inside_hexagon(x, y):
    # Pointy-top regular hexagon centred at (0.5, 0.5), circumradius 0.48.
    dx, dy = abs(x - 0.5), abs(y - 0.5)
    r = 0.48
    w = r * math.sqrt(3) / 2
    return dx <= w and dy <= r - dx / math.sqrt(3)


def inside_keyhole(x, y):
    head = (x - 0.5) ** 2 + (y - 0.42) ** 2 <= 0.12**2
    stem = abs(x - 0.5) <= 0.055 + (y - 0.42) * 0.12 and 0.42 <= y <= 0.72
    return head or stem


def render(size, samples=4):
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            cov = [0.0, 0.0]  # hexagon coverage, keyhole coverage (within hexagon)
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples) / size
                    y = (py + (sy + 0.5) / samples) / size
                    if inside_hexagon(x, y):
                        cov[inside_keyhole(x, y)] += 1
            n = samples * samples
            alpha = (cov[0] + cov[1]) / n
            if alpha == 0:
                row += bytes((0, 0, 0, 0))
                continue
            t = cov[1] / (cov[0] + cov[1])
            rgb = [round(b * (1 - t) + w * t) for b, w in zip(BLUE, WHITE)]
            row += bytes(rgb + [round(alpha * 255)])
        rows.append(bytes(row))
    return rows


def png(size):
    raw = b"".join(b"\x00" + row for row in render(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(sizes):
    images = [png(s) for s in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries = b""
    for size, data in zip(sizes, images):
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + entries + b"".join(images)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "public" / "favicon.ico")
    out.write_bytes(ico([16, 32, 48]))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
