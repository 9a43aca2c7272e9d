#!/usr/bin/env bash
# Benchmark: scan ../shared/corpora/real-manifests with every rule and JSON output, next to
# merely loading (parsing) the same files with the same parser, measured in the same run.
# Prints wall time, objects/s, peak RSS and the scan/parse ratio. Not a test: machines are noisy,
# so it reports the best of N runs and judges nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-../shared/corpora/real-manifests}"
runs="${RUNS:-5}"
if [ ! -d "$corpus" ]; then
  echo "skipped: corpus $corpus not found (pass a directory of manifests as the first argument)"
  exit 0
fi
cargo build --release -q
bin=target/release/palisade
out=$(mktemp); trap 'rm -f "$out" "$out.time"' EXIT

. bench/measure.sh

read -r parse_s parse_rss < <(measure "$bin" inventory "$corpus" -o json)
objects=$(python3 -c "import json,sys; print(len(json.load(open('$out'))['objects']))")
read -r scan_s scan_rss < <(measure "$bin" scan "$corpus" -o json --fail-on none --allow-incomplete)
python3 - "$out" "$objects" "$parse_s" "$parse_rss" "$scan_s" "$scan_rss" "$(nproc)" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
objects, parse_s, parse_rss, scan_s, scan_rss, cores = sys.argv[2:]
parse_s, scan_s = float(parse_s), float(scan_s)
s = report["summary"]
print(f"corpus: {objects} objects, {s['files']} files; {cores} cores; best of runs")
print(f"parse only (palisade inventory): {parse_s:.2f} s, {int(objects)/parse_s:,.0f} objects/s, peak RSS {int(parse_rss)/1024:.0f} MiB")
print(f"full scan, all rules, JSON:      {scan_s:.2f} s, {int(objects)/scan_s:,.0f} objects/s, peak RSS {int(scan_rss)/1024:.0f} MiB")
print(f"scan / parse: {scan_s/parse_s:.2f}x; scan peak RSS {int(scan_rss)*1024/1e6:.0f} MB   (targets: <= 1.5x, <= 1.6 s, < 200 MB)")
print(f"findings: {len(report['findings'])}; diagnostics: {len(report['diagnostics'])} "
      f"({', '.join(sorted(set(d['code'] for d in report['diagnostics'])))})")
PY
