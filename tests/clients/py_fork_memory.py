"""A fork child's memory: prints the private dirty kB of a child made by
os.fork() right after the fork (its atfork handlers have run), and the
parent's. test_shim_log runs it with and without the shim: the shim must
not make every fork child write its table of connections (~1 MB)."""
import os
import socket


def dirty():
    kb = 0
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                kb += int(line.split()[1])
    return kb


s = socket.socket()  # a socket open, as a client's would be
pid = os.fork()
if pid == 0:
    os.write(1, ("child %d\n" % dirty()).encode())
    os._exit(0)
os.waitpid(pid, 0)
print("parent %d" % dirty())
