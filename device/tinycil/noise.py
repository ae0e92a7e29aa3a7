# Replay noise (FORMAT.md 7.4): the replay rows pass up to MAX_REPEATS times per epoch, each
# time with a fresh window of a noise table added. Imported only by learners with
# replay_noise > 0, so the others do not carry this code in RAM.
import math
from array import array

NOISE_WINDOWS = 64   # offsets into the noise table
MAX_REPEATS = 4      # most passes of the replay rows per epoch


def repeats(counts, n_real):
    # enough passes that the classes' rows come near the new class's real ones
    most = max(counts) if counts else 0
    if n_real == 0 or most == 0:
        return 1
    return max(1, min(n_real // most, MAX_REPEATS))


def order_rows(cap, max_samples, max_classes):
    # the training order's length: m n <= 4 cap, and m n <= n_real C when m > 1 (FORMAT.md 8)
    return max(cap, min(MAX_REPEATS * cap, max_samples * max_classes)) + max_samples


def table(nf):
    return array("f", bytearray(4 * (NOISE_WINDOWS + nf - 1)))


def refill(t, rng):
    for i in range(len(t)):
        t[i] = rng.uniform()


def amplitude(B, X, n_train, nf, row, buf, factor):
    """factor * r * sqrt(3), r the root of the mean per-feature variance of the first n_train
    rows of X: uniform table values then give noise of deviation factor * r. `row` (a 1-row
    matrix) and `buf` are scratch of at least nf."""
    B.col_mean(X, n_train, nf, row)
    B.get_row(row, 0, buf, nf)
    msq = 0.0
    for j in range(nf):
        msq += buf[j] * buf[j]
    r2 = B.sumsq(X, n_train, nf) / (n_train * nf) - msq / nf
    return factor * math.sqrt(max(r2, 0.0)) * math.sqrt(3.0)


def fetch(B, rp, X, nf, buf, t, rng, n_noisy, a):
    """fetch(k, M, r) for fit: training row k < n_noisy is replay sample k % n plus a * a
    window of t at o = rng.below(NOISE_WINDOWS); row k >= n_noisy is new row k - n_noisy of X."""
    n_rep = rp.n

    def f(k, dst, r):
        if k < n_noisy:
            rp.row_values(k % n_rep, buf)
            o = rng.below(NOISE_WINDOWS)
            for j in range(nf):
                buf[j] += a * t[o + j]
            B.set_row(dst, r, buf, nf)
        else:
            B.copy_row(X, k - n_noisy, dst, r, nf)
    return f
