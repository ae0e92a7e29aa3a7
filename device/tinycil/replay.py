# The distilled replay set: int8 samples with one float32 scale each, in one
# fixed pool sized by the byte budget. Samples are kept grouped by class in
# insertion order; when a new class needs room, every class keeps the first
# `quota` of its samples (distillation orders them so a prefix is representative).
# No class is ever dropped: a class that cannot keep one sample is refused.
from array import array

SCALE_BYTES = 4  # float32 scale stored with every sample


def sample_bytes(n_feat):
    return n_feat + SCALE_BYTES


def quantize_row(values, n):
    """(scale, int8 bytes) for one sample: symmetric, scale = max|x| / 127, q = floor(x/scale + 0.5)."""
    m = 0.0
    for j in range(n):
        a = values[j]
        if a < 0:
            a = -a
        if a > m:
            m = a
    scale = array("f", [m / 127.0 if m > 0.0 else 1.0])[0]  # rounded to float32 first
    q = bytearray(n)
    for j in range(n):
        v = int(_floor(values[j] / scale + 0.5))
        if v > 127:
            v = 127
        elif v < -127:
            v = -127
        q[j] = v & 0xFF
    return scale, q


def _floor(x):
    i = int(x)
    return i - 1 if x < i else i


class Replay:
    def __init__(self, n_feat, budget_bytes, max_per_class=10):
        self.n_feat = n_feat
        self.budget = budget_bytes
        self.max_per_class = max_per_class
        self.capacity = budget_bytes // sample_bytes(n_feat)
        cap = self.capacity
        self.cls = array("H", bytearray(2 * cap))   # class index of each slot
        self.scale = array("f", bytearray(4 * cap))
        self.q = bytearray(n_feat * cap)            # int8 samples, row-major
        self.n = 0

    def bytes_used(self):
        return self.n * sample_bytes(self.n_feat)

    def count(self, c):
        k = 0
        for i in range(self.n):
            if self.cls[i] == c:
                k += 1
        return k

    def quota(self, n_classes):
        """Samples per class when n_classes share the budget (0: does not fit)."""
        if n_classes <= 0:
            return self.max_per_class
        q = self.capacity // n_classes
        return q if q < self.max_per_class else self.max_per_class

    def shrink_to(self, quota):
        """Keep the first `quota` samples of every class; compact the pool in place."""
        seen = {}
        w = 0
        nf = self.n_feat
        for r in range(self.n):
            c = self.cls[r]
            k = seen.get(c, 0)
            if k >= quota:
                continue
            seen[c] = k + 1
            if w != r:
                self.cls[w] = c
                self.scale[w] = self.scale[r]
                self.q[w * nf:(w + 1) * nf] = self.q[r * nf:(r + 1) * nf]
            w += 1
        self.n = w

    def add(self, c, B, M, k, first=0):
        """Append rows first..first+k-1 of matrix M as samples of class c."""
        if self.n + k > self.capacity:
            raise ValueError("replay budget full: %d + %d samples > %d" % (self.n, k, self.capacity))
        nf = self.n_feat
        for r in range(first, first + k):
            scale, q = quantize_row(B.row(M, r, nf), nf)
            i = self.n
            self.cls[i] = c
            self.scale[i] = scale
            self.q[i * nf:(i + 1) * nf] = q
            self.n = i + 1

    def add_raw(self, c, scale, qbytes):
        """Append one stored sample as read from a file."""
        if self.n >= self.capacity:
            raise ValueError("replay set larger than its budget")
        i = self.n
        nf = self.n_feat
        self.cls[i] = c
        self.scale[i] = scale
        self.q[i * nf:(i + 1) * nf] = qbytes
        self.n = i + 1

    def row_values(self, i, out):
        """Dequantize sample i into the list/array `out` (length n_feat)."""
        nf = self.n_feat
        s = self.scale[i]
        q = self.q
        o = i * nf
        for j in range(nf):
            v = q[o + j]
            out[j] = (v - 256 if v > 127 else v) * s
