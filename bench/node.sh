#!/usr/bin/env bash
# Benchmark: `palisade node` on a control-plane node whose directories are large. Copies the
# kubeadm node fixture (crates/palisade-node/tests/fixtures/kubeadm-node) and adds ENTRIES
# certificates and keys under its PKI directory and ENTRIES files under its CNI directory
# (default 2,000 each; a real node has about 30), then measures, best of RUNS, `palisade node`
# against `find -printf` over the same files (what kube-bench's `stat` calls read, in one
# process), measured in the same run. Prints the times, the ratio and peak RSS; judges nothing
# (these machines are noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
entries="${ENTRIES:-2000}"
runs="${RUNS:-5}"
cargo build --release -q -p palisade
bin=target/release/palisade
work=$(mktemp -d); out=$(mktemp); trap 'rm -rf "$work" "$out" "$out.time"' EXIT
. bench/measure.sh

cp -r crates/palisade-node/tests/fixtures/kubeadm-node "$work/root"
root="$work/root"
for i in $(seq "$entries"); do
  echo "certificate $i" > "$root/etc/kubernetes/pki/client-$i.crt"
  echo "key $i" > "$root/etc/kubernetes/pki/client-$i.key"
  echo "{}" > "$root/etc/cni/net.d/$i.conflist"
done
files=$(find "$root" | wc -l)

read -r node node_rss < <(measure "$bin" node --root "$root" -o json --fail-on none)
findings=$(python3 -c "import json; print(len(json.load(open('$out'))['findings']))")
read -r find_s find_rss < <(measure find "$root/etc/kubernetes" "$root/etc/cni" "$root/var/lib" "$root/etc/systemd" "$root/usr/lib/systemd" -printf '%m %u %g %p\n')
awk -v a="$node" -v b="$find_s" -v ra="$node_rss" -v rb="$find_rss" -v f="$findings" -v n="$files" 'BEGIN {
  printf "node of %d entries:  palisade node %.3f s (peak RSS %d MiB, %d findings)\n", n, a, ra/1024, f
  printf "                     find -printf  %.3f s (peak RSS %d MiB)\n", b, rb/1024
  if (b > 0) printf "ratio palisade/find: %.1fx\n", a/b
}'
