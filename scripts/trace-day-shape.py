#!/usr/bin/env python3
"""Writes the arrival shape of a request trace, stretched to a day, as a
servesim scenario workload (piecewise-rate arrivals) with the trace's own
prompt and output lengths (empirical distributions of its columns).

The Azure LLM inference traces in data/traces cover about an hour; their
arrival rate moves by 2.5x from minute to minute. Stretched to 24 hours (each
minute of the trace becomes 24 minutes) at a chosen mean rate, that shape is
a day of load for autoscaling studies (docs/autoscaling.md), with as many
requests as a production service would see, which the hour's 19,366 requests
replayed with --time-scale 24 (0.22 requests/s) are not.

Usage: scripts/trace-day-shape.py TRACE.csv MEAN_RATE [BIN_S] [STRETCH] > workload.json
  TRACE.csv  a trace with columns arrived_at (s), num_prefill_tokens, num_decode_tokens
  MEAN_RATE  requests/s over the day
  BIN_S      width of the trace's bins (60)
  STRETCH    time factor (24: an hour becomes a day)
The lengths refer to the trace by a path relative to the scenario folder
(scenarios/), as scenario files resolve them.
"""
import csv
import json
import math
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, mean_rate = sys.argv[1], float(sys.argv[2])
    bin_s = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    stretch = float(sys.argv[4]) if len(sys.argv) > 4 else 24.0
    with open(path, newline="") as f:
        times = [float(row["arrived_at"]) for row in csv.DictReader(f)]
    nbins = int(math.floor((max(times) - min(times)) / bin_s))  # whole bins only
    counts = [0] * nbins
    for t in times:
        k = int((t - times[0]) // bin_s)
        if k < nbins:
            counts[k] += 1
    mean = sum(counts) / nbins
    seg = bin_s * stretch
    points = [[round(k * seg, 3), round(mean_rate * c / mean, 4)] for k, c in enumerate(counts)]
    points.append([round(nbins * seg, 3), 0])
    rel = "../" + path if not path.startswith("/") else path
    workload = {
        "duration_s": nbins * seg,
        "arrival": {"process": "piecewise", "points": points},
        "input": {"dist": "empirical", "path": rel, "column": "num_prefill_tokens"},
        "output": {"dist": "empirical", "path": rel, "column": "num_decode_tokens"},
    }
    json.dump(workload, sys.stdout, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
