#!/bin/sh
# Builds FaceRPCDetection in release (as the product is built) and times
# ShapePredictor load and predict. Usage: scripts/shapes-bench.sh MODEL.dat [GRAY.raw W H L T R B]
set -eu
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -target-cpu -Xswiftc native --target FaceRPCDetection
bin=$(swift build -c release -Xswiftc -target-cpu -Xswiftc native --show-bin-path)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swiftc -O -target-cpu native -I "$bin/Modules" scripts/shapes-bench.swift \
    "$bin"/FaceRPCDetection.build/*.o "$bin"/FaceRPCImage.build/*.o -o "$out/shapes-bench"
"$out/shapes-bench" "$@"
