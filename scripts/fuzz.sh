#!/bin/sh
# Builds the libFuzzer harnesses of fuzz/ (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs one or all of them (docs/testing.md).
#
# usage: scripts/fuzz.sh HARNESS|all SECONDS [libFuzzer flags...]
#   HARNESS  trace, scenario, simulate, sweep, plan, sweep_table, experiment,
#            model, hardware, mfu or profile (the fuzz/fuzz_HARNESS.c program), or all
#   SECONDS  how long each harness runs
# Environment: FUZZ_DIR (default build-fuzz): build folder, with corpus/HARNESS
# (the growing corpus, kept between runs), seeds/HARNESS (made afresh from the
# repository's files at every run) and crashes/HARNESS (inputs that failed);
# FUZZ_FORK: run N processes in parallel (libFuzzer -fork=N).
#
# Prints the executions of each harness; exits 1 when a harness finds a crash,
# a leak, a sanitizer report or a broken invariant (the input is left in
# crashes/HARNESS; replay it with build-fuzz/fuzz/fuzz_HARNESS FILE).
set -eu
cd "$(dirname "$0")/.."

harnesses="trace scenario simulate sweep plan sweep_table experiment model hardware mfu profile"
if [ $# -lt 2 ]; then
    echo "usage: $0 HARNESS|all SECONDS [libFuzzer flags...]  (harnesses: $harnesses)" >&2
    exit 2
fi
which=$1
seconds=$2
shift 2
case $seconds in
    '' | *[!0-9]* | 0) echo "$0: SECONDS must be a positive integer, got '$seconds'" >&2; exit 2 ;;
esac
if [ "$which" = all ]; then
    list=$harnesses
else
    case " $harnesses " in
        *" $which "*) list=$which ;;
        *) echo "$0: unknown harness '$which' (known: $harnesses, all)" >&2; exit 2 ;;
    esac
fi

out=${FUZZ_DIR:-build-fuzz}
command -v clang >/dev/null 2>&1 || scripts/setup-debian.sh clang libclang-rt-14-dev
CC=clang cmake -S . -B "$out" -DSERVESIM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSERVESIM_WERROR=ON >/dev/null
targets=""
for h in $list; do targets="$targets fuzz_$h"; done
# shellcheck disable=SC2086
cmake --build "$out" -j"$(nproc)" --target servesim $targets >/dev/null

