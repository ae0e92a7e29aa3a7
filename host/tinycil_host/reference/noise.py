"""Twin of device/tinycil/noise.py: replay noise (FORMAT.md 7.4), the table, its amplitude and
how many times the replay rows pass per epoch."""
from math import sqrt

import numpy as np

from ..limits import MAX_REPEATS, NOISE_WINDOWS

F32 = np.float32


def add_noise(Xb, idx, noise, rng):
    n_noisy, table, a = noise
    nf = Xb.shape[1]
    for r, k in enumerate(idx):
        if k < n_noisy:
            o = rng.below(NOISE_WINDOWS)
            Xb[r] = (Xb[r].astype(np.float64) + a * table[o:o + nf]).astype(F32)


def noise_amplitude(var, factor):
    """FORMAT.md 7.4: factor * sqrt(var) * sqrt(3), var the new class's mean per-feature variance,
    so that uniform table values in [-1, 1) give noise of deviation factor * sqrt(var)."""
    return factor * sqrt(max(var, 0.0)) * sqrt(3.0)


def noise_table(nf, rng):
    """NOISE_WINDOWS + nf - 1 draws of uniform(): every offset o < NOISE_WINDOWS starts a window of nf."""
    return np.array([rng.uniform() for _ in range(NOISE_WINDOWS + nf - 1)], dtype=np.float64)


def replay_repeats(counts, n_real, replay_noise):
    """FORMAT.md 7.4: how many times the replay rows pass per epoch: with noise, enough that
    the classes' rows come near the new class's real ones, at most MAX_REPEATS."""
    if replay_noise <= 0 or n_real == 0 or not len(counts) or max(counts) == 0:
        return 1
    return max(1, min(n_real // max(counts), MAX_REPEATS))
