"""Connects the server never answers, given up by the client: a listening
socket that never accepts, its accept queue full (listen(0)), so the
kernel drops the SYNs of the connects after the first; each socket is
closed after a short wait for its connect. The client asks the kernel
itself (TCP_INFO's state) which were still under way (SYN_SENT) when it
closed them, and prints "port P" and "pending N": the truth the shim's
count is checked against.
usage: py_connect_given_up.py"""
import select, socket, struct

SYN_SENT = 2  # TCP_INFO's tcpi_state (include/net/tcp_states.h)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(0)
addr = ls.getsockname()
socks = []
for i in range(3):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(addr)
    select.select([], [s], [], 0.2)  # the client's own connect timeout
    socks.append(s)
pending = 0
for s in socks:
    state = struct.unpack("B", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[:1])[0]
    pending += state == SYN_SENT
    s.close()
ls.close()
print("port %d" % addr[1])
print("pending %d" % pending)
