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
