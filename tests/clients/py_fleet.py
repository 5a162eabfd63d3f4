"""Sequential streamed completions for the Prometheus tests: request i gets
the fixture's X-Fixture spec number i (cycled), on a new connection each.
usage: py_fleet.py PORT N [options]
  --spec S1;S2;...  X-Fixture values, one a request, cycled ("first=30,queue=5")
  --prom URL --job J  after each request, wait until Prometheus at URL has
                    scraped job J twice after the request ended: the first
                    of those scrapes was rendered whole before the next
                    request begins, so each request is alone between two
                    samples
  --hold FILE       when done, wait for FILE to exist before exiting
Prints one JSON line per request: its end (wall clock, ns) and tokens."""
import http.client, json, os, sys, time, urllib.parse, urllib.request

port, n = int(sys.argv[1]), int(sys.argv[2])
opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
specs = opts.get("--spec", "").split(";")
prom, job, hold = opts.get("--prom"), opts.get("--job"), opts.get("--hold")


def latest_scrape():
    """When Prometheus last scraped job (unix seconds), 0 when never."""
    q = urllib.parse.urlencode({"query": 'timestamp(up{job="%s"})' % job})
    with urllib.request.urlopen("%s/api/v1/query?%s" % (prom, q), timeout=10) as r:
        res = json.load(r)["data"]["result"]
    return float(res[0]["value"][1]) if res else 0


def scrape_after(t_s):
    """Wait (2 minutes at most) for a scrape that began after t_s; its time."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        t = latest_scrape()
        if t > t_s:
            return t
        time.sleep(0.02)
    return t_s


body = json.dumps({"model": "m", "prompt": "Explain TTFT.", "max_tokens": 4,
                   "stream": True})
for i in range(n):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/v1/completions", body,
                 {"Content-Type": "application/json", "X-Fixture": specs[i % len(specs)]})
    resp = conn.getresponse()
    tokens = sum(1 for line in resp if line.startswith(b"data: {"))
    conn.close()
    end = time.time()
    print(json.dumps({"end_unix_ns": time.time_ns(), "tokens": tokens}), flush=True)
    if prom:
        scrape_after(scrape_after(end))
if hold:
    deadline = time.monotonic() + 600
    while not os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
