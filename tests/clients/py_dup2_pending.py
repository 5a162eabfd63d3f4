"""Connection A (fd X) is established (the server accepted it; the client
never polled it, so the shim still has its connect pending). The client
replaces it: a new socket B, whose connect is still under way (the other
listener's accept queue is full), is dup2'ed onto X, then closed. Only B's
connect was given up (a review found A's said too: the kernel was asked
of fd X after the dup2, which then named B). Prints A's and B's TCP
states as the client's own truth.
usage: py_dup2_pending.py"""
import os, socket, time
up = socket.socket(); up.bind(("127.0.0.1", 0)); up.listen(8)
full = socket.socket(); full.bind(("127.0.0.1", 0)); full.listen(0)
filler = socket.create_connection(full.getsockname())
a = socket.socket(); a.setblocking(False); a.connect_ex(up.getsockname())
time.sleep(0.2)
print("A state %d" % a.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0])  # 1 = ESTABLISHED
b = socket.socket(); b.setblocking(False); b.connect_ex(full.getsockname())
print("B state %d" % b.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0])  # 2 = SYN_SENT
os.dup2(b.fileno(), a.fileno())
b.close()
time.sleep(0.1)
a.close(); filler.close(); up.close(); full.close()
