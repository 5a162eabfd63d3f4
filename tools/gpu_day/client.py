"""Streamed llama.cpp completions for the shim's accuracy check
(tools/gpu_day.sh): real clients whose every request can be matched to the
shim's record of it, each with llama.cpp's own final-chunk timings.

usage: client.py --port P --requests N [--concurrency C] [--via python|curl]
                 [--prompt-words W] [--max-tokens M] [--timeout S] [--tag T]

C worker processes share the N requests and start together. --via python:
each worker sends its requests one after the other, each on a new
connection (http.client): llama-server closes a connection after a stream,
and a request sent on it meanwhile gets no answer; --via curl: each request is its own curl
process (GPU_DAY_CURL, else curl on PATH). The parent sends nothing.
Every prompt is its own (a numbered first line) and carries
"cache_prompt": false, so each request pays its whole prefill; the usage
chunk is asked for (stream_options), where llama.cpp's timings also come.

One JSON line a request on stdout, in no particular order:
  via, pid (the process that sent it: the worker, or that curl), k (its
  number within that process, from 0), start_ns / first_ns / end_ns
  (time.monotonic_ns = CLOCK_MONOTONIC, the shim's clock; first_ns: python
  saw the first token; curl: its output reached the pipe, so later than
  curl itself saw it), tokens, status, timings (llama.cpp's, or null),
  error (or null). The exit status is 1 when a request failed."""
import argparse, http.client, json, os, subprocess, sys, time

WORDS = ("time to first token measures how long a user waits before the "
         "answer starts while the server reads the prompt and fills its "
         "cache").split()


def prompt(tag, k, words):
    body = " ".join(WORDS[i % len(WORDS)] for i in range(words))
    return "Request %s-%d-%d.\n%s" % (tag, os.getpid(), k, body)


def body(a, k):
    return json.dumps({"prompt": prompt(a.tag, k, a.prompt_words), "max_tokens": a.max_tokens,
                       "stream": True, "stream_options": {"include_usage": True},
                       "ignore_eos": True, "cache_prompt": False, "temperature": 0})


def events(lines):
    """(is_token, timings) for each data event of an SSE stream."""
    for line in lines:
        if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
            continue
        try:
            ev = json.loads(line[6:])
        except ValueError:
            continue
        text = ((ev.get("choices") or [{}])[0]).get("text")
        yield bool(text), ev.get("timings")


def via_python(a, n):
    bad = 0
    for k in range(n):
        rec = {"via": "python", "pid": os.getpid(), "k": k, "first_ns": None, "tokens": 0,
               "status": None, "timings": None, "error": None}
        rec["start_ns"] = time.monotonic_ns()
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=a.timeout)
        try:
            conn.request("POST", "/v1/completions", body(a, k),
                         {"Content-Type": "application/json"})
            resp = conn.getresponse()
            rec["status"] = resp.status
            for tok, timings in events(resp):
                if tok:
                    rec["tokens"] += 1
                    rec["first_ns"] = rec["first_ns"] or time.monotonic_ns()
                if timings:
                    rec["timings"] = timings
        except (OSError, http.client.HTTPException) as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
        conn.close()
        rec["end_ns"] = time.monotonic_ns()
        bad |= rec["error"] is not None or rec["status"] != 200
        print(json.dumps(rec), flush=True)
    return bad


def via_curl(a, n):
    curl = os.environ.get("GPU_DAY_CURL", "curl")
    url = "http://127.0.0.1:%d/v1/completions" % a.port
    bad = 0
    for k in range(n):
        rec = {"via": "curl", "k": 0, "first_ns": None, "tokens": 0, "status": None,
               "timings": None, "error": None}
        data = body(a, k).encode()
        rec["start_ns"] = time.monotonic_ns()
        try:
            p = subprocess.Popen([curl, "-sS", "-N", "--max-time", str(a.timeout),
                                  "-w", "\n%{http_code}\n", "-H", "Content-Type: application/json",
                                  "--data-binary", "@-", url],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as e:
            rec.update(pid=None, end_ns=time.monotonic_ns(), error="cannot run %s: %s" % (curl, e))
            print(json.dumps(rec), flush=True)
            return 1
        rec["pid"] = p.pid
        p.stdin.write(data)
        p.stdin.close()
        last = b""
        for line in p.stdout:
            for tok, timings in events([line]):
                if tok:
                    rec["tokens"] += 1
                    rec["first_ns"] = rec["first_ns"] or time.monotonic_ns()
                if timings:
                    rec["timings"] = timings
            if line.strip():
                last = line.strip()
        rc = p.wait()
        rec["end_ns"] = time.monotonic_ns()
        rec["status"] = int(last) if last.isdigit() else None
        if rc != 0:
            rec["error"] = "curl exited with %d" % rc
        bad |= rec["error"] is not None or rec["status"] != 200
        print(json.dumps(rec), flush=True)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--requests", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--via", choices=("python", "curl"), default="python")
    ap.add_argument("--prompt-words", type=int, default=100)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--tag", default="gpu-day")
    ap.add_argument("--worker", type=int, default=-1, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.requests < 1 or a.concurrency < 1:
        ap.error("--requests and --concurrency must be at least 1")
    if a.worker >= 0:
        return (via_python if a.via == "python" else via_curl)(a, a.requests)
    c = min(a.concurrency, a.requests)
    share = [a.requests // c + (i < a.requests % c) for i in range(c)]
    args = [sys.executable, os.path.abspath(__file__), "--port", str(a.port), "--via", a.via,
            "--prompt-words", str(a.prompt_words), "--max-tokens", str(a.max_tokens),
            "--timeout", str(a.timeout), "--tag", a.tag]
    # the workers write straight to our stdout: one line each, flushed whole
    ws = [subprocess.Popen(args + ["--requests", str(s), "--worker", str(i)])
          for i, s in enumerate(share)]
    return 1 if any(w.wait() != 0 for w in ws) else 0


if __name__ == "__main__":
    sys.exit(main())
