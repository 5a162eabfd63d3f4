#!/usr/bin/env python3
"""cg_slope.py — what the shim adds to one request of ttft-probe, by
function, from the four callgrind profiles `bench_shim --profile probe|paced`
keeps (PREFIX.plain.10, PREFIX.plain.20, PREFIX.shim.10, PREFIX.shim.20).

Each function's self instructions (calls to others not counted), as a slope:
((shim.20 - shim.10) - (plain.20 - plain.10)) / N, N the runs between the
two (10): start-up and exit cancel, as in the bench's own row.

usage: python3 bench/cg_slope.py PREFIX [N] [--all]
"""
import collections
import re
import sys


def load(path):
    """Self instructions by (object, function) of a callgrind out file."""
    cost = collections.Counter()
    names = {"ob": {}, "fn": {}}
    ob = fn = None
    npos = 1
    skip_next = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("positions:"):
                npos = len(line.split()) - 1
                continue
            m = re.match(r"(c?)(ob|fn)=\((\d+)\)(?: (.*))?$", line)
            if m:
                kind, key, name = m.group(2), m.group(3), m.group(4)
                if name:
                    names[kind][key] = name
                if not m.group(1):  # ob= / fn=: where costs now go
                    if kind == "ob":
                        ob = names["ob"].get(key)
                    else:
                        fn = names["fn"].get(key)
                continue
            if line.startswith("calls="):
                skip_next = True  # the next cost line is the call's inclusive
                continue
            if not line or not (line[0].isdigit() or line[0] in "+-*"):
                continue
            if skip_next:
                skip_next = False
                continue
            fields = line.split()
            if len(fields) > npos:
                obj = (ob or "?").rsplit("/", 1)[-1]
                cost[(obj, fn or "?")] += int(fields[npos])
    return cost


def main():
    args = [a for a in sys.argv[1:] if a != "--all"]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    prefix = args[0]
    n = float(args[1]) if len(args) > 1 else 10.0
    try:
        p10, p20, s10, s20 = (load("%s.%s" % (prefix, k)) for k in
                              ("plain.10", "plain.20", "shim.10", "shim.20"))
    except OSError as e:
        print("cg_slope: %s (run bench_shim --profile probe|paced first)" % e,
              file=sys.stderr)
        return 1
    keys = set(p10) | set(p20) | set(s10) | set(s20)
    added = {k: ((s20[k] - s10[k]) - (p20[k] - p10[k])) / n for k in keys}
    by_obj = collections.Counter()
    for (obj, _), v in added.items():
        by_obj[obj] += v
    print("added a request, by object:")
    for obj, v in sorted(by_obj.items(), key=lambda kv: -abs(kv[1])):
        if abs(v) >= 0.5:
            print("%10.0f  %s" % (v, obj))
    print("%10.0f  total" % sum(added.values()))
    print("by function (|added| >= %s):" % ("1" if "--all" in sys.argv else "50"))
    floor = 1 if "--all" in sys.argv else 50
    for (obj, fn), v in sorted(added.items(), key=lambda kv: -abs(kv[1])):
        if abs(v) >= floor:
            print("%10.0f  %s  %s" % (v, obj, fn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
