# Replay noise (FORMAT.md 7.4): the stored rows (means and replay samples) pass up to
# MAX_REPEATS times per epoch, each time with a fresh window of a noise table added.
# Imported only by learners with replay_noise > 0, so the others do not carry this code.
import math

from .alloc import zeroed
from .limits import MAX_REPEATS, NOISE_WINDOWS


def repeats(counts, n_real):
    # enough passes that the classes' replay rows come near the new class's real ones
    most = max(counts) if counts else 0
    if n_real == 0 or most == 0:
        return 1
    return max(1, min(n_real // most, MAX_REPEATS))


def order_rows(cap, max_samples, max_classes):
    # the training order's length: C means, m n <= 4 cap replay rows (and m n <= n_real C when
    # m > 1), the real rows (FORMAT.md 8)
    return max_classes + max(cap, min(MAX_REPEATS * cap, max_samples * max_classes)) + max_samples


def table(nf):
    return zeroed("f", NOISE_WINDOWS + nf - 1)


def refill(t, rng):
    for i in range(len(t)):
        t[i] = rng.uniform()


def amplitude(var, factor):
    """factor * sqrt(var) * sqrt(3), var the new class's mean per-feature variance: uniform table
    values then give noise of deviation factor * sqrt(var)."""
    return factor * math.sqrt(max(var, 0.0)) * math.sqrt(3.0)
