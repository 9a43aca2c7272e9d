# Sourced by the bench scripts that read a served cluster. `serve_synthetic PODS` builds the
# binary and the changing recorded API server (`live_server`), writes a synthetic cluster of
# PODS pods to `$dir/cluster.json`, serves it over HTTPS on loopback (the server's
# environment passes through: `CHURN`) and waits until it is ready; `$bin` is the binary,
# `$dir` holds the kubeconfig, and both are cleaned up on exit.
serve_synthetic() {
  cargo build --release -q -p palisade
  cargo build --release -q -p palisade-cluster --features recorded-server --example live_server
  bin=target/release/palisade
  dir=$(mktemp -d)
  python3 bench/synthetic_cluster.py "$dir/cluster.json" "$1"
  target/release/examples/live_server "$dir/cluster.json" "$dir" > "$dir/server.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 600); do grep -q ready "$dir/server.log" && break; sleep 0.2; done
  cat "$dir/server.log"
}
