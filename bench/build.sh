#!/usr/bin/env bash
# Benchmarks `driftless build` against `kubectl kustomize` on a generated Flux monorepo, in
# one run on the same machine, and checks that both print byte-identical output.
#
#   bench/build.sh [--apps N] [--reps N] [--small N] [--out DIR] [--generator PATH] [--no-build]
#
#   --apps N          apps in the generated monorepo (default 200: ~1,000 objects per cluster)
#   --reps N          repetitions of the big build; the median is reported (default 5)
#   --small N         time only the first N small overlays (default: all, 3 per app)
#   --out DIR         where to generate the monorepo (default target/bench-monorepo)
#   --generator PATH  the generator script (default: shared/gen_monorepo.py in the parent or
#                     grandparent directory of the repository root; env GEN_MONOREPO also works)
#   --no-build        use the existing target/release/driftless
#
# Measures (see docs/benchmarks.md):
#   (a) big:   apps/overlays-development (every app of one cluster), median of --reps runs
#   (b) small: every apps/*/overlays/* directory built one after another, total wall time
# Every build is one process started directly by this shell from the monorepo directory (no
# subshell per run), the same way for both tools.
# Exit status: 0 when every output matched, 1 on any mismatch or failure, 2 on usage errors.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
apps=200; reps=5; small=""; out="$root/target/bench-monorepo"; build=1
generator="${GEN_MONOREPO:-$root/../shared/gen_monorepo.py}"
[ -n "${GEN_MONOREPO:-}" ] || [ -f "$generator" ] || generator="$root/../../shared/gen_monorepo.py"

while [ "$#" -gt 0 ]; do
  case "$1" in
    --apps) apps="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --small) small="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --generator) generator="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

need() { command -v "$1" >/dev/null || { echo "bench/build.sh: $1 is required but not on PATH" >&2; exit 2; }; }
need python3; need kubectl; need cargo
[ -f "$generator" ] || { echo "bench/build.sh: generator $generator not found (use --generator)" >&2; exit 2; }

if [ "$build" = 1 ]; then
  echo "== cargo build --release" >&2
  (cd "$root" && cargo build --release --quiet)
fi
bin="$root/target/release/driftless"
[ -x "$bin" ] || { echo "bench/build.sh: $bin missing (drop --no-build)" >&2; exit 2; }

echo "== generating monorepo: $generator $out --apps $apps" >&2
rm -rf "$out"
python3 "$generator" "$out" --apps "$apps"

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
now() { date +%s%N; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
mismatches=0

# ---- (a) one big build ---------------------------------------------------------------
big="apps/overlays-development"
# Both tools run from the monorepo root, entered once: a subshell per run would add the
# shell's own fork to every measurement (about 1 ms, a visible share of a small build).
cd "$out"
objects="$(kubectl kustomize "$big" | grep -c '^kind: ' || true)"
echo "== (a) big build: $big ($objects objects), $reps repetitions each" >&2
: > "$results/big-kubectl.ns"; : > "$results/big-driftless.ns"
for _ in $(seq "$reps"); do
  t0="$(now)"; kubectl kustomize "$big" > "$results/big-kubectl.yaml" 2>/dev/null; t1="$(now)"
  echo $((t1 - t0)) >> "$results/big-kubectl.ns"
  t0="$(now)"; "$bin" build "$big" > "$results/big-driftless.yaml"; t1="$(now)"
  echo $((t1 - t0)) >> "$results/big-driftless.ns"
done
big_k="$(median < "$results/big-kubectl.ns")"; big_d="$(median < "$results/big-driftless.ns")"
if ! cmp -s "$results/big-kubectl.yaml" "$results/big-driftless.yaml"; then
  echo "MISMATCH: $big differs between kubectl and driftless:" >&2
  diff "$results/big-kubectl.yaml" "$results/big-driftless.yaml" | head -20 >&2 || true
  mismatches=$((mismatches + 1))
fi

# ---- (b) every small overlay -------------------------------------------------------------
mapfile -t overlays < <(ls -d apps/*/overlays/* | LC_ALL=C sort)
[ -n "$small" ] && overlays=("${overlays[@]:0:$small}")
n="${#overlays[@]}"
echo "== (b) small builds: $n overlays, each built once by each tool" >&2
mkdir -p "$results/k" "$results/d"
t0="$(now)"
for i in "${!overlays[@]}"; do
  kubectl kustomize "${overlays[$i]}" > "$results/k/$i.yaml" 2>/dev/null || echo "kubectl failed on ${overlays[$i]}" >&2
done
t1="$(now)"; small_k=$((t1 - t0))
t0="$(now)"
for i in "${!overlays[@]}"; do
  "$bin" build "${overlays[$i]}" > "$results/d/$i.yaml" || echo "driftless failed on ${overlays[$i]}" >&2
done
t1="$(now)"; small_d=$((t1 - t0))
for i in "${!overlays[@]}"; do
  if ! cmp -s "$results/k/$i.yaml" "$results/d/$i.yaml"; then
    [ "$mismatches" -lt 5 ] && { echo "MISMATCH: ${overlays[$i]}" >&2; diff "$results/k/$i.yaml" "$results/d/$i.yaml" | head -10 >&2 || true; }
    mismatches=$((mismatches + 1))
  fi
done

# ---- report ----------------------------------------------------------------------------
echo
echo "driftless build vs kubectl kustomize ($(kubectl version --client 2>/dev/null | tr '\n' ' '))"
echo "machine: $(nproc) cores, $(uname -sr)"
printf '%-56s %12s %12s %8s\n' "benchmark" "kubectl ms" "driftless ms" "speedup"
printf '%-56s %12s %12s %8sx\n' "(a) $big, $objects objects, median of $reps" "$(ms "$big_k")" "$(ms "$big_d")" "$(ratio "$big_k" "$big_d")"
printf '%-56s %12s %12s %8sx\n' "(b) $n small overlays, total" "$(ms "$small_k")" "$(ms "$small_d")" "$(ratio "$small_k" "$small_d")"
if [ "$mismatches" -gt 0 ]; then
  echo "FAIL: $mismatches output(s) differ from kubectl kustomize" >&2
  exit 1
fi
echo "outputs: byte-identical to kubectl kustomize (1 big + $n small builds)"
