#!/usr/bin/env bash
# Benchmark: `palisade watch --once` on a synthetic cluster of 50,000 pods (with their
# Deployments, ReplicaSets, Services, ServiceAccounts and RBAC), served over HTTPS on loopback
# by the changing recorded API server (`live_server`, lists and watch streams), next to
# `palisade scan --cluster` reading the same server and `palisade scan --snapshot` of the same
# objects, measured in the same run. The roadmap's target: bounded memory at 50k pods.
# Prints, judges nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
pods="${PODS:-50000}"
. bench/live-server.sh
serve_synthetic "$pods"
out="$dir/out"
. bench/measure.sh
common=(--no-config --kubeconfig "$dir/kubeconfig" --request-timeout 5m)
read -r snap_s snap_kb < <(measure "$bin" scan --snapshot "$dir/cluster.json" -o json --fail-on none --no-config)
read -r live_s live_kb < <(measure "$bin" scan --cluster "${common[@]}" -o json --fail-on none)
read -r watch_s watch_kb < <(measure "$bin" watch --once "${common[@]}" --events "$dir/events.jsonl")
scan_line=$(grep '"event":"scan"' "$dir/events.jsonl" | tail -n 1)
rm -f "$dir/events.jsonl"
python3 - "$scan_line" <<'PY'
import json, sys
line = json.loads(sys.argv[1])
print(f"watch's last scan: {line['objects']} objects scanned in {line['milliseconds']} ms; "
      f"kept {line['kept_objects']} objects in {line['kept_bytes'] / 1e6:.0f} MB of JSON; "
      f"{line['open']} findings open")
PY
awk -v a="$snap_s" -v ak="$snap_kb" -v b="$live_s" -v bk="$live_kb" -v c="$watch_s" -v ck="$watch_kb" 'BEGIN{
  printf "scan --snapshot (baseline):   %.2f s, peak RSS %.0f MB\n", a, ak*1024/1e6;
  printf "scan --cluster:               %.2f s, peak RSS %.0f MB (%.2fx the snapshot scan time, %.2fx its memory)\n", b, bk*1024/1e6, b/a, bk/ak;
  printf "watch --once (list + watch):  %.2f s, peak RSS %.0f MB (%.2fx the snapshot scan time, %.2fx its memory)\n", c, ck*1024/1e6, c/a, ck/ak }'
