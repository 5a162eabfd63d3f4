"""Streamed completions with http.client; prints one JSON line per request
with the client's own CLOCK_MONOTONIC stamps (time.monotonic_ns): start,
first token, response read to its end.
usage: py_httpclient.py PORT N keepalive|new [chat] [X-Fixture value]
TTFT_TEST_SCRAPES="TRUTH K": after each response, wait until the fixture
has served K /metrics pages (tests/clients/wait_scrapes.sh), so that a
scraper's snapshot falls between any two requests; 20 ms of quiet before
and after that wait keep every snapshot's stamp outside the join's ±5 ms
around a request's moments, however late a busy machine lets the client
read its tokens (it may read the first and the last at once)."""
import http.client, json, os, subprocess, sys, time

port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
chat = len(sys.argv) > 4 and sys.argv[4] == "chat"
fixture = sys.argv[5] if len(sys.argv) > 5 else ""
path = "/v1/chat/completions" if chat else "/v1/completions"
body = {"model": "m", "max_tokens": 5, "stream": True, "temperature": 0}
if chat:
    body["messages"] = [{"role": "user", "content": "Explain TTFT."}]
else:
    body["prompt"] = "Explain TTFT."
conn = None
scrapes = os.environ.get("TTFT_TEST_SCRAPES", "").split()
wait = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wait_scrapes.sh")
for i in range(n):
    if conn is None or mode == "new":
        conn = http.client.HTTPConnection("127.0.0.1", port)
    t0 = time.monotonic_ns()
    conn.request("POST", path, json.dumps(body),
                 {"Content-Type": "application/json", "X-Fixture": fixture})
    resp = conn.getresponse()
    first, tokens = None, 0
    for line in resp:  # the chunked decoder hands back whole lines
        if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
            continue
        choice = (json.loads(line[6:]).get("choices") or [{}])[0]
        text = choice.get("delta", {}).get("content") if chat else choice.get("text")
        if text:
            tokens += 1
            if first is None:
                first = time.monotonic_ns()
    end = time.monotonic_ns()
    print(json.dumps({"start_ns": t0, "first_ns": first, "end_ns": end, "tokens": tokens}),
          flush=True)
    if mode == "new":
        conn.close()
    if scrapes:
        time.sleep(0.02)
        subprocess.run(["sh", wait] + scrapes, check=True)
        time.sleep(0.02)
