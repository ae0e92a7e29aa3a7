# Rows of int8 values with one float32 scale each (FORMAT.md 2's int8 rule), and the
# replay set built on them: the replay samples, grouped by class in insertion order, and
# one mean per class (the nearest-mean head, FORMAT.md 4), in one pool allocated when the
# learner is made (FORMAT.md 6, 8). The byte budget buys `capacity` rows; a class's mean is
# one of its quota. When a new class needs room, every class keeps the first samples of its
# share (distillation orders them so a prefix is representative). No class is dropped.
from array import array

from .alloc import zeroed

SCALE_BYTES = 4  # float32 scale stored with every sample


def sample_bytes(n_feat):
    return n_feat + SCALE_BYTES


def _floor(x):
    i = int(x)
    return i - 1 if x < i else i


_F32 = array("f", [0.0])


def _put_bytes(dst, o, src, n):
    # n signed bytes from any buffer into the array('b') dst at o
    try:
        dst[o:o + n] = src  # MicroPython takes any buffer
    except TypeError:  # CPython (the host's tests import this module) wants an array
        a = array("b")
        a.frombytes(bytes(src))
        dst[o:o + n] = a


def quantize_into(values, n, q, o):
    """FORMAT.md 2's int8 rule: values[0..n-1] into q[o..o+n-1] (an array('b')); returns the
    float32 scale m / 127 (1.0 when every value is 0). The quotient v / scale is rounded to
    float32 and then to the nearest integer exactly (halves up), so a float32 board and a
    float64 runtime store the same bytes even where the quotient is a half."""
    m = 0.0
    for j in range(n):
        a = values[j]
        if a < 0:
            a = -a
        if a > m:
            m = a
    _F32[0] = m / 127.0 if m > 0.0 else 1.0
    scale = _F32[0]
    f = _F32
    for j in range(n):
        f[0] = values[j] / scale
        t = f[0]
        v = _floor(t)
        if t - v >= 0.5:
            v += 1
        q[o + j] = 127 if v > 127 else -127 if v < -127 else v
    return scale


class Rows:
    """`rows` int8 rows of n_feat values, a float32 scale each; `view` is the backend's int8
    matrix over the same memory (the kernels' operand)."""

    def __init__(self, B, n_feat, rows):
        self.B = B
        self.n_feat = n_feat
        self.rows = rows
        self.q = zeroed("b", n_feat * rows)
        self.scale = zeroed("f", rows)
        self.view = B.pool_view(self.q, rows, n_feat) if rows else None

    def put(self, row, values):
        """Quantize values (n_feat of them) into row `row`."""
        self.scale[row] = quantize_into(values, self.n_feat, self.q, row * self.n_feat)

    def put_row(self, row, M, i):
        """Quantize row i of the backend matrix M (its first n_feat values) into row `row`."""
        nf = self.n_feat
        self.scale[row] = self.B.quantize_row(M, i, nf, self.q, row * nf)

    def copy(self, src, dst, other=None):
        """Row src of `other` (default: these rows) to row dst here."""
        o = other or self
        nf = self.n_feat
        self.q[dst * nf:(dst + 1) * nf] = o.q[src * nf:(src + 1) * nf]
        self.scale[dst] = o.scale[src]

    def values(self, row, out):
        """Dequantize row `row` into out[0..n_feat-1]."""
        nf = self.n_feat
        s = self.scale[row]
        q = self.q
        o = row * nf
        for j in range(nf):
            out[j] = q[o + j] * s


class Replay(Rows):
    """Rows [0, capacity): replay samples; [capacity, capacity + max_classes): class means."""

    def __init__(self, B, n_feat, budget_bytes, max_per_class=10, max_classes=16):
        self.budget = budget_bytes
        self.max_per_class = max_per_class
        self.capacity = budget_bytes // sample_bytes(n_feat)
        Rows.__init__(self, B, n_feat, self.capacity + max_classes)
        self.cls = zeroed("H", self.capacity)   # class of each replay sample
        self.counts = zeroed("I", max_classes)  # real samples behind each mean
        self.n = 0        # replay samples
        self.n_means = 0  # classes (each has a mean)

    def bytes_used(self):
        return (self.n + self.n_means) * sample_bytes(self.n_feat)

    def count(self, c):
        """Rows class c holds: its replay samples and its mean."""
        k = 1 if c < self.n_means else 0
        for i in range(self.n):
            if self.cls[i] == c:
                k += 1
        return k

    def quota(self, n_classes):
        """Rows per class, its mean included, when n_classes share the budget (0: does not fit)."""
        if n_classes <= 0:
            return self.max_per_class
        q = self.capacity // n_classes
        return q if q < self.max_per_class else self.max_per_class

    def shrink_to(self, quota):
        """Keep the first quota - 1 replay samples of every class (its mean is the other one)."""
        seen = {}
        w = 0
        for r in range(self.n):
            c = self.cls[r]
            k = seen.get(c, 0)
            if k >= quota - 1:
                continue
            seen[c] = k + 1
            if w != r:
                self.cls[w] = c
                self.copy(r, w)
            w += 1
        self.n = w

    def add(self, c, src, other):
        """Append row src of `other` (a Rows) as a replay sample of class c."""
        if self.n >= self.capacity:
            raise ValueError("replay budget full: %d samples" % self.capacity)
        self.cls[self.n] = c
        self.copy(src, self.n, other)
        self.n += 1

    def add_row(self, c, M, i):
        """Append row i of the backend matrix M (quantized) as a replay sample of class c."""
        if self.n >= self.capacity:
            raise ValueError("replay budget full: %d samples" % self.capacity)
        self.cls[self.n] = c
        self.put_row(self.n, M, i)
        self.n += 1

    def add_raw(self, c, scale, qbytes):
        """Append one stored sample as read from a file."""
        if self.n >= self.capacity:
            raise ValueError("replay set larger than its budget")
        i = self.n
        nf = self.n_feat
        self.cls[i] = c
        self.scale[i] = scale
        _put_bytes(self.q, i * nf, qbytes, nf)
        self.n = i + 1

    def drop_rows(self, c):
        """Remove class c's replay samples (its mean stays); the others keep their order."""
        w = 0
        for r in range(self.n):
            if self.cls[r] != c:
                if w != r:
                    self.cls[w] = self.cls[r]
                    self.copy(r, w)
                w += 1
        self.n = w

    def remove_class(self, c):
        """Remove class c: its samples and its mean; the classes after it move down one index."""
        self.drop_rows(c)
        for r in range(self.n):
            if self.cls[r] > c:
                self.cls[r] -= 1
        for i in range(c, self.n_means - 1):
            self.copy(self.capacity + i + 1, self.capacity + i)
            self.counts[i] = self.counts[i + 1]
        self.n_means -= 1

    def mean_row(self, c):
        return self.capacity + c

    def set_mean(self, c, values, count):
        """Class c's mean (n_feat values) and the number of real samples behind it."""
        self.put(self.capacity + c, values)
        self.counts[c] = count
        if c >= self.n_means:
            self.n_means = c + 1

    def set_mean_raw(self, c, scale, qbytes, count):
        r = self.capacity + c
        nf = self.n_feat
        self.scale[r] = scale
        _put_bytes(self.q, r * nf, qbytes, nf)
        self.counts[c] = count
        if c >= self.n_means:
            self.n_means = c + 1
