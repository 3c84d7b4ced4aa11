#!/usr/bin/env bash
# Load benchmark of `driftless apiserver`: server-side apply requests/s over loopback.
# Usage: bench/apiserver.sh [REQUESTS] [CONCURRENCY] [OBJECTS]
# Starts the server (simulated controllers off) as its own process, drives it with the
# kube::Client-based bench/apiserver_bench.rs, prints the rate, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-20000}
concurrency=${2:-16}
objects=${3:-500}
cargo build --release --quiet --bin driftless --example apiserver_bench
out=$(mktemp)
target/release/driftless apiserver --listen 127.0.0.1:0 --no-controllers >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  grep -q '^ready ' "$out" && break
  sleep 0.05
done
url=$(sed -n 's/^ready //p' "$out")
[ -n "$url" ] || { echo "server did not start" >&2; exit 1; }
target/release/examples/apiserver_bench "$url" "$requests" "$concurrency" "$objects"
# Server CPU time (user+system clock ticks) spent on the run: a number that does not depend
# on what else shares the machine.
read -r -a stat < "/proc/$pid/stat"
ticks=$(( ${stat[13]} + ${stat[14]} ))
hz=$(getconf CLK_TCK)
awk -v t="$ticks" -v hz="$hz" -v n="$requests" 'BEGIN {
  cpu = t / hz; printf "server CPU: %.2fs for %d requests = %.0f us/request (%.0f req/s per core)\n", cpu, n, cpu * 1e6 / n, n / cpu }'
