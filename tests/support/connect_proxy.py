#!/usr/bin/env python3
"""connect_proxy.py — an HTTP proxy that answers CONNECT only (test_tls).

Listens on 127.0.0.1 (a port of the kernel's choosing, printed as
"port N" once it listens). Each client sends `CONNECT host:port HTTP/1.1`
and its headers; the proxy connects there, answers
"HTTP/1.1 200 Connection established" and then relays the bytes both
ways, untouched, until either side closes: what `curl -p -x` and
http.client's set_tunnel() expect of a proxy, so that HTTPS goes through
the tunnel (its TLS starts after the connection's first bytes). Any other
method gets a 405. Not under the shim: the tests start it themselves.
"""
import socket
import sys
import threading


def relay(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(client):
    head = b""
    while b"\r\n\r\n" not in head:
        data = client.recv(4096)
        if not data:
            client.close()
            return
        head += data
    line, _, _ = head.partition(b"\r\n")
    parts = line.split()
    if len(parts) != 3 or parts[0] != b"CONNECT" or b":" not in parts[1]:
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    host, _, port = parts[1].rpartition(b":")
    try:
        upstream = socket.create_connection((host.decode(), int(port)), timeout=10)
        upstream.settimeout(None)
    except (OSError, ValueError):
        client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    early = head.split(b"\r\n\r\n", 1)[1]
    if early:
        upstream.sendall(early)
    back = threading.Thread(target=relay, args=(upstream, client), daemon=True)
    back.start()
    relay(client, upstream)
    back.join()
    client.close()
    upstream.close()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print("port", srv.getsockname()[1], flush=True)
    while True:
        client, _ = srv.accept()
        threading.Thread(target=serve, args=(client,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
