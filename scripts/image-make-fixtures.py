#!/usr/bin/env python3
"""Writes the small JPEG fixtures of Tests/FaceRPCImageTests/Fixtures (needs Pillow).

Each JPEG's expected pixels come from PIL (an independent decoder), as raw RGB
(.rgb, rows top to bottom) next to it. Re-running rewrites identical files
for the same Pillow version.

  base.rgb                 24x16 image of six 8x8 colour blocks (the orientation truth)
  orient_{ii,mm}_{1..8}.jpg  base, stored pre-transformed, with EXIF orientation 1..8
                           in little- (II) and big-endian (MM) TIFF byte order
  gray.jpg / gray.rgb      grayscale JPEG and PIL's RGB decode of it
  cmyk.jpg / cmyk.rgb      Adobe (inverted) CMYK JPEG and PIL's RGB decode
  progressive.jpg / .rgb   progressive 4:2:0 JPEG and PIL's decode
  tiny.png, tiny.gif       non-JPEG images for the error paths
"""
import os
import struct
import sys

from PIL import Image, ImageOps

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FaceRPCImageTests", "Fixtures")

# Inverse of each orientation's display transform: applying it to the upright
# image gives the stored pixels.
STORE = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],    # display rotates 90 CW, so store rotated 90 CCW
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}

COLORS = [(220, 30, 30), (30, 200, 40), (40, 60, 220), (240, 230, 40), (230, 40, 220), (250, 250, 250)]


def base_image():
    im = Image.new("RGB", (24, 16))
    px = im.load()
    for by in range(2):
        for bx in range(3):
            color = COLORS[by * 3 + bx]
            for y in range(8):
                for x in range(8):
                    px[bx * 8 + x, by * 8 + y] = color
    return im


def exif_bytes(orientation, big_endian):
    e = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    # One IFD entry: tag 0x0112 (Orientation), type SHORT, count 1, value left-aligned.
    tiff += struct.pack(e + "H", 1) + struct.pack(e + "HHI", 0x0112, 3, 1) + struct.pack(e + "HH", orientation, 0)
    tiff += struct.pack(e + "I", 0)
    return b"Exif\x00\x00" + tiff


def save_rgb(im, name):
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(im.convert("RGB").tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    base = base_image()
    save_rgb(base, "base.rgb")
    for big_endian, tag in ((False, "ii"), (True, "mm")):
        for o, ops in STORE.items():
            stored = base
            for op in ops:
                stored = stored.transpose(op)
            path = os.path.join(OUT, f"orient_{tag}_{o}.jpg")
            stored.save(path, quality=95, subsampling=0, exif=exif_bytes(o, big_endian))
            with Image.open(path) as check:
                upright = ImageOps.exif_transpose(check)
                assert upright.size == base.size, (path, upright.size)
                # Block centres must match the upright truth (JPEG error is small at q95, 4:4:4).
                for by in range(2):
                    for bx in range(3):
                        got = upright.getpixel((bx * 8 + 4, by * 8 + 4))
                        want = COLORS[by * 3 + bx]
                        assert all(abs(a - b) <= 12 for a, b in zip(got, want)), (path, got, want)

    gray = Image.new("L", (16, 12))
    gray.putdata([(x * 16 + y * 5) % 256 for y in range(12) for x in range(16)])
    gray.save(os.path.join(OUT, "gray.jpg"), quality=90)
    with Image.open(os.path.join(OUT, "gray.jpg")) as im:
        save_rgb(im, "gray.rgb")

    cmyk = base.convert("CMYK")
    cmyk.save(os.path.join(OUT, "cmyk.jpg"), quality=95)
    with Image.open(os.path.join(OUT, "cmyk.jpg")) as im:
        assert im.mode == "CMYK"
        save_rgb(im, "cmyk.rgb")

    grad = Image.new("RGB", (40, 24))
    grad.putdata([(x * 6, y * 10, (x * y) % 256) for y in range(24) for x in range(40)])
    grad.save(os.path.join(OUT, "progressive.jpg"), quality=80, progressive=True, subsampling=2)
    with Image.open(os.path.join(OUT, "progressive.jpg")) as im:
        save_rgb(im, "progressive.rgb")

    base.resize((4, 4)).save(os.path.join(OUT, "tiny.png"))
    base.resize((4, 4)).save(os.path.join(OUT, "tiny.gif"))
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
