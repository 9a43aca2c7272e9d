#!/usr/bin/env bash
# Benchmark: how often `palisade watch` scans a cluster whose Pods' status keeps changing (as
# the kubelet writes it: conditions, probe times), with no other change. The changing recorded
# API server (`live_server`, HTTPS on loopback) serves a synthetic cluster of PODS pods and
# writes the status of CHURN of them a second. The watch runs SECONDS with `--settle 2s` twice
# in the same run: with the built-in rules only (no rule reads a Pod's status: no scan but the
# first) and with a Gatekeeper policy (which may read any field: every settled change is
# scanned). Prints, judges nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
pods="${PODS:-5000}"
churn="${CHURN:-50}"
seconds="${SECONDS_EACH:-30}"
. bench/live-server.sh
CHURN="$churn" serve_synthetic "$pods"
policy=crates/palisade/tests/policy/labels
follow() {
  local name=$1; shift
  local events="$dir/$name.jsonl"
  "$bin" watch --no-config --kubeconfig "$dir/kubeconfig" --request-timeout 5m \
    --settle 2s --events "$events" "$@" > /dev/null 2>&1 &
  local watch=$!
  sleep "$seconds"
  kill -TERM "$watch"; wait "$watch" || true
  python3 - "$events" "$name" "$seconds" <<'PY'
import json, sys
scans = [json.loads(l) for l in open(sys.argv[1]) if '"event":"scan"' in l]
ms = [s["milliseconds"] for s in scans]
print(f"{sys.argv[2]:>24}: {len(scans)} scans in {sys.argv[3]} s "
      f"({sum(ms) / 1000:.1f} s scanning; last scan {ms[-1] if ms else 0} ms, {scans[-1]['objects'] if scans else 0} objects)")
PY
}
echo "status of $churn pods a second written again, no other change:"
follow built-in-rules
follow with-a-policy --policy "$policy/template.yaml" --policy "$policy/samples/constraint.yaml"
