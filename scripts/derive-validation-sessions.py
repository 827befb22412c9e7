#!/usr/bin/env python3
"""Adds session columns to the request CSV of a measured run whose prefix
groups are conversations (data/validation/lss-*).

In those runs each row's prefix_group names a conversation and
shared_prefix_tokens the number of leading prompt tokens it shares with an
earlier prompt of the group. A row R is taken as the next turn of an earlier
row P of the same group when P is the last turn of its session so far (a
session is a chain) and R's shared prefix is exactly P's prompt
(shared_prefix_tokens == P.input_tokens: R's prompt begins with all of P's
prompt), taking the latest such P. Every prompt of a session then begins
with all the earlier ones, so the shared prefix, whichever earlier prompt it
was measured against, is P's. R gets P's session_id and
session_prefix_tokens = P.input_tokens: P's prompt, not P's output. The
answer inside R's prompt is the one recorded in the dataset, not the one the
server generated for P: LLMServingSim's dataset/sharegpt_parser.py builds
turn N+1's prompt from the dataset's responses, and every such R arrived
before P had finished. Most such R also leave room for P's answer
(R.input_tokens >= P.input_tokens + P.output_tokens: a continuation); the
others repeat P's prompt (a second conversation opening the same way) and
share it just the same. Rows sharing less than an earlier whole prompt are
left out: the data does not say with which earlier prompt they share it.
A session's first turn gets session_prefix_tokens 0; rows in no chain of two
or more get empty session columns. Rows and every other column are left as
they are. Re-running recomputes the two columns.

Usage: scripts/derive-validation-sessions.py EXPERIMENT_DIR... [--check]
  --check  only report; exit 1 if a CSV would change.
Python 3 standard library only.
"""
import csv
import io
import os
import sys

BLOCK = 16  # tokens per KV block in these runs (their experiment.json)


def derive(rows):
    """Returns (session ids, session prefixes) per row (strings, '' = none)."""
    tails = {}  # group -> list of [session key, index of its last turn]
    continuations = 0
    chain_of = [None] * len(rows)
    prefix = [0] * len(rows)
    for i, r in enumerate(rows):
        group = r["prefix_group"].strip()
        if not group:
            continue
        shared = int(r["shared_prefix_tokens"] or 0)
        inp = int(r["input_tokens"])
        best = None
        for chain in tails.get(group, []):
            p = rows[chain[1]]
            p_in = int(p["input_tokens"])
            if shared == p_in and (best is None or chain[1] > best[1]):
                best = chain
        if best is not None:
            p = rows[best[1]]
            continuations += inp >= int(p["input_tokens"]) + int(p["output_tokens"])
            prefix[i] = shared
            chain_of[i] = best[0]
            if chain_of[best[1]] is None:
                chain_of[best[1]] = best[0]
            best[1] = i
        else:
            tails.setdefault(group, []).append([(group, i), i])
    # name each chain of two or more turns by its group, with a suffix when a
    # group holds several
    names, per_group = {}, {}
    for key in chain_of:
        if key is not None and key not in names:
            n = per_group.get(key[0], 0) + 1
            per_group[key[0]] = n
            names[key] = key[0] if n == 1 else "%s-%d" % (key[0], n)
    ids = [names[k] if k is not None else "" for k in chain_of]
    prefixes = [str(prefix[i]) if chain_of[i] is not None else "" for i in range(len(rows))]
    return ids, prefixes, continuations


def process(folder, check):
    path = os.path.join(folder, "requests.csv")
    with open(path, newline="") as f:
        text = f.read()
    reader = csv.DictReader(io.StringIO(text))
    fields = [c for c in reader.fieldnames if c not in ("session_id", "session_prefix_tokens")]
    rows = list(reader)
    ids, prefixes, continuations = derive(rows)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(fields + ["session_id", "session_prefix_tokens"])
    for r, sid, sp in zip(rows, ids, prefixes):
        w.writerow([r[c] for c in fields] + [sid, sp])
    new_text = out.getvalue()

    sessions = len({s for s in ids if s})
    turns = sum(1 for s in ids if s)
    later = sum(1 for s, p in zip(ids, prefixes) if s and p != "0")
    prompt_tokens = sum(int(r["input_tokens"]) for r in rows)
    in_prefix = sum(int(p) for p in prefixes if p)
    # what a cache can hit at most: whole blocks of the prefix, never the last prompt token
    hittable = sum(min(int(p), int(r["input_tokens"]) - 1) // BLOCK * BLOCK
                   for r, p in zip(rows, prefixes) if p)
    print("%s: %d rows, %d sessions of %d turns (%d later turns, %d with room for the previous "
          "answer); %d of %d prompt tokens in session prefixes, at most %d hit in whole blocks of %d"
          % (path, len(rows), sessions, turns, later, continuations, in_prefix, prompt_tokens,
             hittable, BLOCK))
    changed = new_text != text
    if check:
        if changed:
            print("%s: would change" % path)
        return not changed
    if changed:
        tmp = path + ".tmp"
        with open(tmp, "w", newline="") as f:
            f.write(new_text)
        os.replace(tmp, path)
    return True


def main(argv):
    check = "--check" in argv
    folders = [a for a in argv if a != "--check"]
    if not folders:
        sys.stderr.write(__doc__.split("\n\n")[-2] + "\n")
        return 2
    ok = True
    for folder in folders:
        try:
            ok &= process(folder, check)
        except (OSError, KeyError, ValueError) as e:
            sys.stderr.write("%s: %s\n" % (folder, e))
            return 3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
