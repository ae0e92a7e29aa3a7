# One power-loss trial (MicroPython unix port). Loads the learner in FOLDER, learns one
# new class (learn_class saves it), then saves it again with save(). Every file operation
# of tinycil.store goes through a counter; the process is SIGKILLed (no cleanup, no
# flush, like a reset) at a chosen operation, optionally after writing only a prefix of
# that write (a torn write).
#   power_trial.py DATA PER FOLDER ref            -> no kill; prints OPS and the op list
#   power_trial.py DATA PER FOLDER op K FRAC      -> kill at operation K (0-based)
#   power_trial.py DATA PER FOLDER slow MS        -> sleep MS per write; host kills at random
import os
import sys
import time

import relcommon
import tinycil
import tinycil.store as store

data, per, folder, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
kill_at = int(sys.argv[5]) if mode == "op" else -1
frac = float(sys.argv[6]) if mode == "op" else 0.0
slow = int(sys.argv[5]) if mode == "slow" else 0
ops = []
armed = [False]
_real_os = os
_real_open = open


def boom():
    # SIGKILL ourselves: no finally blocks, no file close, nothing after this point runs
    _real_os.system("kill -9 $PPID")
    while True:
        pass


def op(kind):
    if not armed[0]:
        return False
    ops.append(kind)
    return len(ops) - 1 == kill_at


class File:
    def __init__(self, f):
        self.f = f

    def write(self, b):
        if slow:
            time.sleep_ms(slow)
        if op("write%d" % len(b)):
            n = int(len(b) * frac)
            if n:
                self.f.write(bytes(b[:n]))
            boom()
        return self.f.write(b)

    def tell(self):
        return self.f.tell()

    def read(self, *a):
        return self.f.read(*a)

    def close(self):
        if op("close"):
            boom()
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def fopen(p, mode="r"):
    f = _real_open(p, mode)
    return File(f) if "w" in mode else f


class Os:
    def __getattr__(self, name):
        return getattr(_real_os, name)

    def remove(self, p):
        if op("remove " + p.split("/")[-1]):
            boom()
        _real_os.remove(p)

    def rename(self, a, b):
        if op("rename %s %s" % (a.split("/")[-1], b.split("/")[-1])):
            boom()
        _real_os.rename(a, b)


store.open = fopen
store.os = Os()

samples = relcommon.rows(data, 0, per, per)
l = tinycil.load(folder, verbose=False)
print("GO", len(l.classes))
armed[0] = True
l.learn_class("new", samples, verbose=False)
l.save()
armed[0] = False
print("DONE")
print("OPS", len(ops))
print("LIST", ";".join(ops))
