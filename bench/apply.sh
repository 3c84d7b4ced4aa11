#!/usr/bin/env bash
# bench/apply.sh: cold and no-op apply of the generated monorepo, driftless vs kubectl, against
# one `driftless apiserver`. Request counts come from the API server's own /metrics
# (apiserver_request_total), times from the wall clock.
#
#   bench/apply.sh [--apps 400] [--bin target/release/driftless]
#
# Each tool gets its own overlay of the same monorepo (development / staging / production:
# same object count and shapes, different names), so every cold apply is really cold.
set -euo pipefail

APPS=400
BIN=target/release/driftless
while [ $# -gt 0 ]; do
  case "$1" in
    --apps) APPS="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    *) echo "usage: $0 [--apps N] [--bin PATH]" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GEN="${GEN:-$ROOT/../shared/gen_monorepo.py}"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release --quiet)
command -v kubectl >/dev/null || { echo "kubectl is not on PATH" >&2; exit 2; }

WORK="$(mktemp -d)"
PORT=$(( 20000 + RANDOM % 20000 ))
KC="$WORK/kubeconfig"
"$BIN" apiserver --listen "127.0.0.1:$PORT" --kubeconfig-out "$KC" >"$WORK/apiserver.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do grep -q '^ready' "$WORK/apiserver.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$WORK/apiserver.log" || { cat "$WORK/apiserver.log" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"
export KUBECONFIG="$KC"

python3 "$GEN" "$WORK/repo" --apps "$APPS" --clusters development,staging,production >/dev/null
REPO="$WORK/repo"

# Total API requests so far (every verb, every resource).
requests() { curl -s "$URL/metrics" | awk '/^apiserver_request_total\{/ { s += $NF } END { printf "%d\n", s }'; }
now() { date +%s.%N; }
objects() { "$BIN" build "$1" | grep -c '^kind:'; }

# The ServiceMonitor CRD every app uses, installed once up front (not timed).
"$BIN" apply "$REPO/infrastructure" --name infrastructure >/dev/null

run() { # label, command...: prints "seconds requests"
  local before after t0 t1
  before=$(requests); t0=$(now)
  "${@:2}" >"$WORK/$1.out" 2>&1 || { echo "$1 failed:" >&2; tail -5 "$WORK/$1.out" >&2; }
  t1=$(now); after=$(requests)
  echo "$(echo "$t1 - $t0" | bc) $((after - before))"
}

N=$(objects "$REPO/apps/overlays-development")
KINDS=$("$BIN" build "$REPO/apps/overlays-development" | awk '/^kind:/ {print $2}' | sort -u | wc -l)

read -r DL_T DL_R < <(run driftless-cold "$BIN" apply "$REPO/apps/overlays-development" --name apps --namespace default)
read -r KS_T KS_R < <(run kubectl-cold kubectl apply --server-side -k "$REPO/apps/overlays-staging")
# The applyset parent lives in the apps namespace, which therefore has to exist first (untimed).
printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: production-apps\n' | kubectl apply --server-side -f - >/dev/null
read -r KA_T KA_R < <(run kubectl-applyset-cold env KUBECTL_APPLYSET=true kubectl apply --server-side -k "$REPO/apps/overlays-production" --prune --applyset=bench-applyset -n production-apps)
read -r DN_T DN_R < <(run driftless-noop "$BIN" apply "$REPO/apps/overlays-development" --name apps --namespace default)
read -r KN_T KN_R < <(run kubectl-noop kubectl apply --server-side -k "$REPO/apps/overlays-staging")
read -r KAN_T KAN_R < <(run kubectl-applyset-noop env KUBECTL_APPLYSET=true kubectl apply --server-side -k "$REPO/apps/overlays-production" --prune --applyset=bench-applyset -n production-apps)

ratio() { echo "scale=1; $1 / $2" | bc; }
cat <<REPORT
objects per overlay: $N ($KINDS kinds), apps: $APPS
| run | time (s) | API requests |
|---|---|---|
| driftless apply, cold | $DL_T | $DL_R |
| kubectl apply --server-side -k, cold | $KS_T | $KS_R |
| kubectl apply --server-side --prune --applyset, cold | $KA_T | $KA_R |
| driftless apply, no-op | $DN_T | $DN_R |
| kubectl apply --server-side -k, no-op | $KN_T | $KN_R |
| kubectl apply --server-side --prune --applyset, no-op | $KAN_T | $KAN_R |
cold speed-up vs kubectl --server-side: $(ratio "$KS_T" "$DL_T")x (target >= 3x)
cold speed-up vs kubectl --applyset: $(ratio "$KA_T" "$DL_T")x
no-op requests: driftless $DN_R (target <= kinds+1 = $((KINDS + 1))), kubectl $KN_R, kubectl --applyset $KAN_R
(request counts are apiserver_request_total: resource requests only; discovery and OpenAPI
 fetches, which kubectl makes on every run, are not counted)
driftless no-op summary: $(tail -1 "$WORK/driftless-noop.out")
REPORT
