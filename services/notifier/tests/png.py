"""A small PNG reader for tests that look at pixels (the QR codes, the gallery's screenshot)."""

import struct
import zlib
from typing import NamedTuple

SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Png(NamedTuple):
    width: int
    height: int
    depth: int
    colour: int
    rows: list[bytearray]  # unfiltered scanlines


def decode(png: bytes, limit: int | None = None) -> Png:
    """Header and the first `limit` (default all) unfiltered rows of a non-interlaced PNG."""
    assert png.startswith(SIGNATURE)
    header, idat, at = b"", b"", 8
    while at < len(png):
        (size,) = struct.unpack(">I", png[at : at + 4])
        name, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + size]
        if name == b"IHDR":
            header = data
        elif name == b"IDAT":
            idat += data
        at += 12 + size
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert interlace == 0, "interlaced PNGs are not read here"
    channels = {0: 1, 2: 3, 6: 4}[colour]
    stride = (width * channels * depth + 7) // 8
    left = max(1, channels * depth // 8)  # below one byte a pixel, the left neighbour is a byte
    raw, rows, previous = zlib.decompress(idat), [], bytearray(stride)
    for y in range(height if limit is None else min(limit, height)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - left] if i >= left else 0
            b, c = previous[i], previous[i - left] if i >= left else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    return Png(width, height, depth, colour, rows)
