# The digits scenario (tests/device/test_digits.py: ten classes one at a time, 50 samples
# each, max_hidden 32, memory_bytes 6400) with each learn_class timed, for bench-device.
# On the unix port:  micropython board_timing.py DATA_FILE BACKEND
# On a board (mpremote connect PORT mount FOLDER run board_timing.py): the arguments come
# from FOLDER/_argv.txt, one per line, the package from FOLDER/tinycil.
# The learner has no folder and the rows are read before each learn_class: no file I/O is timed,
# which over mpremote's mount would be the host's time, not the board's.
# Prints: CLASS <c> <microseconds> per class, then RESULT <final accuracy> <first two classes>
# <heap bytes>. Under qemu with -icount shift=0, one microsecond is 1000 instructions.
import gc
import sys
import time
from array import array

args = [a for a in sys.argv[1:] if a]
if not args:
    with open("_argv.txt") as f:
        args = f.read().split("\n")
    sys.path.insert(0, "")
data, backend = args[0], args[1]
from util import Digits  # noqa: E402  (tests/device/util.py, beside this script or on the path)
import tinycil  # noqa: E402

gc.collect()
heap = gc.mem_free() + gc.mem_alloc()
d = Digits(data)
l = tinycil.new(d.n_features, path=None, backend=backend, max_hidden=32, memory_bytes=6400, input_scale=1.0)
for c in range(d.n_classes):
    # the rows are read before the clock starts: over mpremote's mount a file read waits for
    # the host, and the board counts that wait as instructions
    rows = [array("f", r) for r in d.train(c, 50)]
    gc.collect()
    t = time.ticks_us()
    l.learn_class(str(c), rows, verbose=False)
    print("CLASS %d %d" % (c, time.ticks_diff(time.ticks_us(), t)))
    rows = None
hit = tot = hit2 = tot2 = 0
for y, x in d.test_rows():
    ok = l.predict(x) == str(y)
    hit += ok
    tot += 1
    if y < 2:
        hit2 += ok
        tot2 += 1
print("RESULT %.4f %.4f %d" % (hit / tot, hit2 / tot2, heap))
