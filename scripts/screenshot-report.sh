#!/bin/sh
# screenshot-report.sh: renders DIR/report.html (a servesim plan or sweep report)
# in headless Chromium, saves a PNG screenshot and fails when the page does
# not render cleanly: Chromium reports a console error or an uncaught
# exception, the dumped DOM is empty or lacks the report title, or the page
# tried to load anything (the report must be self-contained).
#
# usage: scripts/screenshot-report.sh DIR [OUT.png]
#   OUT.png defaults to DIR/report.png. Environment: CHROMIUM (the browser
#   binary; default: chromium, then chromium-browser, google-chrome),
#   WINDOW (default 1400,3000).
#
# A report to try it on: SERVESIM_REPORT_OUT=/tmp/r build/tests/test_pl_report
# writes the test's hand-built plan to /tmp/r. Debian: apt-get install chromium.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 DIR [OUT.png]" >&2
    exit 2
fi
dir=$1
out=${2:-$dir/report.png}
html=$dir/report.html
window=${WINDOW:-1400,3000}
if [ ! -s "$html" ]; then
    echo "$0: $html: no such report" >&2
    exit 2
fi

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
    for b in chromium chromium-browser google-chrome; do
        if command -v "$b" >/dev/null 2>&1; then
            browser=$b
            break
        fi
    done
fi
if [ -z "$browser" ]; then
    echo "$0: no Chromium found (Debian: apt-get install -y chromium; or set CHROMIUM)" >&2
    exit 2
fi

profile=$(mktemp -d)
logs=$(mktemp -d)
trap 'rm -rf "$profile" "$logs"' EXIT INT TERM

abs_html=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
case $out in
/*) abs_out=$out ;;
*) abs_out=$(pwd)/$out ;;
esac
mkdir -p "$(dirname "$abs_out")"

# Flags: no sandbox (root in containers), no GPU, and nothing that reaches the
# network on its own (QUIC, background networking, component updates, sync).
run_chromium() {
    "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --hide-scrollbars \
        --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}

rm -f "$abs_out"
run_chromium --window-size="$window" --screenshot="$abs_out" "file://$abs_html" \
    >"$logs/shot.out" 2>"$logs/shot.err" || {
    echo "$0: Chromium failed to take the screenshot:" >&2
    cat "$logs/shot.err" >&2
    exit 1
}
run_chromium --dump-dom "file://$abs_html" >"$logs/dom.html" 2>"$logs/dom.err" || {
    echo "$0: Chromium failed to dump the DOM:" >&2
    cat "$logs/dom.err" >&2
    exit 1
}

status=0
# Page problems Chromium logs: the report has no script, so any console
# message is one (uncaught errors, loads its Content-Security-Policy blocked,
# failed loads).
if grep -E ":CONSOLE|Uncaught|Refused to|net::ERR_|Failed to load resource" \
    "$logs/shot.err" "$logs/dom.err" >"$logs/problems" 2>/dev/null; then
    echo "$0: Chromium reported problems with $html:" >&2
    cat "$logs/problems" >&2
    status=1
fi
if [ ! -s "$logs/dom.html" ]; then
    echo "$0: the dumped DOM is empty" >&2
    status=1
elif ! grep -q -e "<title>Capacity plan: " -e "<title>Sweep: " "$logs/dom.html"; then
    echo "$0: the dumped DOM lacks the report title (\"Capacity plan: ...\" or \"Sweep: ...\")" >&2
    status=1
elif ! grep -q "<svg" "$logs/dom.html"; then
    echo "$0: the dumped DOM has no chart" >&2
    status=1
fi
if [ ! -s "$abs_out" ]; then
    echo "$0: no screenshot was written to $abs_out" >&2
    cat "$logs/shot.err" >&2
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "$abs_out"
fi
exit "$status"
