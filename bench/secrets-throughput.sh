#!/usr/bin/env bash
# Benchmark: what secret detection adds to a full scan of ../shared/corpora/real-manifests
# (issue "Secrets exposed in configuration": at most 20%). Runs the full scan with every rule
# and the same scan with the secret rules skipped, in the same run, best of N each, and
# prints the ratio. Not a test: machines are noisy, so it judges nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-../shared/corpora/real-manifests}"
runs="${RUNS:-7}"
if [ ! -d "$corpus" ]; then
  echo "skipped: corpus $corpus not found"
  exit 0
fi
cargo build --release -q
bin=target/release/palisade
secret_rules=POD027,SEC002,SEC010,SEC011,SEC012,SEC013,SEC014,SEC015,SEC016,SEC017,SEC018,SEC019,SEC020,SEC021,SEC022
out=$(mktemp); trap 'rm -f "$out" "$out.time"' EXIT

best() { # best wall time and its peak RSS over $runs runs, alternating nothing else
  local best="" rss=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$out.time" "$@" >"$out" 2>/dev/null || true
    read -r s m < <(tail -n 1 "$out.time")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; rss=$m; fi
  done
  echo "$best $rss"
}

read -r without without_rss < <(best "$bin" scan "$corpus" -o json --fail-on none --allow-incomplete --skip-rules "$secret_rules")
read -r with with_rss < <(best "$bin" scan "$corpus" -o json --fail-on none --allow-incomplete)
awk -v a="$without" -v b="$with" -v ra="$without_rss" -v rb="$with_rss" 'BEGIN {
  printf "scan without the secret rules: %.2f s, peak RSS %d MiB\n", a, ra/1024
  printf "scan with every rule:          %.2f s, peak RSS %d MiB\n", b, rb/1024
  printf "secret detection adds %.0f%% to the scan time (target: at most 20%%)\n", (b/a - 1) * 100
}'
