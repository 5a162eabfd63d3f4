#!/usr/bin/env python3
"""The seed's probe: one completion; prints wall_s and usage.total_tokens.
usage: ttft_probe.py [URL]   (default http://localhost:8000)
exit status: 0 done; 1 the server could not be reached or gave no usable
answer (said on stderr, never a traceback); 2 usage error."""
import http.client, json, sys, time, urllib.request

args = sys.argv[1:]
if args[:1] in (["-h"], ["--help"]):
    print(__doc__)
    sys.exit(0)
if len(args) > 1 or (args and args[0].startswith("-")):
    sys.exit(print(f"ttft_probe.py: unexpected argument {args[-1]!r}\n{__doc__}",
                   file=sys.stderr) or 2)
url = (args[0] if args else "http://localhost:8000").rstrip("/")
doing = f"cannot reach {url}"
try:
    with urllib.request.urlopen(url + "/v1/models", timeout=30) as r:
        doing = f"no OpenAI model list ({{\"data\":[{{\"id\":…}}]}}) at {url}/v1/models"
        model = json.load(r)["data"][0]["id"]
    body = {"model": model, "prompt": "Explain TTFT in one sentence.",
            "max_tokens": 64, "temperature": 0}
    req = urllib.request.Request(url + "/v1/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    doing = f"the completion at {url}/v1/completions failed"
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        out = json.load(r)
    wall = time.perf_counter() - t0
    usage = out.get("usage") if isinstance(out, dict) else None
    total = usage.get("total_tokens") if isinstance(usage, dict) else None
    # an answer without usage: not known, never a made-up count
    doing = "cannot write the result"
    print(f"wall_s={wall:.4f} total_tokens={'unknown' if total is None else total}",
          flush=True)
except (OSError, ValueError, LookupError, TypeError, http.client.HTTPException) as e:
    sys.exit(f"ttft_probe.py: {doing}: {type(e).__name__}: {str(e)[:200]}")
except KeyboardInterrupt:
    sys.exit(130)
