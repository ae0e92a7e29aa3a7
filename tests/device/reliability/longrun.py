# Long run: learn N classes one after another with a fixed replay budget.
#   longrun.py DATA N PER_TRAIN N_TEST FOLDER N_FIRST [key=value ...]
# DATA holds per class PER_TRAIN training rows then N_TEST test rows (64 uint8 each).
# After every class prints:
#   STEP k free bin_bytes bak_bytes tmp_exists replay_used replay_budget hidden acc_first acc_all_seen seconds
import gc
import os
import sys
import time

import relcommon
import tinycil

data, n, per, ntest, folder, nfirst = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                                       sys.argv[5], int(sys.argv[6]))
opts = {}
for kv in sys.argv[7:]:
    k, v = kv.split("=")
    opts[k] = float(v) if "." in v else int(v)
block = per + ntest


def size(p):
    try:
        return os.stat(p)[6]
    except OSError:
        return -1


def accuracy(l, classes):
    hit = tot = 0
    for c in classes:
        for x in relcommon.rows(data, c, ntest, block, offset=per):
            hit += l.predict(x) == "k%d" % c
            tot += 1
    return hit / tot


l = tinycil.new(64, path=folder, overwrite=True, **opts)
for c in range(n):
    t = time.ticks_ms()
    l.learn_class("k%d" % c, relcommon.rows(data, c, per, block), verbose=False)
    dt = time.ticks_diff(time.ticks_ms(), t) / 1000
    gc.collect()
    free = gc.mem_free()
    inf = l.info()
    first = accuracy(l, range(min(nfirst, c + 1)))
    seen = accuracy(l, range(c + 1)) if c % 5 == 4 or c == n - 1 else -1
    gc.collect()
    print("STEP", c + 1, free, size(folder + "/learner.bin"), size(folder + "/learner.bak"),
          int(size(folder + "/learner.tmp") >= 0), inf["memory_bytes_used"], inf["memory_bytes_budget"],
          inf["hidden"][0], "%.3f" % first, "%.3f" % seen, "%.2f" % dt)
print("END")
