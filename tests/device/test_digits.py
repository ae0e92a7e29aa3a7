# Issue #5's acceptance test: the ten digit classes learned one at a time from 50
# real samples each (max_hidden=32, memory_bytes=6400), then every held-out digit.
import gc

import tinycil
from util import Digits, check, rmtree

FINAL_MIN = 0.88
FIRST_TWO_MIN = 0.85


def learn_digits(ctx, seed=None, verbose=True):
    """The scenario: returns (final accuracy, accuracy on the first two classes).
    seed=None keeps the learner's default seed (bench-device --seeds varies it)."""
    d = Digits(ctx["data"] + "/digits.bin")
    path = ctx["tmp"] + "/digits"
    rmtree(path)
    opts = {} if seed is None else {"seed": seed}
    # the rows are pixels / 16 already (input_scale 1): streamed, one row in RAM at a time
    l = tinycil.new(d.n_features, path=path, backend=ctx["backend"], max_hidden=32, memory_bytes=6400,
                    input_scale=1.0, **opts)
    for c in range(d.n_classes):
        rep = l.learn_class(str(c), d.train(c, 50), verbose=False)  # rows read one at a time
        gc.collect()
        if verbose:
            print("  class %d: check %.3f hidden %r replay %d B, %.1f s" % (
                c, rep["accuracy"], rep["hidden"], rep["memory_bytes_used"], rep["seconds"]))
    hit = tot = hit2 = tot2 = 0
    for y, x in d.test_rows():
        ok = l.predict(x) == str(y)
        hit += ok
        tot += 1
        if y < 2:
            hit2 += ok
            tot2 += 1
    rmtree(path)
    return hit / tot, hit2 / tot2


def test_ten_digit_classes_one_at_a_time(ctx):
    acc, acc2 = learn_digits(ctx)
    print("  final accuracy %.3f, first two classes %.3f" % (acc, acc2))
    check(acc >= FINAL_MIN, "final accuracy %.3f < %.2f" % (acc, FINAL_MIN))
    check(acc2 >= FIRST_TWO_MIN, "first two classes %.3f < %.2f" % (acc2, FIRST_TWO_MIN))
