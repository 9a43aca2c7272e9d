#!/usr/bin/env bash
# Benchmark: `palisade scan --snapshot` on a synthetic cluster snapshot of 50,000 pods with
# their Deployments and ReplicaSets (owner references), Services, ServiceAccounts and RBAC,
# next to merely loading the same file (`palisade inventory`), measured in the same run.
# Targets (issue): under 10 s and under 1 GB peak RSS on 2 cores. Prints, judges nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
pods="${PODS:-50000}"
cargo build --release -q
bin=target/release/palisade
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
python3 bench/synthetic_cluster.py "$dir/cluster.json" "$pods"
ls -l "$dir/cluster.json" | awk '{printf "file: %.0f MB\n", $5/1e6}'
out="$dir/out"
. bench/measure.sh
read -r load_s load_kb < <(measure "$bin" inventory "$dir/cluster.json" --max-file-size-mb 4096 -o json)
read -r scan_s scan_kb < <(measure "$bin" scan --snapshot "$dir/cluster.json" -o json --fail-on none --no-config)
findings=$(python3 -c "import json; r=json.load(open('$dir/out')); print(len(r['findings']))")
awk -v l="$load_s" -v lk="$load_kb" -v s="$scan_s" -v sk="$scan_kb" -v f="$findings" 'BEGIN{
  printf "load only (baseline):   %.2f s, peak RSS %.0f MB\n", l, lk*1024/1e6;
  printf "scan --snapshot:        %.2f s, peak RSS %.0f MB (%.2fx load; targets < 10 s, < 1000 MB)\n", s, sk*1024/1e6, s/l;
  printf "findings: %d\n", f }'
