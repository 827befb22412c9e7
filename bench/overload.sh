#!/bin/sh
# Overload benchmark: one replica, then a fleet of four behind the default
# router, offered ten times what they sustain. Measures the capacity (the
# achieved rate of a saturated run of 20,000 requests per replica), then runs
# bench/workloads/overload-1m.json (1,000,000 requests; 214 req/s for one
# replica, ten times the measured capacity for the fleet) to its end and, for
# the replica, again stopped at 2,000 s of simulated time (most requests still
# queued), and prints for each the wall time, peak memory and the full
# accounting: arrived = completed + rejected + in flight. Exits 1 when the
# accounting does not add up. Figures go to docs/performance.md.
# Usage: bench/overload.sh [SCENARIO.json]   (default: the million-request run)
set -eu
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target servesim >/dev/null
bin=build/cli/servesim
scenario=${1:-bench/workloads/overload-1m.json}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# num KEY FILE: the top-level number KEY of a servesim.run/1 JSON file
num() { sed -n "s/^\t\"$1\":[ \t]*\\([-0-9.eE+]*\\),*$/\\1/p" "$2" | head -n 1; }

"$bin" run "$scenario" --rate 1000 --num-requests 20000 --quiet --output-json "$tmp/cap.json"
capacity=$(num achieved_rate "$tmp/cap.json")

# report LABEL [FLAGS...]: one run and its accounting
report() {
    label=$1
    shift
    "$bin" run "$scenario" --quiet --bench-stats --output-json "$tmp/run.json" "$@" 2>"$tmp/err"
    stats=$(grep '^bench:' "$tmp/err" | sed 's/^bench: //')
    wall=$(echo "$stats" | sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p')
    rss=$(echo "$stats" | sed -n 's/.*peak_rss_mib=\([0-9.]*\).*/\1/p')
    arrived=$(num arrived "$tmp/run.json")
    completed=$(num completed "$tmp/run.json")
    rejected=$(num rejected "$tmp/run.json")
    in_flight=$(num in_flight "$tmp/run.json")
    offered=$(num offered_rate "$tmp/run.json")
    achieved=$(num achieved_rate "$tmp/run.json")
    duration=$(num duration_s "$tmp/run.json")
    growth=$(num queue_growth_rate "$tmp/run.json")
    preemptions=$(num preemptions "$tmp/run.json")
    echo "$label:"
    echo "  offered $offered req/s ($(echo "$offered $capacity" | awk '{printf "%.1f", $1 / $2}')x capacity), achieved $achieved req/s"
    echo "  wall time $wall s, peak memory $rss MiB, simulated $duration s, queue growth rate $growth"
    echo "  accounting: arrived $arrived = completed $completed + rejected $rejected + in flight $in_flight; preemptions $preemptions"
    if [ "$arrived" -ne $((completed + rejected + in_flight)) ]; then
        echo "accounting does not add up" >&2
        exit 1
    fi
}

echo "overload benchmark ($(nproc) cores, $(uname -m)): $scenario"
echo "capacity of one replica (saturated, 20,000 requests): $capacity req/s"
report "to the end"
report "stopped at 2,000 s of simulated time" --max-time 2000

fleet=4
"$bin" run "$scenario" --data-parallel-size $fleet --rate 4000 --num-requests $((fleet * 20000)) --quiet \
    --output-json "$tmp/cap.json"
capacity=$(num achieved_rate "$tmp/cap.json")
rate=$(echo "$capacity" | awk '{printf "%.0f", $1 * 10}')
echo "capacity of a fleet of $fleet (saturated, $((fleet * 20000)) requests): $capacity req/s"
report "a fleet of $fleet at $rate req/s, to the end" --data-parallel-size $fleet --rate "$rate"
