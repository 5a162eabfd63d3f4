"""The shim's per-request numbers against llama.cpp's own (tools/gpu_day.sh).

usage: accuracy.py --json OUT.json --md OUT.md RUN...
  RUN = LABEL:CONCURRENCY:SHIM.json:CLIENT.jsonl
  SHIM.json: `ttft-run --json` of the clients (the shim's records);
  CLIENT.jsonl: tools/gpu_day/client.py's lines (llama.cpp's timings).

A shim record and a client request are the same request when they come from
the same process (pid) and are its k-th completion request in time order;
the pairing is then checked: the shim's record must lie inside the client's
own [start, end]. A process whose counts differ, or a pair that fails the
check, is reported unjoined with the reason, never guessed. Server numbers
come from the request's own response (llama.cpp's final-chunk timings), so
a joined row compares numbers that provably belong to one request."""
import math
import argparse, json, sys


def ms(x):
    return None if x is None else x * 1e3


def pct(xs, q):
    """Linear between closest ranks (numpy's default); a quantile above the
    median only from ceil(1/(1-q)) values (p90: 10), else None: the rule of
    docs/phases.md."""
    xs = sorted(x for x in xs if x is not None)
    if not xs or (0.5 < q < 1 and len(xs) < math.ceil(1 / (1 - q) - 1e-9)):
        return None
    i = (len(xs) - 1) * q
    lo = int(i)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)


def load_run(spec):
    label, conc, shim_path, client_path = spec.split(":", 3)
    with open(shim_path) as f:
        shim = json.load(f)
    clients = []
    with open(client_path) as f:
        for line in f:
            line = line.strip()
            if line:
                clients.append(json.loads(line))
    return label, int(conc), shim, clients


def join(shim, clients):
    """Rows (one per client request) and notes about what could not be joined."""
    by_pid = {}
    for r in shim.get("requests", []):
        if r.get("method") == "POST" and r.get("path") == "/v1/completions":
            by_pid.setdefault(r.get("pid"), []).append(r)
    for rs in by_pid.values():
        rs.sort(key=lambda r: r.get("start_s") or 0)
    cl_pid = {}
    for c in clients:
        cl_pid.setdefault(c.get("pid"), []).append(c)
    rows, notes = [], []
    for pid, cs in sorted(cl_pid.items(), key=lambda kv: min(c["start_ns"] for c in kv[1])):
        cs.sort(key=lambda c: c["k"])
        ss = by_pid.pop(pid, [])
        if len(ss) != len(cs):
            notes.append("pid %s: the client sent %d requests, the shim recorded %d: "
                         "not joined" % (pid, len(cs), len(ss)))
            for c in cs:
                rows.append(row(c, None, "counts differ for this process"))
            continue
        for c, s in zip(cs, ss):
            s0 = round((s.get("start_s") or 0) * 1e9)
            s1 = s0 + round((s.get("e2e_s") or 0) * 1e9)
            if not (c["start_ns"] <= s0 and s1 <= c["end_ns"]):
                rows.append(row(c, None, "the shim's record [%d, %d] ns is not inside the "
                                "client's [%d, %d]" % (s0, s1, c["start_ns"], c["end_ns"])))
            else:
                rows.append(row(c, s, None))
    for pid, ss in by_pid.items():
        notes.append("pid %s: %d completion requests in the shim's log from no client "
                     "record" % (pid, len(ss)))
    return rows, notes


