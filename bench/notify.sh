#!/usr/bin/env bash
# Notification throughput (events/s through the dispatcher to a local generic webhook) and
# receiver latency (signed GitHub push -> trigger callback, p50/p95), all on loopback.
# Usage: bench/notify.sh [EVENTS] [PUSHES]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example notify_bench
target/release/examples/notify_bench "${1:-20000}" "${2:-2000}"
