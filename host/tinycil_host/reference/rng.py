"""Twin of device/tinycil/rng.py: xorshift32 (FORMAT.md section 3), the board's draws in the board's order."""
from math import sqrt

import numpy as np

F32 = np.float32


class Rng:
    """xorshift32 with shifts 13/17/5; draws the board's numbers in the board's order."""

    def __init__(self, seed=1):
        seed = int(seed) & 0xFFFFFFFF
        self.state = seed if seed else 0x9E3779B9

    def next_u32(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def uniform(self):
        return (self.next_u32() >> 8) * (1.0 / 8388608.0) - 1.0

    def below(self, n):
        return self.next_u32() % n

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def bytes(self, n):
        """FORMAT.md 3: n random int8 values, four per draw (little-endian bytes of next_u32);
        the unused bytes of the last draw are dropped."""
        draws = np.array([self.next_u32() for _ in range((n + 3) // 4)], dtype="<u4")
        return draws.view(np.int8)[:n].copy()

    def matrix(self, rows, cols, scale):
        """rows x cols of uniform()*scale, row by row; product rounded once to float32."""
        u = np.array([self.uniform() for _ in range(rows * cols)], dtype=np.float64)
        return (u * scale).astype(F32).reshape(rows, cols)


def init_scale(fan_in):
    """FORMAT.md 3: the scale of new weights, f32(sqrt(f32(6 / fan_in))), as every board computes it;
    0 for a fan-in of 0 (a layer above a width of 0 has no weights to draw)."""
    return float(F32(sqrt(float(F32(6.0 / fan_in))))) if fan_in > 0 else 0.0


def f32(v):
    """v rounded to float32, as a Python float."""
    return float(F32(v))