# ---------------------------------------------------------------- seeds --
# Each harness's seed corpus, made from the repository's own files.
# put DIR NAME [PREFIX_BYTE_OCTAL]: stdin to DIR/NAME, after an option byte.
put() {
    if [ $# -ge 3 ]; then
        { printf "\\$3"; cat; } >"$1/$2"
    else
        cat >"$1/$2"
    fi
}

make_seeds() { # harness dir
    h=$1
    d=$2
    case $h in
    scenario)
        for f in scenarios/*.json scenarios/golden/*.json tests/bad-input/scenario/*.json \
            tests/bad-input/options/*.json; do
            if [ -f "$f" ]; then put "$d" "$(echo "$f" | tr / _)" <"$f"; fi
        done ;;
    simulate)
        for f in scenarios/default.json scenarios/golden/chat-h100.json scenarios/golden/kv-pressure.json \
            scenarios/golden/tp-pcie.json; do
            put "$d" "$(basename "$f")" <"$f"
        done
        # the engine options (docs/options/)
        e='"workload": {"num_requests": 20, "arrival": {"process": "poisson", "rate": 8},'
        e="$e"' "input": {"dist": "uniform", "min": 10, "max": 900}, "output": {"dist": "uniform", "min": 1, "max": 64}'
        printf '{%s}, "engine": {"speculative_config": {"method": "eagle3", "num_speculative_tokens": 3, %s}}}\n' \
            "$e" '"synthetic_acceptance_length": 2.5' | put "$d" spec-eagle3
        printf '{%s}, "engine": {"speculative_config": {"method": "ngram", "num_speculative_tokens": 4, %s}}}\n' \
            "$e" '"synthetic_acceptance_rates": [0.8, 0.6, 0.4, 0.2]' | put "$d" spec-ngram
        printf '{%s, "priority": 2, "lora": {"adapters": 6, "zipf": 1.1}}, %s}\n' "$e" \
            '"engine": {"scheduling_policy": "priority", "enable_lora": true, "max_loras": 2, "max_cpu_loras": 3}' |
            put "$d" priority-lora
        printf '{%s, "prefix": {"groups": 3, "tokens": 600}}, %s}\n' "$e" \
            '"engine": {"enable_prefix_caching": true, "kv_offloading_size": 4, "num_gpu_blocks_override": 200}' |
            put "$d" offload
        printf '{"model": "gemma-3-27b-it", %s}, "engine": {"quantization": "fp8", "kv_cache_dtype": "fp8"}}\n' \
            "$e" | put "$d" gemma-fp8
        # disaggregated prefill and decode, autoscaling, SLOs (docs/disaggregation.md, docs/autoscaling.md)
        p='"pools": [{"name": "p", "role": "prefill", "count": 2}, {"name": "d", "role": "decode", "count": 1}]'
        printf '{%s}, "fleet": {%s, "disaggregation": {"transfer": {"link": "tcp-25", "layerwise": true}}}}\n' \
            "$e" "$p" | put "$d" pd-tcp-layerwise
        printf '{%s}, "fleet": {%s, "disaggregation": {"decider": "prefix-miss", "threshold_tokens": 200}}}\n' \
            "$e" "$p" | put "$d" pd-prefix-miss
        printf '{%s}, "fleet": {"replicas": 1, "autoscale": {"metric": "waiting", "target": 1, "max_replicas": 4, %s}, %s}}\n' \
            "$e" '"interval_s": 0.5, "up_cooldown_s": 0, "down_cooldown_s": 1, "provision_s": 0.5' \
            '"slo": {"ttft_ms": 200, "tpot_ms": 30, "window_s": 1}' | put "$d" autoscale-waiting
        printf '{%s}, "fleet": {"pools": [{"role": "prefill", "count": 1, "autoscale": {"metric": "rate", %s}}, %s]}}\n' \
            "$e" '"target": 2, "max_replicas": 3, "interval_s": 1, "provision_s": 1' \
            '{"role": "decode", "count": 1, "autoscale": {"metric": "kv", "target": 0.5, "max_replicas": 2}}' |
            put "$d" pd-autoscale
        i=0
        for t in data/traces/azure-2023-conv.csv data/validation/blis-h100-llama2-7b-train/p02_constant0.407rps.csv; do
            i=$((i + 1))
            { printf '{"workload": {"trace": {"path": "t.csv", "rate": 4}}, "engine": {"max_num_seqs": 8}}\n%%%%\n'
              head -n 25 "$t"; } | put "$d" "trace-rate-$i"
            { printf '{"workload": {"trace": {"path": "t.csv"}}, "max_time_s": 3}\n%%%%\n'
              head -n 25 "$t"; } | put "$d" "trace-$i"
        done
        { printf '{"workload": {"num_requests": 20, "arrival": {"process": "gamma", "rate": 5, "cv": 3},'
          printf ' "input": {"dist": "empirical", "path": "x.csv", "column": "input_tokens", "max": 900},'
          printf ' "output": {"dist": "uniform", "min": 1, "max": 64}}}\n%%%%\n'
          head -n 25 data/validation/blis-h100-llama2-7b-train/p02_constant0.407rps.csv; } | put "$d" empirical ;;
    trace)
        i=0
        for t in data/traces/*.csv data/validation/*/p0[0-3]*.csv data/validation/*/requests.csv \
            tests/bad-input/trace/priority-*.csv tests/bad-input/trace/lora.csv; do
            [ -f "$t" ] || continue
            # two option bytes: format, skip_bad_rows, rate or time scale, skip,
            # limit; then the time format and sorting (fuzz/fuzz_trace.c)
            for opt in "000 000" "004 000" "010 000" "020 000" "044 000" "110 000" "000 010" "000 001"; do
                i=$((i + 1))
                { printf "\\${opt% *}\\${opt#* }"; head -n 40 "$t"; } >"$d/t$i"
            done
        done
        for f in data/examples/*.json; do # vllm bench serve results, if any
            if [ -f "$f" ]; then { printf '\000\020'; cat "$f"; } >"$d/$(basename "$f")"; fi
        done ;;
    sweep)
        for f in scenarios/sweep-*.json tests/bad-input/sweep/*.json; do
            if [ -f "$f" ]; then put "$d" "$(echo "$f" | tr / _)" <"$f"; fi
        done ;;
    plan)
        for f in scenarios/plan-*.json tests/bad-input/plan/*.json; do
            if [ -f "$f" ]; then put "$d" "$(echo "$f" | tr / _)" <"$f"; fi
        done ;;
    sweep_table)
        tmp=$(mktemp -d)
        "$out/cli/servesim" sweep scenarios/sweep-rate-default.json --dry-run --quiet -o "$tmp/s.csv" >/dev/null 2>&1 || true
        "$out/cli/servesim" sweep scenarios/sweep-rate-default.json --dry-run --quiet -o "$tmp/s.json" >/dev/null 2>&1 || true
        if [ -f "$tmp/s.csv" ]; then put "$d" csv 000 <"$tmp/s.csv"; fi
        if [ -f "$tmp/s.json" ]; then put "$d" json 001 <"$tmp/s.json"; fi
        rm -rf "$tmp" ;;
    experiment)
        for f in data/validation/*/experiment.json tests/bad-input/experiment/*/experiment.json; do
            put "$d" "$(dirname "$f" | tr / _)" <"$f"
        done ;;
    model)
        for f in data/models/*/config.json; do
            put "$d" "$(basename "$(dirname "$f")")" <"$f"
        done ;;
    hardware)
        put "$d" hardware <data/hardware.json ;;
    profile)
        printf '{"schema": "servesim.hardware_profile/1", "hardware": "H100-SXM",\n' >"$d/h100"
        printf ' "params": {"step_overhead_us": 950, "bw_efficiency": 0.8}}\n' >>"$d/h100"
        for f in tests/bad-input/scenario/hardware-profile*.json; do
            if [ -f "$f" ]; then put "$d" "$(basename "$f")" <"$f"; fi
        done ;;
    mfu)
        head -n 60 data/mfu/gemm/h100/data.csv | put "$d" gemm 000
        head -n 60 data/mfu/mha/prefill/h100/32-8-128.csv | put "$d" prefill 001
        head -n 60 data/mfu/mha/decode/h100/32-32-128-tp1.csv | put "$d" decode 002
        f=$(ls data/mfu/grouped_gemm/decode/*/data.csv | head -n 1)
        head -n 60 "$f" | put "$d" grouped 003
        f=$(ls data/mfu/mla/prefill/*/*.csv | head -n 1)
        head -n 60 "$f" | put "$d" mla 004
        if [ -f data/mfu/gemm_bf16/h100/data.csv ]; then
            head -n 60 data/mfu/gemm_bf16/h100/data.csv | put "$d" gemm_bf16 005
        fi
        if [ -f data/comm/allreduce/h100.csv ]; then
            head -n 60 data/comm/allreduce/h100.csv | put "$d" allreduce 006
        fi ;;
    esac
    return 0
}

