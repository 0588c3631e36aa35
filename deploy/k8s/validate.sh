#!/usr/bin/env bash
# Validates the Kubernetes manifests of deploy/k8s, offline, without kubectl or a cluster:
#
#   1. kubernetes-validate (PyPI; it bundles the API schemas) checks every file kustomization.yaml
#      lists against Kubernetes $K8S_VERSION in strict mode: unknown fields, wrong types and
#      unknown kinds (a warning there) all fail;
#   2. check_manifests.py checks what a schema cannot: Secret keys referenced exist, selectors
#      and ports match, probes are /health/ready and /health/live, the grace period outlasts the
#      preStop pause plus the host's drain, replicas >= 2, only real `livewasm serve` flags and
#      environment variables, agreement with deploy/Dockerfile;
#   3. a self-test: each check alone must fail on a broken copy of the manifests (a misspelled
#      field, an unknown kind, a grace period shorter than the drain, a missing Secret key ...),
#      so a check that passes everything is caught.
#
#   bash deploy/k8s/validate.sh
#
# Needs python3 with the venv module (or pip: then the packages go to a directory instead);
# installs kubernetes-validate once into target/k8s-validate/ (PyPI). `cargo xtask test` runs it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
K8S_VERSION=1.30.0
VALIDATOR=kubernetes-validate==1.37.0
ENV_DIR="$ROOT/target/k8s-validate"
log() { echo "validate.sh: $*" >&2; }

# The validator's Python: a venv, or plain python3 with the packages in a directory when this
# python3 has no venv module (Debian without python3-venv).
install() {
    if [ -f "$ENV_DIR/installed" ] && [ "$(cat "$ENV_DIR/installed")" = "$VALIDATOR" ]; then
        return
    fi
    rm -rf "$ENV_DIR"
    mkdir -p "$ENV_DIR"
    if python3 -m venv "$ENV_DIR/venv" >/dev/null 2>&1; then
        log "installing $VALIDATOR into $ENV_DIR/venv"
        "$ENV_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$VALIDATOR"
    else
        rm -rf "$ENV_DIR/venv"
        log "python3 has no venv module: installing $VALIDATOR into $ENV_DIR/lib"
        python3 -m pip install --quiet --disable-pip-version-check --target "$ENV_DIR/lib" "$VALIDATOR"
    fi
    echo "$VALIDATOR" >"$ENV_DIR/installed"
}

py() {
    if [ -x "$ENV_DIR/venv/bin/python" ]; then
        "$ENV_DIR/venv/bin/python" "$@"
    else
        PYTHONPATH="$ENV_DIR/lib" python3 "$@"
    fi
}

# The files kustomization.yaml lists (check_manifests.py checks that it lists every file).
resources() {
    py -c 'import sys, yaml; print("\n".join(yaml.safe_load(open(sys.argv[1]))["resources"]))' \
        "$1/kustomization.yaml"
}

# Schema validation of the manifests in directory $1; fails on any error or warning.
schema() {
    local dir="$1" files out status=0
    mapfile -t files < <(resources "$dir")
    out=$(cd "$dir" && py -m kubernetes_validate --strict --kubernetes-version "$K8S_VERSION" "${files[@]}" 2>&1) || status=$?
    if [ "$status" != 0 ] || grep -qv '^INFO ' <<<"$out"; then
        grep -v '^INFO ' <<<"$out" >&2 || true
        return 1
    fi
    echo "  schemas: $(grep -c '^INFO .* passed' <<<"$out") objects in ${#files[@]} files valid for Kubernetes $K8S_VERSION (strict)"
}

# The consistency checks of directory $1.
consistency() {
    py "$HERE/check_manifests.py" "$1" "$ROOT"
}

# Self-test: $2 describes a breakage, $3 is a sed script applied to file $4 of a fresh copy of
# the manifests; check $1 (`schema` or `consistency`) alone must fail on the copy.
must_fail() {
    local check="$1" what="$2" script="$3" file="$4" copy caught=yes
    copy="$(mktemp -d)"
    cp "$HERE"/*.yaml "$copy/"
    sed -i -e "$script" "$copy/$file"
    if cmp -s "$HERE/$file" "$copy/$file"; then
        rm -rf "$copy"
        log "self-test: the edit for '$what' changed nothing in $file"
        return 1
    fi
    if "$check" "$copy" >/dev/null 2>&1; then
        caught=no
    fi
    rm -rf "$copy"
    if [ "$caught" = no ]; then
        log "self-test: the $check check did not catch $what"
        return 1
    fi
    echo "  self-test: the $check check caught $what"
}

install
schema "$HERE"
consistency "$HERE"
must_fail schema "a misspelled field (readinesProbe)" 's/readinessProbe:/readinesProbe:/' livewasm.yaml
must_fail schema "a string for an integer (replicas)" 's/^  replicas: 2$/  replicas: "2"/' livewasm.yaml
must_fail schema "an unknown kind" 's/^kind: PodDisruptionBudget$/kind: PodDisruptionBudgets/' livewasm-pdb.yaml
must_fail consistency "a grace period shorter than the drain" 's/terminationGracePeriodSeconds: 40/terminationGracePeriodSeconds: 20/' livewasm.yaml
must_fail consistency "a secretKeyRef to a missing key" 's/key: DATABASE_URL}/key: DATABASE_URI}/' livewasm.yaml
must_fail consistency "a serve flag that does not exist" 's/- --drain-timeout-secs$/- --drain-timeout/' livewasm.yaml
must_fail consistency "a single replica" 's/^  replicas: 2$/  replicas: 1/' livewasm.yaml
must_fail consistency "a wrong probe path" 's|path: /health/ready, port: http|path: /health, port: http|' livewasm.yaml
echo "  deploy/k8s: valid"
