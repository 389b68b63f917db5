#!/usr/bin/env python3
"""Measures where dlib's HOG box sits relative to our MTCNN box on UTKFace
training photos (both detectors, one face each), for ShapeBox in
Sources/FaceRPCPredict/FaceJob.swift. Needs a server on /tmp/ev.sock and dlib-bin.

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