status=0
for h in $list; do
    corpus=$out/corpus/$h
    seeds=$out/seeds/$h
    crashes=$out/crashes/$h
    rm -rf "$seeds"
    mkdir -p "$corpus" "$seeds" "$crashes"
    make_seeds "$h" "$seeds"
    log=$out/fuzz-$h.log
    set +e
    # -timeout: one input may not take 10 s (a hang); -rss_limit_mb: nor 2.5 GB
    # shellcheck disable=SC2086
    "$out/fuzz/fuzz_$h" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
        -artifact_prefix="$crashes/" -print_final_stats=1 ${FUZZ_FORK:+-fork=$FUZZ_FORK} "$@" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ -z "$execs" ]; then # -fork mode prints its own totals
        execs=$(sed -n 's/.*#\([0-9][0-9]*\):.*DONE.*/\1/p' "$log" | tail -n 1)
    fi
    cov=$(sed -n 's/.* cov: \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    printf '%-12s %5s s  %10s executions  coverage %6s  corpus %5s files  ' "$h" "$seconds" "${execs:-?}" \
        "${cov:-?}" "$(ls "$corpus" | wc -l)"
    if [ $rc -eq 0 ]; then
        echo "ok"
    else
        echo "FAILED (exit $rc; log: $log; inputs: $crashes)"
        grep -E "ERROR|invariant|runtime error|SUMMARY" "$log" | head -n 5 >&2 || true
        status=1
    fi
done
exit $status
