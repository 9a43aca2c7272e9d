#!/usr/bin/env bash
# Benchmark: every hostile input (the regression fixtures in crates/palisade-inventory/tests/hostile
# and the generated large ones) scanned by the release binary, with wall time and peak RSS next to
# the budget each must stay within: 2 s and 512 MB (issue "Trust", item 6). Prints; never judges.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p palisade
bin=target/release/palisade
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp crates/palisade-inventory/tests/hostile/*.yaml "$work/"
python3 - "$work" <<'PY'
import sys, os
d = sys.argv[1]
open(os.path.join(d, 'duplicate-keys-100k.yaml'), 'w').write('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\ndata:\n' + ''.join(f'  k: "{i}"\n' for i in range(100000)))
open(os.path.join(d, 'many-empty-documents.yaml'), 'w').write('---\n' * 200000)
open(os.path.join(d, 'long-scalar.yaml'), 'w').write('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: long}\ndata:\n  big: "' + 'x' * 3000000 + '"\n')
bomb = open(os.path.join(d, 'alias-bombs-30-documents.yaml')).read()
os.makedirs(os.path.join(d, 'ten-bombs'))
for i in range(10):
    open(os.path.join(d, 'ten-bombs', f'b{i}.yaml'), 'w').write(bomb)
for n in (96, 200):
    open(os.path.join(d, f'nested-complex-keys-{n}-bytes.yaml'), 'w').write('? ' * (n // 2) + '0\n')
# 20,000 Pods naming one RayCluster of 64 worker groups as their controller: each is matched
# against the templates (found once per inventory, not once per Pod).
import json
groups = [{'groupName': f'g{i}', 'template': {'spec': {'containers': [{'name': f'w{i}', 'image': 'ray:2'}]}}} for i in range(64)]
items = [{'apiVersion': 'ray.io/v1', 'kind': 'RayCluster', 'metadata': {'name': 'ray', 'namespace': 'ml', 'uid': 'u-ray'},
          'spec': {'headGroupSpec': {'template': {'spec': {'containers': [{'name': 'head', 'image': 'ray:2'}]}}}, 'workerGroupSpecs': groups}}]
for i in range(20000):
    items.append({'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': f'ray-g{i % 64}-{i}', 'namespace': 'ml', 'uid': f'p{i}',
                  'ownerReferences': [{'apiVersion': 'ray.io/v1', 'kind': 'RayCluster', 'name': 'ray', 'uid': 'u-ray', 'controller': True}]},
                  'spec': {'containers': [{'name': f'w{i % 64}', 'image': 'ray:2'}]}})
json.dump({'apiVersion': 'v1', 'kind': 'List', 'items': items}, open(os.path.join(d, 'ray-64-groups-20k-pods.yaml'), 'w'))
PY
printf '%-40s %8s %10s   %s\n' input seconds peak_MB "budget 2 s, 512 MB"
for input in "$work"/*.yaml "$work/ten-bombs"; do
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" scan "$input" -o json --fail-on none --allow-incomplete >/dev/null 2>&1 || true
  read -r secs kb < <(tail -n 1 "$work/time")
  mb=$((kb / 1024))
  verdict=within; awk "BEGIN{exit !($secs > 2 || $mb > 512)}" && verdict=OVER
  printf '%-40s %8s %10s   %s\n' "$(basename "$input")" "$secs" "$mb" "$verdict"
done
