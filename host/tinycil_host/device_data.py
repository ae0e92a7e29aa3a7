"""Writes the data files the device tests read (tests/device/util.py: Digits).

Digits are scaled to 0..1 (pixel / 16) as issue #5's acceptance test specifies;
per class the training rows in data-set order, then the whole test split.
"""
import struct
import sys
from pathlib import Path

import numpy as np

from . import datasets


def write_digits(path, per_class=None):
    d = datasets.load("digits")
    classes = sorted(set(int(c) for c in d.y_train))
    return write_rows(path, {c: d.X_train[d.y_train == c][:per_class] / np.float32(16.0) for c in classes},
                      d.y_test, d.X_test / np.float32(16.0))


def write_rows(path, train, y_test, X_test):
    """The file tests/device/util.py's Digits reads: train maps class index 0..C-1 to its rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<III", len(train), X_test.shape[1], len(y_test)))
        for c in range(len(train)):
            f.write(struct.pack("<I", len(train[c])))
            f.write(np.asarray(train[c]).astype("<f4").tobytes())
        f.write(np.asarray(y_test).astype(np.uint8).tobytes())
        f.write(np.asarray(X_test).astype("<f4").tobytes())
    return path


def main(argv=None):
    out = Path((argv or sys.argv[1:] or ["build/device-test-data"])[0])
    print(write_digits(out / "digits.bin"))


if __name__ == "__main__":
    main()
