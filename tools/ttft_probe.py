#!/usr/bin/env python3
"""The seed's probe: one completion; prints wall_s and usage.total_tokens.
usage: ttft_probe.py [URL]   (default http://localhost:8000)"""
import json, sys, time, urllib.request

url = (sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000").rstrip("/")
try:
    with urllib.request.urlopen(url + "/v1/models", timeout=30) as r:
        model = json.load(r)["data"][0]["id"]
except OSError as e:
    sys.exit(f"ttft_probe.py: cannot reach {url}: {e}")
body = {"model": model, "prompt": "Explain TTFT in one sentence.",
        "max_tokens": 64, "temperature": 0}
req = urllib.request.Request(url + "/v1/completions", json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
t0 = time.perf_counter()
with urllib.request.urlopen(req, timeout=300) as r:
    out = json.load(r)
wall = time.perf_counter() - t0
print(f"wall_s={wall:.4f} total_tokens={out['usage']['total_tokens']}")
