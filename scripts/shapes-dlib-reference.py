#!/usr/bin/env python3
"""Reference landmarks from dlib itself, for the ShapePredictor parity tests.

Usage: shapes-dlib-reference.py PREDICTOR.dat OUT_DIR IMAGE [IMAGE ...]

For each image: decodes it with dlib, runs dlib's frontal face detector
(upsampling once), adds a few synthetic boxes (the whole image, a box hanging
off the top-left corner, a detected box grown and shifted), and runs the
shape predictor on every box. Writes the RGB pixels dlib decoded to
OUT_DIR/<n>.rgb and the grayscale pixels the predictor reads ((r+g+b)//3,
dlib's rgb->gray rule) to OUT_DIR/<n>.gray, raw, row-major, and prints one
JSON document on stdout:

  {"images": [{"path", "width", "height", "rgb", "gray",
               "faces": [{"box": [l, t, r, b], "detected": bool,
                          "points": [[x, y], ...]}]}]}

Boxes are dlib rectangles (inclusive corners). The script also checks that
dlib gives the same points on the RGB array and on the gray array, which
pins down the conversion the Swift side reproduces.
"""
import json
import os
import sys

import dlib
import numpy as np


def predict(sp, img, rect):
    shape = sp(img, rect)
    return [[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sp = dlib.shape_predictor(sys.argv[1])
    out_dir = sys.argv[2]
    detector = dlib.get_frontal_face_detector()
    images = []
    for n, path in enumerate(sys.argv[3:]):
        rgb = dlib.load_rgb_image(path)
        h, w = rgb.shape[:2]
        gray = (rgb.astype(np.uint32).sum(axis=2) // 3).astype(np.uint8)
        rgb_path = os.path.join(out_dir, f"{n}.rgb")
        gray_path = os.path.join(out_dir, f"{n}.gray")
        np.ascontiguousarray(rgb).tofile(rgb_path)
        np.ascontiguousarray(gray).tofile(gray_path)

        boxes = [(r, True) for r in detector(rgb, 1)]
        boxes.append((dlib.rectangle(0, 0, w - 1, h - 1), False))
        boxes.append((dlib.rectangle(-w // 3, -h // 4, w // 2, h // 2), False))
        if boxes[0][1]:
            r = boxes[0][0]
            grow = r.width() // 5
            boxes.append((dlib.rectangle(r.left() - grow + 3, r.top() - grow, r.right() + grow + 3, r.bottom() + grow // 2), False))

        faces = []
        for rect, detected in boxes:
            points = predict(sp, rgb, rect)
            if points != predict(sp, gray, rect):
                sys.exit(f"{path}: dlib gives different points on RGB and on (r+g+b)//3 gray")
            faces.append({
                "box": [rect.left(), rect.top(), rect.right(), rect.bottom()],
                "detected": detected,
                "points": points,
            })
        images.append({"path": path, "width": w, "height": h, "rgb": rgb_path, "gray": gray_path, "faces": faces})
    json.dump({"images": images}, sys.stdout)


if __name__ == "__main__":
    main()
