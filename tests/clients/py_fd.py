"""A Python client that shares one socket the ways programs do: a request
sent through socket.dup() and read through the original, then a child made
with os.fork() that makes its own request on the inherited socket while the
parent waits, then the parent's own. Prints "key value" lines.
usage: py_fd.py PORT"""
import os, socket, sys

port = int(sys.argv[1])


def request(sock, path):
    body = b'{"stream":true}'
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                 % (path.encode(), len(body), body))


def response(sock):
    data = b""
    while b"\r\n0\r\n\r\n" not in data:
        got = sock.recv(65536)
        if not got:
            return -1
        data += got
    return data.count(b'"text":" t')


s = socket.create_connection(("127.0.0.1", port))
d = s.dup()
request(d, "/py-dup")
d.close()
print("tokens", response(s), flush=True)
pid = os.fork()
if pid == 0:
    request(s, "/py-child")
    ok = response(s) == 3
    s.close()
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
print("child", pid)
print("child_ok", int(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0))
request(s, "/py-parent")
print("tokens", response(s), flush=True)
s.close()
