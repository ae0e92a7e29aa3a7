# The shared generator must match FORMAT.md section 3 exactly (the host's NumPy
# reference draws the same stream); these are hand-computed test vectors.
from tinycil.rng import Rng
from util import check


def test_xorshift32_vectors(ctx):
    r = Rng(1)
    got = [r.next_u32() for _ in range(5)]
    check(got == [270369, 67634689, 2647435461, 307599695, 2398689233], "stream %r" % got)


def test_seed_zero_is_replaced(ctx):
    check(Rng(0).next_u32() == 1359758873, "seed 0 must become 0x9E3779B9")


def test_uniform_range_and_shuffle(ctx):
    r = Rng(42)
    lo, hi, total = 1.0, -1.0, 0.0
    for _ in range(2000):  # no list: 2000 boxed floats would crowd a small heap
        v = r.uniform()
        lo, hi, total = min(lo, v), max(hi, v), total + v
    check(lo >= -1.0 and hi < 1.0, "uniform out of [-1, 1)")
    check(abs(total / 2000) < 0.05, "uniform mean far from 0")
    items = list(range(20))
    r.shuffle(items)
    check(sorted(items) == list(range(20)) and items != list(range(20)), "shuffle is not a permutation")
