#!/usr/bin/env bash
# The issue-7 load test: a fresh server, then `facerpc load` with 1,000
# connections (a mix of Predict and Health) over the Unix socket and over TCP,
# each for SECONDS (default 60, at most 300). Fails on any error or on server
# memory growing more than 10% after the warm-up. Prints one JSON line per run.
#   scripts/load-test.sh [SECONDS]         (FACERPC_BIN, FACERPC_MODELS_DIR as in make test)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
bin=${FACERPC_BIN:-.build/release/facerpc}
models=${FACERPC_MODELS_DIR:-models}
image=${LOAD_IMAGE:-../shared/data/detection/demo_smahesh29/man1.jpg}
[ -f "$image" ] || image=Tests/FaceRPCImageTests/Fixtures/orient_ii_1.jpg
# 1,000 client sockets plus 1,000 server sockets in one session.
ulimit -n 8192
work=$(mktemp -d /tmp/facerpc-load-XXXXXX)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
# Queue room for every connection: a closed loop of 1,000 callers must not be shed (RESOURCE_EXHAUSTED).
"$bin" serve --unix "$work/s.sock" --tcp 127.0.0.1:0 --models "$models" --max-connections 2048 --max-queued-calls 2048 \
  --log-level warning > "$work/serve.out" 2> "$work/serve.err" &
server=$!
for _ in $(seq 1 200); do grep -q "listening on tcp:" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
tcp=$(sed -n 's/^listening on tcp://p' "$work/serve.out")
# Wait until the models serve, so the warm-up is not model loading.
for _ in $(seq 1 300); do "$bin" health --unix "$work/s.sock" --service age >/dev/null 2>&1 && break; sleep 0.2; done
status=0
for target in "--unix $work/s.sock" "--tcp $tcp"; do
  # shellcheck disable=SC2086
  "$bin" load $target --conns 1000 --seconds "$seconds" --warmup 30 --image "$image" --predict-share 0.1 \
    --pid "$server" --max-rss-growth 10 || status=1
done
exit $status
