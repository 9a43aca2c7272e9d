#!/usr/bin/env bash
# Palisade's secret detection next to Yelp's detect-secrets on the same inputs (issue "Secrets
# exposed in configuration"): the labelled set of crates/palisade-secrets (each case written
# as a ConfigMap, which both tools read as YAML), and ../shared/corpora/real-manifests.
# Prints, for each input, what each tool finds that the other does not, with the detector
# and the reason, and the time each took. Needs `detect-secrets` (pip install detect-secrets).
#
#   bench/secrets-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v detect-secrets >/dev/null || { echo "detect-secrets is not installed: pip install detect-secrets" >&2; exit 2; }
cargo build --release -q
exec python3 bench/secrets_compare.py target/release/palisade
