"""Two streamed completions pipelined on one connection (HTTP/1.1: the
second request sent with the first, before any response): one sendall of
both, then read until both streams have ended.
usage: py_pipelined.py PORT"""
import socket, sys

port = int(sys.argv[1])
body = b'{"model":"m","prompt":"Explain TTFT.","max_tokens":5,"stream":true}'
req = (b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
s = socket.create_connection(("127.0.0.1", port))
s.sendall(req + req)
got = b""
while got.count(b"[DONE]") < 2:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("the server closed before both responses ended")
    got += chunk
s.close()
