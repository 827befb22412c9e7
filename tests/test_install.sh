#!/bin/sh
# test_install.sh BUILD_DIR: servesim as installed, then moved elsewhere.
#
# Installs the build into a temporary prefix with `cmake --install`, moves the
# whole prefix to another folder, and checks from there, with no
# SERVESIM_DATA in the environment: `list models` and `run` find the data next
# to the binary; an installed example scenario finds its trace; the manual
# page is installed and renders; bash completion completes commands, flags,
# model names (and Hugging Face ids) and GPU names. Then the binary alone,
# without its data, must fail with exit code 3 and say where it looked.
set -eu
build=${1:?usage: test_install.sh BUILD_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() {
    echo "test_install: FAILED: $*" >&2
    exit 1
}

cmake --install "$build" --prefix "$tmp/staging" >/dev/null || fail "cmake --install"
mv "$tmp/staging" "$tmp/moved"
p=$tmp/moved
unset SERVESIM_DATA SERVESIM_DATA_DIR
export PATH="$p/bin:$PATH"

for f in bin/servesim share/servesim/data/hardware.json share/servesim/data/models/index.json \
    share/servesim/data/models/qwen3-8b/config.json share/servesim/scenarios/default.json \
    share/man/man1/servesim.1 share/bash-completion/completions/servesim share/doc/servesim/README.md; do
    [ -e "$p/$f" ] || fail "$f is not installed"
done

out=$("$p/bin/servesim" list models) || fail "list models"
echo "$out" | grep -q "^llama-3.1-8b-instruct .*meta-llama/Llama-3.1-8B-Instruct" || fail "list models: $out"
out=$(servesim run --num-requests 50 2>/dev/null) || fail "run"
echo "$out" | grep -q "50 arrived, 50 completed" || fail "run: $out"
out=$(servesim run --model Qwen/Qwen3-8B --num-requests 20 -q --output-json "$tmp/r.json") || fail "run --model HF id"
grep -Eq '"model":[[:space:]]*"qwen3-8b"' "$tmp/r.json" || fail "run --model Qwen/Qwen3-8B"
out=$(servesim run "$p/share/servesim/scenarios/replay-azure-conv-llama8b-h100.json" --num-requests 100 2>/dev/null) ||
    fail "the installed replay example"
echo "$out" | grep -q "100 arrived" || fail "replay example: $out"

# the manual page
if command -v man >/dev/null 2>&1; then
    out=$(MANPAGER=cat MANWIDTH=100 man -M "$p/share/man" servesim 2>/dev/null) || fail "man servesim"
    echo "$out" | grep -q "EXIT STATUS" || fail "man servesim: no EXIT STATUS"
    echo "$out" | grep -q -- "--max-num-seqs" || fail "man servesim: no --max-num-seqs"
fi

# bash completion, as bash-completion would load it
complete_words() {
    # $@: the words typed; the last one is being completed
    bash -c '
        . "$1"
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        _servesim 2>/dev/null
        printf "%s\n" "${COMPREPLY[@]}"
    ' complete "$p/share/bash-completion/completions/servesim" "$@"
}
complete_words servesim ru | grep -qx run || fail "completion of a command"
complete_words servesim run --max-num | grep -qx -- --max-num-seqs || fail "completion of a flag"
complete_words servesim run --model meta-llama/Llama-3.1-8B-I | grep -qx meta-llama/Llama-3.1-8B-Instruct ||
    fail "completion of a Hugging Face id"
complete_words servesim run --model qwen3-8 | grep -qx qwen3-8b || fail "completion of a model name"
complete_words servesim replay x.csv --hardware H10 | grep -qx H100-SXM || fail "completion of a GPU name"
complete_words servesim run --router prefix- | grep -qx prefix-affinity || fail "completion of a router policy"
complete_words servesim list mo | grep -qx models || fail "completion of list"
complete_words servesim run --latency-model roof | grep -qx roofline-v2 || fail "completion of a step model"

# the binary without its data: a clear error, exit code 3
mkdir -p "$tmp/lonely/bin"
cp "$p/bin/servesim" "$tmp/lonely/bin/"
for cmd in "list models" "run" "step --model qwen3-8b --prefill 10" "sweep $p/share/servesim/scenarios/sweep-rate-default.json" \
    "plan $p/share/servesim/scenarios/plan-llama70b-chat.json" "validate $p/share/servesim/data/validation/blis-h100-llama2-7b-train" \
    "calibrate $p/share/servesim/data/validation/blis-h100-llama2-7b-train"; do
    rc=0
    # shellcheck disable=SC2086
    "$tmp/lonely/bin/servesim" $cmd >/dev/null 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 3 ] || fail "servesim $cmd without data: exit $rc, expected 3"
    grep -q "no servesim data folder found" "$tmp/err" || fail "servesim $cmd without data: $(cat "$tmp/err")"
    grep -q "next to the binary" "$tmp/err" || fail "servesim $cmd without data does not say where it looked"
    grep -q "SERVESIM_DATA" "$tmp/err" || fail "servesim $cmd without data does not name \$SERVESIM_DATA"
done
# ... and with $SERVESIM_DATA it works again
SERVESIM_DATA="$p/share/servesim/data" "$tmp/lonely/bin/servesim" list hardware | grep -q H100-SXM ||
    fail "SERVESIM_DATA"
echo "test_install: ok ($p)"
