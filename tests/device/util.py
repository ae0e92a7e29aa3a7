# Helpers shared by the device tests (MicroPython and CPython).
import os
import struct
from array import array


def approx(a, b, tol, what=""):
    if abs(a - b) > tol * (1.0 + abs(b)):
        raise AssertionError("%s: %r != %r (tol %g)" % (what, a, b, tol))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def raises(exc, fn, *args, **kw):
    """Call fn and return the exception of type `exc` it raised (fail otherwise)."""
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s did not raise %s" % (getattr(fn, "__name__", fn), exc.__name__))


def rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        try:
            os.remove(p)
        except OSError:
            rmtree(p)
    os.rmdir(path)


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class Digits:
    """Reads the test data file written by the host (tinycil_host.device_data):
    header <III n_classes, n_features, n_test; per class: <I count then count float32 rows;
    then n_test labels (u8) and n_test float32 rows. Rows are read on demand to save RAM."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.n_classes, self.n_features, self.n_test = struct.unpack("<III", f.read(12))
            self.offsets = []
            pos = 12
            for _ in range(self.n_classes):
                f.seek(pos)
                (n,) = struct.unpack("<I", f.read(4))
                self.offsets.append((pos + 4, n))
                pos += 4 + 4 * n * self.n_features
            f.seek(pos)
            self.test_labels = f.read(self.n_test)
            self.test_pos = pos + self.n_test
        # the one row every read fills, made before the learner (as a board would its sensor
        # buffer): one per call would need a free block of its size each time, late in a session
        self.row = array("f", bytes(4 * self.n_features))

    def train(self, c, limit=None):
        """Yield class c's training rows one at a time (self.row, reused: learn_class reads
        each row before the next is read; one reader at a time)."""
        pos, n = self.offsets[c]
        if limit is not None and limit < n:
            n = limit
        with open(self.path, "rb") as f:
            f.seek(pos)
            row = self.row
            for _ in range(n):
                f.readinto(row)
                yield row

    def test_rows(self):
        """Yield (label, row) for the test set, one row in RAM at a time."""
        with open(self.path, "rb") as f:
            f.seek(self.test_pos)
            buf = self.row
            for i in range(self.n_test):
                f.readinto(buf)
                yield self.test_labels[i], buf
