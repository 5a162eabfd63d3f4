#!/usr/bin/env python3
"""The seed's probe: one completion; prints wall_s and usage.total_tokens.
usage: ttft_probe.py [URL]   (default http://localhost:8000)
Exit 1, with one line saying why, when the server cannot be reached, answers
with an HTTP error, or answers with something that is not a completion."""
import json, sys, time, urllib.error, urllib.request

url = (sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000").rstrip("/")

def ask(path, what, data=None, timeout=30):
    req = urllib.request.Request(url + path, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit(f"ttft_probe.py: {url}{path} answered HTTP {e.code}: "
                 f"{e.read(300).decode('utf-8', 'replace').strip()}")
    except (OSError, ValueError) as e:  # refused, timed out, cut, not JSON
        sys.exit(f"ttft_probe.py: cannot reach {url}{path} or read its {what}: {e}")

try:
    model = ask("/v1/models", "model list")["data"][0]["id"]
except (KeyError, IndexError, TypeError) as e:
    sys.exit(f"ttft_probe.py: {url}/v1/models lists no model (no {e}): not an OpenAI-compatible server?")
body = {"model": model, "prompt": "Explain TTFT in one sentence.",
        "max_tokens": 64, "temperature": 0}
t0 = time.perf_counter()
out = ask("/v1/completions", "completion", json.dumps(body).encode(), timeout=300)
wall = time.perf_counter() - t0
try:
    total = out["usage"]["total_tokens"]
except (KeyError, TypeError) as e:
    sys.exit(f"ttft_probe.py: {url}/v1/completions answered with no usage.total_tokens (no {e})")
print(f"wall_s={wall:.4f} total_tokens={total}")
