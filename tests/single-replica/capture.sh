#!/bin/sh
# Records the outputs of one replica for each case of tests/single-replica/cases:
# NAME.stdout and NAME.json in full, and the SHA-256 of every output (the CSVs
# are large) in expected.sha256. test_cl_single compares the binary under test
# with these, byte for byte. Run it with a binary of the behaviour to pin:
#   tests/single-replica/capture.sh build/cli/servesim
set -eu
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
: >"$tmp/expected.sha256"
grep -v '^#' "$here/cases" | grep -v '^$' | while read -r name args; do
  # shellcheck disable=SC2086
  "$bin" $args --output-json "$tmp/$name.json" --output-requests "$tmp/$name.requests.csv" \
    --output-timeseries "$tmp/$name.timeseries.csv" --output-itl "$tmp/$name.itl.csv" \
    >"$tmp/$name.stdout" 2>/dev/null
  # the source tree's absolute path (a trace replay names its file) is removed, as the test does
  for f in "$tmp/$name".*; do sed -i "s|$root/||g" "$f"; done
  cp "$tmp/$name.stdout" "$tmp/$name.json" "$here/"
  (cd "$tmp" && sha256sum "$name.stdout" "$name.json" "$name.requests.csv" "$name.timeseries.csv" \
    "$name.itl.csv") >>"$tmp/expected.sha256"
done
cp "$tmp/expected.sha256" "$here/expected.sha256"
echo "recorded $(wc -l <"$here/expected.sha256") outputs in $here"