def row(c, s, why):
    t = c.get("timings") or {}
    r = {"via": c.get("via"), "pid": c.get("pid"), "k": c.get("k"), "status": c.get("status"),
         "client_error": c.get("error"), "joined": s is not None, "why_not": why,
         "client_tokens": c.get("tokens"),
         "server_prompt_n": t.get("prompt_n"), "server_prompt_ms": t.get("prompt_ms"),
         "server_cache_n": t.get("cache_n"), "server_predicted_n": t.get("predicted_n"),
         "server_predicted_ms": t.get("predicted_ms")}
    if not t:
        r["server_note"] = "no timings in the response"
    if s is None:
        return r
    ttft, dec = ms(s.get("ttft_s")), ms(s.get("decode_s"))
    first_ns = None
    if s.get("start_s") is not None and s.get("ttft_s") is not None:
        first_ns = round(s["start_s"] * 1e9) + round(s["ttft_s"] * 1e9)
    r.update({
        "shim_ttft_ms": ttft,
        "shim_wait_headers_ms": ms(s.get("wait_headers_s")),
        "shim_decode_ms": dec,
        "shim_e2e_ms": ms(s.get("e2e_s")),
        "shim_tokens": s.get("tokens"),
        "client_ttft_ms": (c["first_ns"] - c["start_ns"]) / 1e6 if c.get("first_ns") else None,
        # the client (python) or the pipe (curl) saw the token after the socket did
        "client_after_shim_ms": (c["first_ns"] - first_ns) / 1e6
        if c.get("first_ns") and first_ns else None,
        "shim_split_source": s.get("split_source"),
        "shim_split_note": s.get("split_note"),
        "shim_queue_ms": ms(s.get("queue_s")),
        "shim_prefill_ms": ms(s.get("prefill_s")),
    })
    pm, pd = t.get("prompt_ms"), t.get("predicted_ms")
    r["ttft_minus_prompt_ms"] = ttft - pm if ttft is not None and pm is not None else None
    r["decode_minus_predicted_ms"] = dec - pd if dec is not None and pd is not None else None
    r["split_prefill_minus_prompt_ms"] = (r["shim_prefill_ms"] - pm
                                          if r["shim_prefill_ms"] is not None and pm is not None
                                          else None)
    return r


def summary(label, conc, rows, notes):
    j = [r for r in rows if r["joined"]]
    col = lambda k: [r.get(k) for r in j]
    split = [r for r in j if r.get("shim_split_source")]
    s = {"label": label, "concurrency": conc, "requests": len(rows), "joined": len(j),
         "failed": sum(1 for r in rows if r["client_error"] or r["status"] != 200),
         "notes": notes, "with_shim_split": len(split)}
    for k in ("shim_ttft_ms", "server_prompt_ms", "ttft_minus_prompt_ms", "shim_wait_headers_ms",
              "decode_minus_predicted_ms", "client_after_shim_ms",
              "split_prefill_minus_prompt_ms"):
        s[k] = {"p50": pct(col(k), 0.5), "p90": pct(col(k), 0.9),
                "min": pct(col(k), 0), "max": pct(col(k), 1)}
    rel = [abs(r["decode_minus_predicted_ms"]) / r["server_predicted_ms"]
           for r in j if r.get("decode_minus_predicted_ms") is not None
           and r.get("server_predicted_ms")]
    s["decode_rel_err_p50"] = pct(rel, 0.5)
    s["decode_rel_err_max"] = pct(rel, 1)
    s["tokens_agree"] = sum(1 for r in j if r.get("shim_tokens") == r.get("client_tokens"))
    return s


def f(x, d=2):
    return "-" if x is None else ("%.*f" % (d, x))


