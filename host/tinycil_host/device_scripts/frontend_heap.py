# The benchmark's MNIST learner on a board: load it (its PCA front-end read from the file, or
# held in RAM; the workspace sized for the samples per call), learn two classes from a few
# samples each, predict the held-out rows.
#   micropython frontend_heap.py REPO DATA_FILE LEARNER_DIR file|ram SAMPLES_PER_CALL
# Prints: RESULT <mode> <accuracy on the test rows> <seconds per learn_class ...>
import gc
import sys
import time

repo, data, work, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
sys.path.insert(0, repo + "/tests/device")
from util import Digits  # noqa: E402
import tinycil  # noqa: E402

d = Digits(data)
l = tinycil.load(work, verbose=False, frontend_in_ram=(mode == "ram"), max_samples=n)
secs = []
for c in range(len(l.classes), d.n_classes):
    rows = d.train(c, n)
    t = time.ticks_ms()
    l.learn_class(str(c), rows, verbose=False)
    secs.append(time.ticks_diff(time.ticks_ms(), t) / 1000)
    rows = None
    gc.collect()
hit = tot = 0
for y, x in d.test_rows():
    hit += l.predict(x) == str(y)
    tot += 1
print("RESULT %s %.3f %s" % (mode, hit / tot, " ".join("%.1f" % s for s in secs)))
