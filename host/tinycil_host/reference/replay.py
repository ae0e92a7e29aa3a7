"""Twin of device/tinycil/replay.py: the replay set of int8 samples (FORMAT.md section 6)."""
import numpy as np

from ..store import Samples, quantize_rows


def sample_bytes(n_features):
    return n_features + 4


class Replay:
    """int8 samples with a float32 scale each, grouped by class in insertion order."""

    def __init__(self, n_features, budget_bytes, max_per_class=10):
        self.n_features = n_features
        self.budget = budget_bytes
        self.max_per_class = max_per_class
        self.capacity = budget_bytes // sample_bytes(n_features)
        self.samples = Samples(np.zeros(0), np.zeros(0), np.zeros((0, n_features)))

    @property
    def n(self):
        return len(self.samples.cls)

    @property
    def cls(self):
        return self.samples.cls

    def bytes_used(self):
        return self.n * sample_bytes(self.n_features)

    def count(self, c):
        return int((self.samples.cls == c).sum())

    def quota(self, n_classes):
        if n_classes <= 0:
            return self.max_per_class
        return min(self.max_per_class, self.capacity // n_classes)

    def shrink_to(self, quota):
        """Keep the first `quota` samples of every class (a prefix, in herding order)."""
        keep = []
        seen = {}
        for i, c in enumerate(self.samples.cls.tolist()):
            if seen.get(c, 0) < quota:
                seen[c] = seen.get(c, 0) + 1
                keep.append(i)
        s = self.samples
        self.samples = Samples(s.cls[keep], s.scale[keep], s.q[keep])

    def add(self, c, S):
        """Quantize the rows of S and append them as samples of class c."""
        if self.n + len(S) > self.capacity:
            raise ValueError("replay budget full: %d + %d samples > %d" % (self.n, len(S), self.capacity))
        scale, q = quantize_rows(S)
        s = self.samples
        self.samples = Samples(np.concatenate([s.cls, np.full(len(S), c)]),
                               np.concatenate([s.scale, scale]), np.concatenate([s.q, q]))

    def values(self):
        return self.samples.values()

