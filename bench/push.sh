#!/usr/bin/env bash
# Push→applied latency through a GitHub Receiver on the in-process sandbox (watcher off, so
# only the signed webhook triggers the fetch): ROUNDS rounds of commit → webhook → poll until
# the Deployment has the new image; prints p50/p95/max, and push→Slack-notified too.
# Then notification throughput and receiver-only latency (bench/notify.sh).
# Usage: bench/push.sh [ROUNDS] [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example push_bench --example notify_bench
echo "== push → applied (bench/push_bench.rs)"
target/release/examples/push_bench "${1:-30}"
echo
echo "== notification throughput (bench/notify_bench.rs)"
target/release/examples/notify_bench "${2:-20000}" 2000
