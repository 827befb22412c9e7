#!/bin/sh
# Benchmarks: fixed workloads, each printing wall time, simulated requests per
# second of wall time, and peak resident memory. Figures go to docs/performance.md.
# Usage: bench/run.sh [--full]     (--full adds the 1,000,000-request runs: one server, a fleet of 16,
#                                   and bench/overload.sh)
set -eu
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
bin=build/cli/servesim

run() { # name, then servesim arguments
  name=$1; shift
  err=$(mktemp)
  start=$(date +%s.%N)
  "$bin" "$@" --quiet --bench-stats 2>"$err" >/dev/null || { cat "$err"; rm -f "$err"; exit 1; }
  end=$(date +%s.%N)
  # servesim --bench-stats prints: requests=N wall_s=W peak_rss_mib=M
  stats=$(grep '^bench:' "$err" | sed 's/^bench: //'); rm -f "$err"
  reqs=$(echo "$stats" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
  rss=$(echo "$stats" | sed -n 's/.*peak_rss_mib=\([0-9.]*\).*/\1/p')
  wall=$(echo "$start $end" | awk '{printf "%.3f", $2 - $1}')
  rate=$(echo "$reqs $wall" | awk '{printf "%.0f", $1 / $2}')
  printf '%-28s %10s requests %9s s wall %10s req/s %9s MiB peak\n' "$name" "$reqs" "$wall" "$rate" "$rss"
}

echo "servesim benchmarks ($(nproc) cores, $(uname -m))"
run "default scenario" run
run "decode-100k" run bench/workloads/decode-100k.json
run "chat-mixed-200k" run bench/workloads/chat-mixed-200k.json
run "chat-sessions-200k" run bench/workloads/chat-sessions-200k.json
run "azure-conv replay" replay data/traces/azure-2023-conv.csv
run "azure-code replay" replay data/traces/azure-2023-code.csv
run "fleet 16x, 100k" run bench/workloads/fleet-16x-1m.json --num-requests 100000
run "fleet 16x, 100k, rr" run bench/workloads/fleet-16x-1m.json --num-requests 100000 --router round-robin
run "fleet 16x, 100k, least-out" run bench/workloads/fleet-16x-1m.json --num-requests 100000 --router least-outstanding
if [ "${1:-}" = "--full" ]; then
  run "decode-1m" run bench/workloads/decode-1m.json
  run "fleet 16x, 1m (weighted)" run bench/workloads/fleet-16x-1m.json
  run "fleet 16x, 1m, least-out" run bench/workloads/fleet-16x-1m.json --router least-outstanding
fi
if [ "${1:-}" = "--full" ]; then
  echo; bench/overload.sh
fi
if [ -x build/bench/wl_stream_bench ]; then
  echo; echo "trace streaming (1,000,000 rows):"; build/bench/wl_stream_bench
fi
