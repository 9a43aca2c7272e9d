#!/usr/bin/env bash
# Benchmark: what asking the admission policies costs the escalation graph ("create pods → a
# node" is a step only where they let a pod that owns its node in; docs/rbac.md, "Admission as
# a brake"). Measured in the same run:
#   - `rbac paths --to nodes` on NAMESPACES namespaces (default 100), each with a binding that
#     lets someone create pods, without policies (the baseline); with four guards that refuse
#     every way to own a node (the namespaces are alike to them: asked once); and with the same
#     guards, one of which reads the namespace (the worst case: every probe of every namespace
#     judged);
#   - with ../shared/corpora present, the same with 20 gatekeeper-library templates and their
#     first samples (their privileged sample exempts an image: one round of probes), and
#     `palisade scan` of the real manifests with those policies.
# Prints times, ratios and peak RSS; judges nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
namespaces="${NAMESPACES:-100}"
cargo build --release -q
bin=target/release/palisade
guards=crates/palisade/tests/policy/brakes
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
python3 - "$dir/cluster.yaml" "$namespaces" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
docs = []
for i in range(count):
    ns = f"team-{i}"
    docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
    docs.append(f"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: pod-maker, namespace: {ns}}}\nrules: [{{apiGroups: [''], resources: [pods], verbs: [create]}}]\n")
    docs.append(f"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: dev, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-maker}}\nsubjects: [{{kind: User, name: dev-{i}}}]\n")
open(path, "w").write("---\n".join(docs))
PY

# best_of LABEL COMMAND...: the best wall time of $runs runs and the peak RSS of the last.
best_of() {
    local label=$1; shift
    local best="" rss=""
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$dir/time" "$@" > /dev/null 2>&1 || true
        read -r seconds kb < <(tail -1 "$dir/time")
        if [ -z "$best" ] || awk "BEGIN{exit !($seconds < $best)}"; then best=$seconds; fi
        rss=$kb
    done
    printf '%-52s %6.2f s  %5d MiB\n' "$label" "$best" "$((rss / 1024))"
    echo "$best" > "$dir/last"
}

ratio() { awk "BEGIN{printf \"  %.1fx the baseline\n\", $1 / ($2 > 0.005 ? $2 : 0.005)}"; }

echo "rbac paths --to nodes, $namespaces namespaces where someone may create pods"
best_of "no policies (baseline)" "$bin" rbac paths --to nodes "$dir/cluster.yaml"
base=$(cat "$dir/last")
best_of "four guards (namespaces alike: asked once)" "$bin" rbac paths --to nodes "$dir/cluster.yaml" \
    --policy "$guards/templates.yaml,$guards/constraints.yaml"
ratio "$(cat "$dir/last")" "$base"
sed 's/          c.securityContext.privileged/          input.review.object.metadata.namespace != "kube-system"\n          c.securityContext.privileged/' \
    "$guards/templates.yaml" > "$dir/reads-namespace.yaml"
best_of "four guards, one reading the namespace (each asked)" "$bin" rbac paths --to nodes \
    "$dir/cluster.yaml" --policy "$dir/reads-namespace.yaml,$guards/constraints.yaml"
ratio "$(cat "$dir/last")" "$base"
corpora=../shared/corpora
if [ ! -d "$corpora/gatekeeper-library" ]; then
    echo "../shared/corpora missing: the gatekeeper-library and real-manifests runs are skipped"
    exit 0
fi
library=$corpora/gatekeeper-library/library
args=()
for t in pod-security-policy/{allow-privilege-escalation,apparmor,capabilities,flexvolume-drivers,forbidden-sysctls,fsgroup,host-filesystem,host-namespaces,host-network-ports,privileged-containers,proc-mount,read-only-root-filesystem,seccomp,selinux,users,volumes} general/{allowedrepos,disallowedtags,containerlimits,requiredprobes}; do
    sample=$(ls -d "$library/$t"/samples/*/constraint.yaml | sort | head -1)
    args+=(--policy "$library/$t/template.yaml" --policy "$sample")
done
best_of "20 gatekeeper-library templates" "$bin" rbac paths --to nodes "$dir/cluster.yaml" "${args[@]}"
ratio "$(cat "$dir/last")" "$base"
echo "scan of $corpora/real-manifests"
best_of "built-in rules (baseline)" "$bin" scan "$corpora/real-manifests" -o json
base=$(cat "$dir/last")
best_of "with the 20 templates (policies asked)" "$bin" scan "$corpora/real-manifests" -o json "${args[@]}"
ratio "$(cat "$dir/last")" "$base"