def markdown(runs, meta):
    out = ["# The shim at GPU speed: per-request split against llama.cpp's own timings", "",
           meta, "",
           "Each request's own response carries llama.cpp's `timings` (prompt_ms: its "
           "prefill; predicted_ms: its decode); the shim's record of the same request "
           "(same process, same order, inside the client's own start/end) gives TTFT at the "
           "socket. `TTFT − prompt_ms` is what the server's prefill does not explain: HTTP, "
           "tokenization, waiting for the slot, the first token's flush. The shim's own "
           "split (`ttft-run --metrics`: llama.cpp's /metrics before and after) is given "
           "only where exactly one request ended in the window. A p90 needs 10 "
           "joined requests ('-' below: docs/phases.md).", "",
           "| run | C | joined / sent (failed) | TTFT p50 (ms) | prompt_ms p50 | TTFT − prompt_ms p50 / p90 "
           "| wait for headers p50 | decode − predicted_ms p50 (rel. max) | client after "
           "shim p50 | shim split given | split prefill − prompt_ms p50 |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s, _ in runs:
        out.append("| %s | %d | %d / %d (%d) | %s | %s | %s / %s | %s | %s (%s%%) | %s | %d | %s |" % (
            s["label"], s["concurrency"], s["joined"], s["requests"], s["failed"],
            f(s["shim_ttft_ms"]["p50"]), f(s["server_prompt_ms"]["p50"]),
            f(s["ttft_minus_prompt_ms"]["p50"]), f(s["ttft_minus_prompt_ms"]["p90"]),
            f(s["shim_wait_headers_ms"]["p50"]), f(s["decode_minus_predicted_ms"]["p50"]),
            f(None if s["decode_rel_err_max"] is None else 100 * s["decode_rel_err_max"], 1),
            f(s["client_after_shim_ms"]["p50"]), s["with_shim_split"],
            f(s["split_prefill_minus_prompt_ms"]["p50"])))
    for s, rows in runs:
        out += ["", "## %s (concurrency %d)" % (s["label"], s["concurrency"]), ""]
        for n in s["notes"]:
            out.append("- note: " + n)
        out += ["| pid | k | TTFT (ms) | wait headers | prompt_n | prompt_ms | TTFT − prompt_ms "
                "| decode | predicted_ms | tokens shim / client / server | client after shim "
                "| split (source: queue, prefill) |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if r["client_error"] or r["status"] != 200:
                out.append("| %s | %s | failed: %s |||||||||| " % (
                    r["pid"], r["k"], (r["client_error"] or "HTTP %s" % r["status"]).replace("|", "/")))
                continue
            if not r["joined"]:
                out.append("| %s | %s | not joined: %s |||||||||| " % (r["pid"], r["k"],
                                                                       r["why_not"]))
                continue
            sp = "-"
            if r.get("shim_split_source"):
                sp = "%s: %s, %s" % (r["shim_split_source"], f(r["shim_queue_ms"]),
                                     f(r["shim_prefill_ms"]))
            elif r.get("shim_split_note"):
                sp = "none: " + r["shim_split_note"].replace("|", "/")
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s |" % (
                r["pid"], r["k"], f(r["shim_ttft_ms"]), f(r["shim_wait_headers_ms"]),
                r["server_prompt_n"] if r["server_prompt_n"] is not None else "-",
                f(r["server_prompt_ms"]), f(r["ttft_minus_prompt_ms"]),
                f(r["shim_decode_ms"]), f(r["server_predicted_ms"]),
                r.get("shim_tokens"), r.get("client_tokens"),
                r["server_predicted_n"] if r["server_predicted_n"] is not None else "-",
                f(r["client_after_shim_ms"]), sp))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--meta", default="")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    runs, bad = [], 0
    for spec in a.runs:
        try:
            label, conc, shim, clients = load_run(spec)
        except (OSError, ValueError) as e:
            print("accuracy: %s: %s" % (spec, e), file=sys.stderr)
            bad = 1
            continue
        rows, notes = join(shim, clients)
        runs.append((summary(label, conc, rows, notes), rows))
    with open(a.json, "w") as fj:
        json.dump({"meta": a.meta, "runs": [{"summary": s, "requests": rows}
                                            for s, rows in runs]}, fj, indent=1)
        fj.write("\n")
    with open(a.md, "w") as fm:
        fm.write(markdown(runs, a.meta))
    joined = sum(s["joined"] for s, _ in runs)
    print("accuracy: %d runs, %d of %d requests joined -> %s" %
          (len(runs), joined, sum(s["requests"] for s, _ in runs), a.md), file=sys.stderr)
    return 1 if bad or not joined else 0


if __name__ == "__main__":
    sys.exit(main())
