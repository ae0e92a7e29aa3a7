"""Sample files for `tinycil learn` / `predict`: rows of features, labels when the file has them.

- `.npy`: one array, samples first (flattened); no labels.
- `.npz`: `X` (samples first), optional `y` (class indices, or names) and `classes`.
- `.csv`: one sample per row; when a row has one value more than the learner's
  inputs, the last column is the label (a number or a name). A header row is skipped.
"""
from pathlib import Path

import numpy as np


class SampleFileError(ValueError):
    pass


def read(path, n_inputs=None):
    """(X float32 (n, d), labels list of str or None)."""
    p = Path(path)
    if not p.exists():
        raise SampleFileError("%s: no such file" % p)
    if p.suffix == ".npy":
        X, labels = _npy(p), None
    elif p.suffix == ".npz":
        X, labels = _npz(p)
    elif p.suffix == ".csv":
        X, labels = _csv(p, n_inputs)
    else:
        raise SampleFileError("%s: use a .npz, .csv or .npy file" % p)
    if len(X) == 0:
        raise SampleFileError("%s: no samples" % p)
    if not np.all(np.isfinite(X)):
        raise SampleFileError("%s: samples contain NaN or infinite values" % p)
    if n_inputs is not None and X.shape[1] != n_inputs:
        raise SampleFileError("%s: samples have %d values, the board's learner takes %d" % (p, X.shape[1], n_inputs))
    return X, labels


def select(X, labels, label, path):
    """Only the rows whose label is `label` (for learning one class from a labelled file)."""
    if labels is None:
        raise SampleFileError("%s has no labels to select %r from" % (path, label))
    keep = np.array([lb == label for lb in labels])
    if not keep.any():
        raise SampleFileError("%s: no sample is labelled %r (labels: %s)" % (path, label, ", ".join(sorted(set(labels)))))
    return X[keep]


def _npy(p):
    try:
        a = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise SampleFileError("%s: not a readable .npy (%s)" % (p, e))
    return _rows(a, p)


def _npz(p):
    try:
        with np.load(p, allow_pickle=False) as z:
            if "X" not in z:
                raise SampleFileError("%s: needs an array X (samples first)" % p)
            X = _rows(z["X"], p)
            y = np.asarray(z["y"]) if "y" in z else None
            classes = [str(c) for c in z["classes"]] if "classes" in z else None
    except (OSError, ValueError) as e:
        if isinstance(e, SampleFileError):
            raise
        raise SampleFileError("%s: not a readable .npz (%s)" % (p, e))
    if y is None:
        return X, None
    if len(y) != len(X):
        raise SampleFileError("%s: %d labels for %d samples" % (p, len(y), len(X)))
    if y.dtype.kind in "iu" and classes:
        if y.min() < 0 or y.max() >= len(classes):
            raise SampleFileError("%s: a label is outside classes (0..%d)" % (p, len(classes) - 1))
        return X, [classes[int(v)] for v in y]
    return X, [_label_text(v) for v in y]


def _csv(p, n_inputs):
    lines = [ln.strip() for ln in p.read_text().splitlines() if ln.strip()]
    if lines and not _is_number(lines[0].split(",")[0]):
        lines = lines[1:]  # header
    rows = [ln.split(",") for ln in lines]
    if not rows:
        raise SampleFileError("%s: no samples" % p)
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise SampleFileError("%s: rows have different numbers of values" % p)
    labelled = n_inputs is not None and width == n_inputs + 1
    try:
        X = np.array([[float(v) for v in (r[:-1] if labelled else r)] for r in rows], dtype=np.float32)
    except ValueError as e:
        raise SampleFileError("%s: every feature must be a number (%s)" % (p, e))
    return X, ([_label_text(r[-1].strip()) for r in rows] if labelled else None)


def _rows(a, p):
    a = np.asarray(a)
    if a.ndim < 2 or a.dtype.kind not in "iuf":
        raise SampleFileError("%s: samples must be a numeric array with samples first, got %s %s" % (p, a.dtype, a.shape))
    return a.reshape(len(a), -1).astype(np.float32)


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _label_text(v):
    """3, 3.0 and '3' are the same label: the board's class names are text."""
    try:
        f = float(v)
        if f == int(f):
            return str(int(f))
    except (TypeError, ValueError):
        pass
    return str(v)
