#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS seconds each (default 60), starting
# from the committed seeds (Fuzz/Corpus/<target>), the generated ones
# (.build-fuzz/seeds/<target>: the ONNX models, which are never committed) and
# the crash regressions (Fuzz/Regressions/<target>), and prints executions and
# coverage per target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (after `make fuzz-build fuzz-seeds`)
# A crash leaves its input in .build-fuzz/artifacts/<target>/; fix the bug, then
# commit the input under Fuzz/Regressions/<target>/ so `make test` replays it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true
targets=${*:-wire jpeg onnx checkpoint}
status=0
for t in $targets; do
  bin=.build-fuzz/release/fuzz-$t
  [ -x "$bin" ] || { echo "missing $bin: run make fuzz-build" >&2; exit 2; }
  work=.build-fuzz/corpus/$t
  mkdir -p "$work" ".build-fuzz/artifacts/$t"
  echo "== fuzz-$t for ${seconds}s"
  # ASan's leak checker at exit is not meaningful for a fuzzer killed on a timer.
  seeds=$(ls -d "Fuzz/Corpus/$t" ".build-fuzz/seeds/$t" 2>/dev/null || true)
  # shellcheck disable=SC2086
  if ! ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 "$bin" "$work" $seeds "Fuzz/Regressions/$t" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -artifact_prefix=".build-fuzz/artifacts/$t/" -print_final_stats=1 2> ".build-fuzz/fuzz-$t.log"; then
    status=1
    echo "fuzz-$t FOUND A FAILURE; see .build-fuzz/fuzz-$t.log and .build-fuzz/artifacts/$t/" >&2
    tail -40 ".build-fuzz/fuzz-$t.log" >&2
  fi
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|cov: " ".build-fuzz/fuzz-$t.log" | tail -5
done
exit $status
