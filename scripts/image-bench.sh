#!/bin/sh
# Builds scripts/image-bench.swift with FaceRPCImage's sources in release mode
# (the same flags as `swift build -c release -Xswiftc -target-cpu -Xswiftc native`)
# and runs it. Needs ../shared/data for the corpus part.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${TMPDIR:-/tmp}/facerpc-image-bench
mkdir -p "$out"
cp "$root/scripts/image-bench.swift" "$out/main.swift"
swiftc -O -Ounchecked -target-cpu native -module-name FaceRPCImageBench -I "$root/Sources/CTurboJPEG" \
    "$root"/Sources/FaceRPCImage/*.swift "$out/main.swift" -lturbojpeg -o "$out/image-bench"
FACERPC_SHARED_DATA=${FACERPC_SHARED_DATA:-$root/../shared/data} exec "$out/image-bench" "$@"
