#!/bin/sh
# test_readme.sh BUILD_DIR: runs every command of the README's "What it does"
# block, as a user would from the repository root, and fails on the first one
# that exits non-zero. It runs in a temporary folder that links build/ (to
# BUILD_DIR), data/ and scenarios/, so the examples' outputs (out/) never land
# in the source tree.
set -eu
build=$(cd "${1:?usage: test_readme.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
ln -s "$build" "$tmp/build"
ln -s "$src/data" "$tmp/data"
ln -s "$src/scenarios" "$tmp/scenarios"
awk '/^## What it does/ {in_section = 1; next}
     in_section && /^```sh/ {in_block = 1; next}
     in_block && /^```/ {exit}
     in_block {print}' "$src/README.md" >"$tmp/examples"
n=0
cd "$tmp"
while IFS= read -r line; do
    case $line in
    "" | "#"*) continue ;;
    esac
    n=$((n + 1))
    if ! sh -c "$line" >"$tmp/stdout" 2>"$tmp/stderr"; then
        echo "test_readme: FAILED: $line" >&2
        tail -n 20 "$tmp/stdout" "$tmp/stderr" >&2
        exit 1
    fi
done <"$tmp/examples"
if [ "$n" -lt 10 ]; then
    echo "test_readme: FAILED: found only $n commands in the README's \"What it does\" block" >&2
    exit 1
fi
for f in out/run.json out/requests.csv out/sweep/report.html out/plan/report.html; do
    [ -s "$f" ] || {
        echo "test_readme: FAILED: the examples did not write $f" >&2
        exit 1
    }
done
echo "test_readme: $n commands ran"
