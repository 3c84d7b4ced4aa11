#!/usr/bin/env bash
# The flux-benchmark shape on `driftless sandbox`: N Kustomizations (default 1000), each a small
# app (ConfigMap, Deployment, Service) from its own path of one git repository.
# Run 1 (sandbox): time-to-all-Ready and peak RSS of the whole sandbox process (embedded API
# server and agent together), then the push->applied latency for one app (commit -> object
# updated). Run 2 (split): `driftless apiserver` and `driftless agent` as separate processes,
# so the agent's own peak RSS is measured (the figure comparable to Flux's kustomize-controller).
# Flux's published figure (flux-benchmark RESULTS.md, v2.6, 16 cores, Kind): 1000 in 4m16s, 175 MiB.
#
# Usage: bench/agent.sh [N]          (BIN=path/to/driftless to skip the release build)
set -euo pipefail
N=${1:-${N:-1000}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/driftless}
if [[ -z ${SKIP_BUILD:-} && $BIN == "$ROOT/target/release/driftless" ]]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi

work=$(mktemp -d)
pid=
api_pid=
cleanup() { for p in $pid $api_pid; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
repo=$work/repo
mkdir -p "$repo/clusters/bench/flux-system" "$repo/clusters/bench/apps"
cat > "$repo/clusters/bench/flux-system/gotk-sync.yaml" <<'YAML'
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  ref:
    branch: main
  url: https://example.invalid/bench.git
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/bench
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
YAML
printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n' > "$repo/clusters/bench/namespace.yaml"
for i in $(seq -f '%04g' 1 "$N"); do
  cat > "$repo/clusters/bench/apps/app-$i.yaml" <<YAML
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app-$i
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps/app-$i
  prune: true
  targetNamespace: bench
  sourceRef:
    kind: GitRepository
    name: flux-system
YAML
  d=$repo/apps/app-$i
  mkdir -p "$d"
  printf 'resources:\n- app.yaml\nnamePrefix: app-%s-\n' "$i" > "$d/kustomization.yaml"
  cat > "$d/app.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: config
data:
  version: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: app-$i}
  template:
    metadata:
      labels: {app: app-$i}
    spec:
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.7.1
        ports: [{containerPort: 9898}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: app-$i}
  ports: [{port: 80, targetPort: 9898}]
YAML
done
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm "bench: $N apps"

log=$work/sandbox.log
kc=$work/kubeconfig
start=$(date +%s.%N)
"$BIN" sandbox --repo "$repo" --cluster bench --kubeconfig-out "$kc" --concurrent "${CONCURRENT:-10}" > "$log" 2>&1 &
pid=$!
until grep -qs "Kustomizations Ready in" "$log"; do
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "sandbox exited" >&2; exit 1; fi
  if (( $(date +%s) - ${start%.*} > ${TIMEOUT:-600} )); then tail -5 "$log"; echo "timeout" >&2; exit 1; fi
  sleep 0.2
done
ready_line=$(grep "Kustomizations Ready in" "$log" | head -1)
hwm_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "kustomizations: $((N + 1)) (flux-system + $N apps, $((3 * N)) objects)"
echo "time-to-all-Ready: ${ready_line##* in } (process start to all Ready, embedded API server included)"
echo "peak RSS: $((hwm_kib / 1024)) MiB (API server + agent in one process)"

# push -> applied: change one app's ConfigMap and time until the cluster has it.
sed -i 's/version: "1"/version: "2"/' "$repo/apps/app-0001/app.yaml"
t0=$(date +%s%N)
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qam "bump app-0001"
until [[ $(kubectl --kubeconfig "$kc" -n bench get configmap app-0001-config -o 'jsonpath={.data.version}' 2>/dev/null) == 2 ]]; do
  sleep 0.02
done
t1=$(date +%s%N)
echo "push->applied (one app, $N Kustomizations on the source): $(( (t1 - t0) / 1000000 )) ms (includes kubectl polling)"

kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

# Run 2: API server and agent as separate processes.
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -q --allow-empty -m "run 2"
"$BIN" apiserver --listen 127.0.0.1:0 --kubeconfig-out "$kc" > "$work/apiserver.log" 2>&1 &
api_pid=$!
until grep -qs '^ready' "$work/apiserver.log"; do sleep 0.1; done
"$BIN" install --kubeconfig "$kc" > /dev/null
port=$(( 20000 + RANDOM % 20000 ))
start=$(date +%s%N)
"$BIN" bootstrap --kubeconfig "$kc" --url "file://$repo" --branch main --path clusters/bench > /dev/null
"$BIN" agent --kubeconfig "$kc" --metrics-addr "127.0.0.1:$port" --no-leader-election \
  --concurrent "${CONCURRENT:-10}" --cache-dir "$work/cache" > "$work/agent.log" 2>&1 &
pid=$!
want=$((N + 1))
until [[ $(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^driftless_resource_info{kind="Kustomization".*ready="True"') == "$want" ]]; do
  if ! kill -0 "$pid" 2>/dev/null; then tail -20 "$work/agent.log"; echo "agent exited" >&2; exit 1; fi
  sleep 0.2
done
end=$(date +%s%N)
agent_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
api_kib=$(awk '/VmHWM/ {print $2}' "/proc/$api_pid/status")
echo "split run: time-to-all-Ready $(( (end - start) / 1000000 )) ms (bootstrap to all Ready)"
echo "split run: agent peak RSS $((agent_kib / 1024)) MiB, API server peak RSS $((api_kib / 1024)) MiB"
kill "$api_pid" 2>/dev/null || true
