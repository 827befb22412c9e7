#!/bin/sh
# Runs a sweep as N slices with GNU parallel, joins them with `servesim merge`,
# and checks that the merged file is byte-identical to one unsharded run
# (docs/sweeps.md). Exits non-zero when a slice fails or the files differ.
#
# Usage: scripts/sweep-gnu-parallel.sh SWEEP.json N [OUTDIR [csv|json]]
#   N       number of slices (each runs with --jobs 1; parallel runs one per core)
#   OUTDIR  where part1..partN, merged and single are written (default: a new
#           temporary folder, printed at the end)
#   SERVESIM  environment: the servesim binary (default: servesim on PATH, else
#             build/cli/servesim of this source tree)
#
# Needs GNU parallel (Debian package `parallel`), not the `parallel` of moreutils.
set -eu

usage() {
    echo "usage: $0 SWEEP.json N [OUTDIR [csv|json]]" >&2
    exit 2
}
[ $# -ge 2 ] && [ $# -le 4 ] || usage
sweep=$1
n=$2
case $n in
    '' | *[!0-9]* | 0) echo "$0: N must be a positive integer, got '$n'" >&2; exit 2 ;;
esac
fmt=${4:-csv}
case $fmt in
    csv | json) ;;
    *) echo "$0: format must be csv or json, got '$fmt'" >&2; exit 2 ;;
esac
[ -r "$sweep" ] || { echo "$0: cannot read $sweep" >&2; exit 3; }

if [ -n "${SERVESIM:-}" ]; then
    servesim=$SERVESIM
elif command -v servesim >/dev/null 2>&1; then
    servesim=$(command -v servesim)
else
    servesim=$(cd "$(dirname "$0")/.." && pwd)/build/cli/servesim
fi
[ -x "$servesim" ] || { echo "$0: no servesim binary at $servesim (set SERVESIM)" >&2; exit 2; }

if ! parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
    echo "$0: needs GNU parallel (Debian/Ubuntu: apt-get install parallel)" >&2
    exit 2
fi

out=${3:-$(mktemp -d "${TMPDIR:-/tmp}/servesim-sweep-XXXXXX")}
mkdir -p "$out"
rm -f "$out"/part*."$fmt" "$out/merged.$fmt" "$out/single.$fmt"

# One slice per job; -q keeps paths with blanks intact; stop at the first failure.
seq 1 "$n" | parallel --will-cite -q --halt now,fail=1 \
    "$servesim" sweep "$sweep" --quiet --jobs 1 --shard "{}/$n" --output "$out/part{}.$fmt"

# The slices, in any order (the glob sorts part10 before part2: merge does not care).
"$servesim" merge "$out"/part*."$fmt" --output "$out/merged.$fmt"
"$servesim" sweep "$sweep" --quiet --output "$out/single.$fmt"

if cmp "$out/merged.$fmt" "$out/single.$fmt"; then
    echo "ok: $n slices merged into $out/merged.$fmt, identical to the single run $out/single.$fmt"
else
    echo "$0: the merged file differs from the single run" >&2
    exit 1
fi
