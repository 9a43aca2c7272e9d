#!/usr/bin/env bash
# Behaviour check for refactorings: runs two builds of palisade (a git revision and the working
# tree) over the real-manifests corpus, every rule fixture and the bundled examples, in every
# format, and compares the outputs byte for byte (only the run's duration is blanked) and the
# exit codes. Prints what differs and exits 1 if anything does.
#
#   bench/same-output.sh [BASE_REV]      (default: HEAD)
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-HEAD}"
corpus=../shared/corpora/real-manifests
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git worktree add -q --detach "$work/base-src" "$base"
trap 'git worktree remove --force "$work/base-src"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cargo build --release -q --manifest-path "$work/base-src/Cargo.toml" --target-dir target/same-output-base
cargo build --release -q
base_bin=target/same-output-base/release/palisade
new_bin=target/release/palisade

# One case per line: a name and the arguments.
cases() {
  local f
  if [ -d "$corpus" ]; then
    for fmt in json sarif junit table; do
      echo "corpus-$fmt scan $corpus -o $fmt --fail-on low"
    done
    echo "corpus-pss scan $corpus -o json --framework pss"
    echo "corpus-cis scan $corpus -o json --framework cis"
    echo "corpus-inventory inventory $corpus -o json"
  else
    echo "corpus $corpus is missing: the comparison would be incomplete" >&2
    exit 2
  fi
  for f in crates/palisade-rules/tests/fixtures/*/*.yaml; do
    local name
    name=$(echo "$f" | sed 's|.*/fixtures/||; s|/|-|; s|\.yaml||')
    echo "fixture-$name scan $f -o json --fail-on info"
    echo "fixture-$name-sarif scan $f -o sarif --fail-on info"
  done
  echo "examples-table scan examples -o table"
  echo "examples-json scan examples -o json"
  echo "examples-nsa scan examples -o json --framework nsa"
  echo "rules rules"
  echo "rbac-who-can rbac who-can get secrets examples/rbac"
  echo "rbac-access-table rbac access sa:web/web examples/rbac"
  echo "rbac-access-json rbac access sa:ops/backup examples/rbac -o json"
  echo "rbac-access-ns rbac access sa:web/web -n ops examples/rbac -o json"
  echo "rbac-access-corpus rbac access group:system:authenticated $corpus -o json"
  echo "rbac-paths rbac paths examples/rbac -o json"
  echo "rbac-paths-corpus rbac paths $corpus -o json"
  echo "rbac-who-can-corpus rbac who-can create pods $corpus"
}

run_all() { # bin outdir
  mkdir -p "$2"
  cases | while read -r name args; do
    # shellcheck disable=SC2086
    set +e
    NO_COLOR=1 "$1" $args >"$2/$name.out" 2>"$2/$name.err"
    echo $? >"$2/$name.rc"
    set -e
    sed -i -E 's/"duration_ms": [0-9]+/"duration_ms": 0/; s/<testsuites([^>]*) time="[0-9.]+"/<testsuites\1 time="0"/; s/ time="[0-9.]+"/ time="0"/g; s/in [0-9.]+ ?m?s\b/in 0s/g; s/, [0-9]+ ms;/, 0 ms;/g' "$2/$name.out"
  done
}

run_all "$base_bin" "$work/base"
run_all "$new_bin" "$work/new"
total=$(ls "$work/base" | grep -c '\.rc$')
if diff -r -q "$work/base" "$work/new" >"$work/diff"; then
  echo "same output: $total cases (outputs, diagnostics and exit codes) identical to $base"
else
  echo "DIFFERENT from $base:"
  cat "$work/diff"
  head -c 4000 <(diff -r "$work/base" "$work/new") || true
  exit 1
fi
