"""Streamed completions over HTTPS with python requests (http.client with an
ssl context where requests is not installed); one JSON line per request with
the client's own CLOCK_MONOTONIC stamps (time.monotonic_ns).
usage: py_requests_tls.py PORT N keepalive|new CAFILE [X-Fixture value]"""
import json, ssl, sys, time

port, n, mode, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
fixture = sys.argv[5] if len(sys.argv) > 5 else ""
url = "https://127.0.0.1:%d/v1/completions" % port
body = json.dumps({"model": "m", "prompt": "Explain TTFT.", "max_tokens": 5,
                   "stream": True, "temperature": 0})
headers = {"Content-Type": "application/json", "X-Fixture": fixture,
           "Authorization": "Bearer sk-ttft-test-secret"}

try:
    import requests
    client = "requests"
except ImportError:
    import http.client
    client = "http.client"


def lines_requests(session):
    # verify per request: REQUESTS_CA_BUNDLE would beat session.verify
    resp = session.post(url, data=body, headers=headers, stream=True, verify=cafile)
    # chunk_size=None: each HTTP chunk as it arrives, not 512-byte reads
    for line in resp.iter_lines(chunk_size=None):
        yield line
    resp.close()


def lines_httpclient(conn):
    conn.request("POST", "/v1/completions", body, headers)
    yield from conn.getresponse()


ctx = ssl.create_default_context(cafile=cafile)
conn = None
for i in range(n):
    if conn is None or mode == "new":
        if client == "requests":
            conn = requests.Session()
        else:
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    t0 = time.monotonic_ns()
    first, tokens = None, 0
    lines = lines_requests(conn) if client == "requests" else lines_httpclient(conn)
    for line in lines:
        if not line.startswith(b"data: {"):
            continue
        if json.loads(line[6:])["choices"][0]["text"]:
            tokens += 1
            if first is None:
                first = time.monotonic_ns()
    print(json.dumps({"client": client, "start_ns": t0, "first_ns": first,
                      "tokens": tokens}), flush=True)
    if mode == "new":
        conn.close()
