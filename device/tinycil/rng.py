# A tiny PRNG shared by the board and the host reference (xorshift32, shifts 13/17/5).
# Specified in FORMAT.md so both sides draw the same numbers from the same seed;
# ulab's own generator differs from NumPy's, so neither is used for anything that
# must agree across runtimes.
from array import array
from math import sqrt
from struct import pack_into

from .alloc import zeroed

_MASK = 0xFFFFFFFF
_TO_UNIT = 1.0 / 8388608.0  # 2**-23: 24-bit draws are exact in float32


class Rng:
    def __init__(self, seed=1):
        seed = int(seed) & _MASK
        self.state = seed if seed else 0x9E3779B9

    def next_u32(self):
        x = self.state
        x ^= (x << 13) & _MASK
        x ^= x >> 17
        x ^= (x << 5) & _MASK
        self.state = x
        return x

    def uniform(self):
        # in [-1, 1): the top 24 bits, scaled; exactly representable in float32
        return (self.next_u32() >> 8) * _TO_UNIT - 1.0

    def below(self, n):
        # integer in [0, n); the tiny modulo bias is irrelevant here and keeps it exact
        return self.next_u32() % n

    def shuffle(self, items, n=None):
        # Fisher-Yates from the end over the first n items, as in FORMAT.md
        i = (len(items) if n is None else n) - 1
        while i > 0:
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]
            i -= 1

    def fill_bytes(self, buf, n):
        # FORMAT.md 3: n random bytes into buf (an array('b')), four per draw, little-endian;
        # the unused bytes of the last draw are dropped. One draw gives four values: a random
        # matrix costs a quarter of the draws uniform() would. Machine code where the port has
        # viper (a 32-bit state is a big integer to a 32-bit board's bytecode).
        if _xorshift_bytes is not None:
            _state[0] = self.state
            _xorshift_bytes(buf, n, _state)  # pyright: ignore[reportArgumentType] (an array is a ptr32)
            self.state = _state[0]
            return
        i = 0
        while i + 4 <= n:
            pack_into("<I", buf, i, self.next_u32())
            i += 4
        if i < n:
            pack_into("<I", _tail, 0, self.next_u32())
            for j in range(n - i):
                buf[i + j] = _tail[j]


_tail = zeroed("b", 4)
_state = array("I", [0])
try:
    from ._viper import xorshift_bytes as _xorshift_bytes
except (ImportError, SyntaxError, ValueError):
    _xorshift_bytes = None


def f32(v):
    """v rounded to float32: a no-op where MicroPython's float is float32, a rounding where it is
    float64, so both compute the same values where FORMAT.md asks for exact ones."""
    return array("f", (v,))[0]


def init_scale(fan_in):
    """FORMAT.md 3: the scale of new weights, f32(sqrt(f32(6 / fan_in))), equal on every runtime;
    0 for a fan-in of 0 (a layer above a width of 0 has no weights to draw)."""
    return f32(sqrt(f32(6.0 / fan_in))) if fan_in > 0 else 0.0
