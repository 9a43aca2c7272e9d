#!/usr/bin/env bash
# Benchmark: `palisade fix` (dry run, JSON) on a corpus of manifests, next to `palisade scan` of
# the same files measured in the same run. A fix run scans once, edits, reads every edited file
# back and scans again with the edits in place, so about twice a scan is what it should cost.
# Prints wall time, peak RSS, the fix/scan ratio and what was fixed; best of N runs; judges
# nothing. Default corpus: ../shared/corpora/real-manifests (pass another as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-../shared/corpora/real-manifests}"
runs="${RUNS:-3}"
if [ ! -d "$corpus" ]; then
  echo "skipped: corpus $corpus not found (pass a directory of manifests as the first argument)"
  exit 0
fi
cargo build --release -q -p palisade
bin=target/release/palisade
out=$(mktemp); trap 'rm -f "$out" "$out.time"' EXIT

. bench/measure.sh

read -r scan_s scan_rss < <(measure "$bin" scan "$corpus" -o json --fail-on none --allow-incomplete)
read -r fix_s fix_rss < <(measure "$bin" fix "$corpus" -o json)
python3 - "$out" "$scan_s" "$scan_rss" "$fix_s" "$fix_rss" "$(nproc)" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
scan_s, scan_rss, fix_s, fix_rss, cores = sys.argv[2:]
scan_s, fix_s = float(scan_s), float(fix_s)
resolved = {}
for f in run["files"]:
    for rule, n in f["resolved"].items():
        resolved[rule] = resolved.get(rule, 0) + n
edits = sum(len(f["edits"]) for f in run["files"])
print(f"{cores} cores; best of runs")
print(f"scan (all rules, JSON):  {scan_s:.2f} s, peak RSS {int(scan_rss)/1024:.0f} MiB")
print(f"fix (dry run, JSON):     {fix_s:.2f} s, peak RSS {int(fix_rss)/1024:.0f} MiB")
print(f"fix / scan: {fix_s/scan_s:.2f}x time, {int(fix_rss)/int(scan_rss):.2f}x memory")
print(f"{len(run['files'])} files, {edits} edits, findings resolved {sum(resolved.values())} "
      f"({', '.join(f'{r} {n}' for r, n in sorted(resolved.items()))}); "
      f"not fixed {len(run['not_fixed'])}; open findings {run['open_findings']['before']} -> {run['open_findings']['after']}")
PY
