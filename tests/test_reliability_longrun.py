"""Long run: 30 classes one after another with a fixed replay budget (memory_bytes=6400).

Classes (real digits, honest construction): the 10 sklearn digits, the same 10 digits
inverted (16 - pixel) and the same 10 transposed (rows and columns of the 8x8 image
swapped); 15 training samples per class from the train split, 8 test samples per class
from the test split. One MicroPython process (unix port, 512 KB heap) learns them in
order (max_classes=32, max_hidden=32, epochs=8, distill_iters=10). After every class:
replay bytes within memory_bytes, learner.bin exactly the size FORMAT.md gives for the
learner's current shape and never above the size at full capacity, no learner.tmp left,
free heap (after gc) stable, and the accuracy on the test samples of the first 5 classes
(the curve, printed with -s) still useful at the end.
"""
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "device" / "reliability"))
import harness  # noqa: E402

N, PER, NTEST, NFIRST = 30, 15, 8, 5
MEMORY = 6400
MAXH, MAXC = 32, 32
MIN_FIRST_ACC = 0.5      # chance is 1/30
MAX_LEAK_PER_STEP = 200  # bytes of heap per class beyond its label (measured ~80)


def file_size(hidden, n_classes, n_replay, names_bytes, n_inputs=64, nf=64):
    """learner.bin size by FORMAT.md section 2 (f32 weights, one hidden layer, no front-end)."""
    size = 8 + 12
    size += 8 + struct.calcsize("<HHHHHHHHIfIHHf") + 8 + struct.calcsize("<ffHHHHffHHHffHH")
    size += 8 + 2 + n_classes + names_bytes
    size += 8 + 8 * n_inputs
    for n_out, n_in in ((hidden, nf), (n_classes, hidden)):
        size += 8 + 6 + 4 * n_out * n_in + 4 * n_out
    size += 8 + 4 + n_classes * (8 + nf)   # MEAN: one mean per class
    size += 8 + 4 + n_replay * (6 + nf)
    return size


@pytest.fixture(scope="module")
def curve(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("long")
    X, y, s = harness.digits()
    blocks = []
    for kind in ("plain", "inverted", "transposed"):
        for c in range(10):
            b = np.concatenate([X[(y == c) & (s == 0)][:PER], X[(y == c) & (s == 1)][:NTEST]]).reshape(-1, 8, 8)
            if kind == "inverted":
                b = 16 - b
            elif kind == "transposed":
                b = b.transpose(0, 2, 1)
            blocks.append(b.reshape(-1, 64))
    data = tmp / "long.bin"
    harness.write_rows(data, blocks)
    r = harness.run("longrun.py", data, N, PER, NTEST, tmp / "L", NFIRST, "max_classes=%d" % MAXC,
                    "max_hidden=%d" % MAXH, "memory_bytes=%d" % MEMORY, "epochs=8", "distill_iters=10",
                    heap="256wK", timeout=600)
    out = harness.check(r)
    steps = [ln.split() for ln in harness.tagged(out, "STEP")]
    assert len(steps) == N
    print("\nlong run: step, free heap, learner.bin bytes, replay bytes, hidden, acc first %d, acc all seen, s"
          % NFIRST)
    for st in steps:
        print("  " + " ".join(st[i] for i in (0, 1, 2, 5, 7, 8, 9, 10)))
    return steps


def test_files_stay_within_budget(curve):
    names = 0
    for st in curve:
        k, free, binb, bakb, tmp, used, budget, hidden = (int(v) for v in st[:8])
        names += len("k%d" % (k - 1))
        assert budget == MEMORY and used <= MEMORY
        assert tmp == 0, "learner.tmp left after step %d" % k
        n_replay = used // (64 + 4) - k   # the budget's rows are the means and the replay samples
        assert binb == file_size(hidden, k, n_replay, names), "step %d: learner.bin is %d bytes" % (k, binb)
        cap = file_size(MAXH, MAXC, MEMORY // 68 - MAXC, 40 * MAXC)
        assert binb <= cap and bakb <= cap


def test_free_heap_is_stable(curve):
    free = [int(st[1]) for st in curve]
    # after the first classes every buffer exists; what remains is the label list
    per_step = (free[4] - free[-1]) / (len(free) - 5)
    assert per_step <= MAX_LEAK_PER_STEP, "free heap falls %.0f bytes per class: %s" % (per_step, free)


def test_first_classes_still_recognised(curve):
    first = [float(st[8]) for st in curve]
    assert first[-1] >= MIN_FIRST_ACC, "accuracy on the first %d classes fell to %.3f: %s" % (NFIRST, first[-1], first)
