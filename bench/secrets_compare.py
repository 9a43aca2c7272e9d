"""The comparison behind bench/secrets-compare.sh (see there)."""
import collections, json, os, subprocess, sys, tempfile, time

PALISADE = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "crates/palisade-secrets/tests/labelled/cases.jsonl")
CORPUS = os.path.join(ROOT, "../shared/corpora/real-manifests")
SECRET_RULES = {"POD027", "SEC002", "SEC010", "SEC011", "SEC012", "SEC013", "SEC014", "SEC015",
                "SEC016", "SEC017", "SEC018", "SEC019", "SEC020", "SEC021"}


def palisade(path):
    start = time.monotonic()
    out = subprocess.run([PALISADE, "scan", path, "-o", "json", "--fail-on", "never"],
                         capture_output=True, text=True)
    took = time.monotonic() - start
    report = json.loads(out.stdout)
    found = [f for f in report["findings"] if f["rule"] in SECRET_RULES and "placeholder" not in f["message"]]
    return found, took


def detect_secrets(path):
    start = time.monotonic()
    out = subprocess.run(["detect-secrets", "scan", "--all-files", path], capture_output=True, text=True, cwd=path)
    took = time.monotonic() - start
    results = json.loads(out.stdout)["results"]
    return results, took


def yaml_scalar(value):
    if "\n" in value:
        return "|\n" + "\n".join("    " + line for line in value.rstrip("\n").split("\n"))
    return json.dumps(value)


def labelled():
    cases = [json.loads(l) for l in open(CASES) if l.strip()]
    with tempfile.TemporaryDirectory() as d:
        for i, c in enumerate(cases):
            with open(os.path.join(d, f"case{i:03}.yaml"), "w") as f:
                f.write(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: case{i}}}\ndata:\n  {json.dumps(c['name'])}: {yaml_scalar(c['value'])}\n")
        ours, our_time = palisade(d)
        theirs, their_time = detect_secrets(d)
    our_cases = {int(os.path.basename(f["location"]["file"])[4:7]) for f in ours}
    their_cases = collections.defaultdict(set)
    for name, items in theirs.items():
        for item in items:
            their_cases[int(os.path.basename(name)[4:7])].add(item["type"])
    print(f"== labelled set: {len(cases)} cases ({sum(1 for c in cases if c['expect'])} secrets)")
    for tool, found in (("palisade", our_cases), ("detect-secrets", set(their_cases))):
        tp = sum(1 for i in found if cases[i]["expect"])
        fp = len(found) - tp
        fn = sum(1 for i, c in enumerate(cases) if c["expect"] and i not in found)
        precision = tp / max(tp + fp, 1)
        recall = tp / max(tp + fn, 1)
        print(f"{tool:15} tp {tp:3} fp {fp:3} fn {fn:3}  precision {precision:.3f}  recall {recall:.3f}")
    only_ours = collections.Counter(cases[i]["expect"] or "not a secret" for i in our_cases - set(their_cases))
    only_theirs = collections.Counter((cases[i]["expect"] or "not a secret: " + cases[i]["note"], ", ".join(sorted(their_cases[i]))) for i in set(their_cases) - our_cases)
    print("found by palisade only (label: count):", dict(only_ours))
    print("found by detect-secrets only (label, its detector: count):")
    for (label, kind), n in sorted(only_theirs.items(), key=lambda x: -x[1]):
        print(f"   {n:3}  {label}  <- {kind}")
    print(f"time: palisade {our_time:.2f} s, detect-secrets {their_time:.2f} s")


def corpus():
    if not os.path.isdir(CORPUS):
        print("no corpus at", CORPUS)
        return
    ours, our_time = palisade(CORPUS)
    theirs, their_time = detect_secrets(CORPUS)
    # Palisade locates a finding at the field (for a multi-line value, its first line), so a
    # detect-secrets line matches when it falls inside that value: the same file, at or after
    # the field's line and no further than the value's line count.
    by_file = collections.defaultdict(list)
    for f in ours:
        rel = os.path.relpath(f["location"]["file"], CORPUS)
        by_file[rel].append(f)
    matched_ours = set()
    only_theirs = collections.Counter()
    examples = collections.defaultdict(list)
    theirs_total = 0
    for name, items in theirs.items():
        rel = os.path.normpath(name)
        for item in items:
            theirs_total += 1
            line = item["line_number"]
            hit = None
            for f in by_file.get(rel, []):
                start = f["location"]["line"]
                span = 1
                if "on line " in f["message"]:
                    span = int(f["message"].split("on line ")[1].split()[0]) + 1
                if start <= line <= start + max(span, 1) + 1:
                    hit = f
                    break
            if hit:
                matched_ours.add(id(hit))
            else:
                only_theirs[item["type"]] += 1
                if len(examples[item["type"]]) < 3:
                    examples[item["type"]].append(f"{rel}:{line}")
    only_ours = collections.Counter(f["rule"] for f in ours if id(f) not in matched_ours)
    print(f"== real-manifests: palisade {len(ours)} secret findings, detect-secrets {theirs_total}")
    print("palisade only, by rule:", dict(only_ours))
    print("detect-secrets only, by its detector:")
    for kind, n in only_theirs.most_common():
        print(f"   {n:4}  {kind}   e.g. {', '.join(examples[kind])}")
    print(f"time: palisade (all rules) {our_time:.2f} s, detect-secrets {their_time:.2f} s")


labelled()
corpus()
