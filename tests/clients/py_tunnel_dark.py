"""TLS the shim cannot open, through a proxy's tunnel: a CONNECT to the
proxy, its 200 read, then a ClientHello (random bytes where the random
goes) written straight to the socket, as a TLS library the shim does not
tap would (test_tls). Prints "tunnel 200" once the tunnel opened.
usage: py_tunnel_dark.py PROXY_PORT TARGET_PORT"""
import os, socket, sys

proxy, target = int(sys.argv[1]), sys.argv[2].encode()
s = socket.create_connection(("127.0.0.1", proxy))
s.sendall(b"CONNECT 127.0.0.1:" + target + b" HTTP/1.1\r\nHost: 127.0.0.1:" + target +
          b"\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    data = s.recv(4096)
    if not data:
        sys.exit("the proxy closed before its answer")
    head += data
if not head.startswith(b"HTTP/1.1 200"):
    sys.exit("the proxy said: %r" % head[:40])
print("tunnel 200", flush=True)
s.sendall(bytes([22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3]) + os.urandom(194))
s.recv(4096)
s.close()
