"""Twin of device/tinycil/replay.py: the replay set (FORMAT.md section 6): int8 replay samples
grouped by class in insertion order, and one int8 mean per class with the count of real samples
behind it (the nearest-mean head, FORMAT.md 4). A class's quota counts its mean."""
import numpy as np

from ..store import Samples, quantize_rows


def sample_bytes(n_features):
    return n_features + 4


class Replay:
    def __init__(self, n_features, budget_bytes, max_per_class=10):
        self.n_features = n_features
        self.budget = budget_bytes
        self.max_per_class = max_per_class
        self.capacity = budget_bytes // sample_bytes(n_features)
        self.samples = Samples(np.zeros(0), np.zeros(0), np.zeros((0, n_features)))
        self.means = Samples(np.zeros(0), np.zeros(0), np.zeros((0, n_features)))  # row c: class c
        self.counts = np.zeros(0, np.uint32)  # real samples behind each mean

    @property
    def n(self):
        return len(self.samples.cls)

    @property
    def cls(self):
        return self.samples.cls

    def bytes_used(self):
        return (self.n + len(self.means.cls)) * sample_bytes(self.n_features)

    def count(self, c):
        """Rows class c holds: its replay samples and its mean."""
        return int((self.samples.cls == c).sum()) + (1 if c < len(self.means.cls) else 0)

    def quota(self, n_classes):
        """Rows per class, its mean included, when n_classes share the budget (0: does not fit)."""
        if n_classes <= 0:
            return self.max_per_class
        return min(self.max_per_class, self.capacity // n_classes)

    def shrink_to(self, quota):
        """Keep the first quota - 1 replay samples of every class (a prefix, in herding order)."""
        keep = []
        seen = {}
        for i, c in enumerate(self.samples.cls.tolist()):
            if seen.get(c, 0) < quota - 1:
                seen[c] = seen.get(c, 0) + 1
                keep.append(i)
        s = self.samples
        self.samples = Samples(s.cls[keep], s.scale[keep], s.q[keep])

    def add(self, c, S):
        """Quantize the rows of S and append them as samples of class c."""
        self.add_rows(c, *quantize_rows(S))

    def add_rows(self, c, scale, q):
        """Append int8 rows (with their scales) as samples of class c, unchanged."""
        if self.n + len(q) > self.capacity:
            raise ValueError("replay budget full: %d + %d samples > %d" % (self.n, len(q), self.capacity))
        s = self.samples
        self.samples = Samples(np.concatenate([s.cls, np.full(len(q), c)]),
                               np.concatenate([s.scale, scale]), np.concatenate([s.q, q]))

    def set_mean(self, c, mean, count):
        """Class c's mean (float32 values, quantized here) and the real samples behind it."""
        scale, q = quantize_rows(np.asarray(mean, dtype=np.float32)[None, :])
        self.set_mean_rows(c, scale, q, count)

    def set_mean_rows(self, c, scale, q, count):
        m = self.means
        if c == len(m.cls):
            self.means = Samples(np.arange(c + 1), np.concatenate([m.scale, scale]), np.concatenate([m.q, q]))
            self.counts = np.concatenate([self.counts, np.array([count], np.uint32)])
        else:
            m.scale[c] = scale[0]
            m.q[c] = q[0]
            self.counts[c] = count

    def drop_rows(self, c):
        """Remove class c's replay samples (its mean stays)."""
        s = self.samples
        keep = s.cls != c
        self.samples = Samples(s.cls[keep], s.scale[keep], s.q[keep])

    def remove_class(self, c):
        """Remove class c: its samples and mean; the classes after it move down one index."""
        self.drop_rows(c)
        s = self.samples
        cls = s.cls.astype(np.int64)
        self.samples = Samples(np.where(cls > c, cls - 1, cls), s.scale, s.q)
        m = self.means
        keep = np.arange(len(m.cls)) != c
        self.means = Samples(np.arange(keep.sum()), m.scale[keep], m.q[keep])
        self.counts = self.counts[keep]

    def values(self):
        return self.samples.values()

    def mean_values(self):
        return self.means.values()
