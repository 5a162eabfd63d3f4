"""A client that reads its stream late: request X is sent, finishes on the
server, and its bytes wait unread while another client the shim does not
see (curl without LD_PRELOAD) makes request Z to the same server and ends;
only then is X read. X's read of its end comes right after Z's finish.
usage: py_late_reader.py PORT X_PREFILL_MS Z_PREFILL_MS"""
import http.client, json, os, subprocess, sys, time

port, xp, zp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = json.dumps({"model": "m", "prompt": "x", "max_tokens": 4, "stream": True})
x = http.client.HTTPConnection("127.0.0.1", port)
x.request("POST", "/v1/completions", body,
          {"Content-Type": "application/json", "X-Fixture": "prefill=%d" % xp})
time.sleep(0.5)  # X is done on the server; its bytes wait in the socket
env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "TTFT_LOG")}
subprocess.run(["curl", "-sN", "-o", "/dev/null", "-H", "Content-Type: application/json",
                "-H", "X-Fixture: prefill=%d" % zp, "-d",
                json.dumps({"model": "m", "prompt": "z", "max_tokens": 4, "stream": True}),
                "http://127.0.0.1:%d/v1/completions" % port], env=env, check=True)
r = x.getresponse()
r.read()
print(json.dumps({"x_status": r.status}))
