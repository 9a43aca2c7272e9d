#!/usr/bin/env bash
# Benchmark: the vulnerability assessment (`scan --sbom --osv-db`) on a database the size of
# OSV's largest exports. Builds an OSV export (`all.zip`) of RECORDS records (default 200,000:
# Debian's, npm's and PyPI's shapes, two ranges each, over PACKAGES package names) and an SBOM
# of SBOM_PACKAGES packages (default 2,000, a fifth of them vulnerable), then measures, best of
# RUNS, the scan of examples/shop alone, the same scan with the SBOM judged against the
# generated export, and the SBOM alone. Prints the times, peak RSS and what the assessment
# adds; judges nothing (these machines are noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
records="${RECORDS:-200000}"
packages="${PACKAGES:-20000}"
sbom_packages="${SBOM_PACKAGES:-2000}"
runs="${RUNS:-3}"
cargo build --release -q -p palisade
bin=target/release/palisade
work=$(mktemp -d); out=$(mktemp); trap 'rm -rf "$work" "$out" "$out.time"' EXIT
. bench/measure.sh

python3 - "$work" "$records" "$packages" "$sbom_packages" <<'PY'
import json, random, sys, zipfile
work, records, packages, sbom_packages = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(7)
kinds = [
    ("Debian:12", "deb", lambda n: f"lib{n}", lambda: f"{rng.randint(1,9)}.{rng.randint(0,20)}-{rng.randint(1,5)}+deb12u{rng.randint(1,9)}"),
    ("npm", "npm", lambda n: f"pkg-{n}", lambda: f"{rng.randint(0,9)}.{rng.randint(0,30)}.{rng.randint(0,30)}"),
    ("PyPI", "pypi", lambda n: f"py-{n}", lambda: f"{rng.randint(0,9)}.{rng.randint(0,30)}.{rng.randint(0,30)}"),
]
with zipfile.ZipFile(f"{work}/all.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(records):
        eco, _, name, version = kinds[i % 3]
        n = rng.randrange(packages)
        record = {
            "schema_version": "1.6.0", "id": f"BENCH-{i}", "aliases": [f"CVE-2099-{i}"],
            "summary": "A flaw of the benchmark",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": eco, "name": name(n)},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": version()}]},
                                     {"type": "ECOSYSTEM", "events": [{"introduced": version()}, {"fixed": version()}]}]}],
        }
        z.writestr(f"BENCH-{i}.json", json.dumps(record))
components = []
for i in range(sbom_packages):
    eco, kind, name, version = kinds[i % 3]
    n = rng.randrange(packages)
    purl = f"pkg:{kind}/{'debian/' if kind == 'deb' else ''}{name(n)}@{version()}" + ("?distro=debian-12.8" if kind == "deb" else "")
    components.append({"type": "library", "name": name(n), "purl": purl})
json.dump({"bomFormat": "CycloneDX", "specVersion": "1.5",
           "metadata": {"component": {"type": "container", "name": "registry.example.com/shop/api:2.3.1"}},
           "components": components}, open(f"{work}/sbom.cdx.json", "w"))
PY
ls -la "$work/all.zip" | awk '{printf "export: %.0f MB, '"$records"' records; SBOM: '"$sbom_packages"' packages\n", $5/1e6}'

read -r plain plain_rss < <(measure "$bin" scan examples/shop -o json --fail-on none)
read -r with with_rss < <(measure "$bin" scan examples/shop -o json --fail-on none --sbom "$work/sbom.cdx.json" --osv-db "$work/all.zip")
findings=$(python3 -c "import json,sys; print(sum(f['rule']=='VULN001' for f in json.load(open('$out'))['findings']))")
read -r alone alone_rss < <(measure "$bin" scan -o json --fail-on none --sbom "$work/sbom.cdx.json" --osv-db "$work/all.zip")
awk -v a="$plain" -v b="$with" -v c="$alone" -v ra="$plain_rss" -v rb="$with_rss" -v rc="$alone_rss" -v f="$findings" -v r="$records" 'BEGIN {
  printf "scan of examples/shop:                   %.2f s, peak RSS %d MiB\n", a, ra/1024
  printf "the same with the SBOM and the export:   %.2f s, peak RSS %d MiB (%d VULN001 findings)\n", b, rb/1024, f
  printf "the SBOM alone:                          %.2f s, peak RSS %d MiB\n", c, rc/1024
  printf "the assessment adds %.2f s (%.0f records read per second)\n", b - a, r / (b - a)
}'
