"""The parent starts a non-blocking connect and hands the socket to a
forked worker, closing its own copy at once (its SYN still unanswered:
the server's accept queue is full for a moment). The worker waits for the
connect, sends a request and reads a 200. No connect was given up.
(A review found it counted as given up: the parent's close is no giving
up while a child holds the socket.) Prints the parent's TCP state at its
close (2 = SYN_SENT) and the worker's status line.
usage: py_fork_handoff_connect.py"""
import os, select, socket, threading, time
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(0)
addr = ls.getsockname()
filler = socket.create_connection(addr)   # fills the accept queue: the next SYN is dropped
s = socket.socket(); s.setblocking(False); s.connect_ex(addr)
pid = os.fork()
if pid == 0:                               # the worker
    select.select([], [s], [], 10)
    s.setblocking(True)
    s.sendall(b"GET /handoff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = b""
    while True:
        d = s.recv(4096)
        if not d: break
        got += d
    print("worker got %s" % got.split(b"\r\n")[0].decode())
    os._exit(0)
state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
print("parent state %d" % state)  # 2 = SYN_SENT
s.close()
a, _ = ls.accept(); a.close(); filler.close()  # room in the queue: the SYN's retry is accepted
c, _ = ls.accept()
c.recv(4096)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
c.close()
os.waitpid(pid, 0)
ls.close()
