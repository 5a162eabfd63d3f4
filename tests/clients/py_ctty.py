"""A session leader with no controlling terminal whose TTFT_LOG names a
terminal: does it get that terminal as its controlling one? Prints one line
per run, "without shim: ..." and "with shim: ...", each "no controlling
tty" (the host's truth) or "has a controlling tty".
usage: py_ctty.py SHIM.so"""
import os
import pty
import sys

shim = sys.argv[1]
master, slave = pty.openpty()
name = os.ttyname(slave)
check = ("import os\n"
         "try:\n"
         "    os.close(os.open('/dev/tty', os.O_RDWR)); print('has a controlling tty')\n"
         "except OSError:\n"
         "    print('no controlling tty')\n")
for label, pre in (("without shim", None), ("with shim", shim)):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setsid()
        os.dup2(w, 1)
        os.dup2(os.open(os.devnull, os.O_RDWR), 2)  # the shim's complaint
        env = dict(os.environ, TTFT_LOG=name)
        env.pop("LD_PRELOAD", None)
        if pre:
            env["LD_PRELOAD"] = pre
        os.execve(sys.executable, [sys.executable, "-c", check], env)
    os.close(w)
    out = b""
    while True:
        b = os.read(r, 256)
        if not b:
            break
        out += b
    os.close(r)
    os.waitpid(pid, 0)
    print("%s: %s" % (label, out.decode().strip()), flush=True)
