"""Twin of device/tinycil/noise.py: replay noise (FORMAT.md 7.4), the table, its amplitude and
how many times the replay rows pass per epoch."""
from math import sqrt

import numpy as np

F32 = np.float32
NOISE_WINDOWS = 64   # offsets into the replay-noise table (FORMAT.md 7.4)
MAX_REPEATS = 4      # most passes of the replay rows per epoch (FORMAT.md 7.4)


def add_noise(Xb, idx, noise, rng):
    n_noisy, table, a = noise
    nf = Xb.shape[1]
    for r, k in enumerate(idx):
        if k < n_noisy:
            o = rng.below(NOISE_WINDOWS)
            Xb[r] = (Xb[r].astype(np.float64) + a * table[o:o + nf]).astype(F32)


def noise_amplitude(T, factor):
    """FORMAT.md 7.4: factor * r * sqrt(3), r = sqrt(mean over features of the variance of the
    training rows T), so that uniform table values in [-1, 1) give noise of deviation factor * r."""
    T = np.asarray(T, dtype=F32)
    n, nf = T.shape
    mean = T.mean(axis=0, dtype=np.float64).astype(F32).astype(np.float64)
    r2 = float((T.astype(np.float64) ** 2).sum()) / (n * nf) - float((mean ** 2).sum()) / nf
    return factor * sqrt(max(r2, 0.0)) * sqrt(3.0)


def noise_table(nf, rng):
    """NOISE_WINDOWS + nf - 1 draws of uniform(): every offset o < NOISE_WINDOWS starts a window of nf."""
    return np.array([rng.uniform() for _ in range(NOISE_WINDOWS + nf - 1)], dtype=np.float64)


def replay_repeats(counts, n_real, replay_noise):
    """FORMAT.md 7.4: how many times the replay rows pass per epoch: with noise, enough that
    the classes' rows come near the new class's real ones, at most MAX_REPEATS."""
    if replay_noise <= 0 or n_real == 0 or not len(counts) or max(counts) == 0:
        return 1
    return max(1, min(n_real // max(counts), MAX_REPEATS))
