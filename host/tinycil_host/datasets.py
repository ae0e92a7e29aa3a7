"""Data sets in one shape: float32 feature rows, int labels, a train/test split.

Sources:
- `digits`: scikit-learn's bundled load_digits (offline), 8x8 pixels 0..16 flattened to 64;
  split index % 5 == 4 -> test (the same split as ../shared/data/sklearn_digits.npz).
- a name from the shared data folder (`mnist`, `har_raw`, `fsdd_logmel`,
  `speech_commands_v2_12cls`, `cifar10_jpg_subset`, `sklearn_digits`): `<name>.npz` with
  keys X, y, split (0 train, 1 test), classes. The folder is $TINYCIL_DATA, else
  ../shared/data beside the repository.
- a user file: `.npz` with X (samples first) and y, optional split and classes; or `.csv`
  with one sample per row, numbers only, the label in the last column (an optional
  header row is skipped). Without a split, every 5th sample is test.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import REPO

SHARED_NAMES = ("mnist", "har_raw", "fsdd_logmel", "speech_commands_v2_12cls", "cifar10_jpg_subset",
                "sklearn_digits")


class DatasetError(ValueError):
    pass


@dataclass
class Dataset:
    name: str
    X_train: np.ndarray          # float32 (n, d), flattened, in the data set's own units
    y_train: np.ndarray          # int64 (n,)
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list = field(default_factory=list)
    input_shape: tuple = ()      # shape of one sample before flattening

    @property
    def n_features(self):
        return self.X_train.shape[1]

    def bytes_per_sample(self, itemsize=1):
        """Bytes of one raw sample as stored on a board (int8 by default)."""
        return self.n_features * itemsize


def data_dir():
    env = os.environ.get("TINYCIL_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def load(source):
    """A Dataset from `digits`, a shared data set name, or a .npz/.csv path."""
    source = str(source)
    if source == "digits":
        return _digits()
    p = Path(source)
    if p.suffix in (".npz", ".csv") or p.exists():
        if not p.exists():
            raise DatasetError("%s: no such file" % p)
        return _from_csv(p) if p.suffix == ".csv" else _from_npz(p, p.stem)
    if source in SHARED_NAMES:
        p = data_dir() / (source + ".npz")
        if not p.exists():
            raise DatasetError("%s: shared data set not found (set TINYCIL_DATA to the folder holding it)" % p)
        return _from_npz(p, source)
    raise DatasetError("unknown dataset %r: use 'digits', one of %s, or a .npz/.csv file"
                       % (source, ", ".join(SHARED_NAMES)))


def _digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    X = d.data.astype(np.float32)
    y = d.target.astype(np.int64)
    test = np.arange(len(y)) % 5 == 4
    return Dataset("digits", X[~test], y[~test], X[test], y[test], [str(c) for c in d.target_names], (8, 8))


def _from_npz(path, name):
    try:
        with np.load(path, allow_pickle=False) as z:
            if "X" not in z or "y" not in z:
                raise DatasetError("%s: needs arrays X and y" % path)
            X = np.asarray(z["X"])
            y = np.asarray(z["y"])
            split = np.asarray(z["split"]) if "split" in z else None
            classes = [str(c) for c in z["classes"]] if "classes" in z else None
    except (OSError, ValueError) as e:
        if isinstance(e, DatasetError):
            raise
        raise DatasetError("%s: not a readable .npz (%s)" % (path, e))
    return _make(name, X, y, split, classes, str(path))


def _from_csv(path):
    try:
        with open(path) as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError as e:
        raise DatasetError("%s: %s" % (path, e))
    if not lines:
        raise DatasetError("%s: empty file" % path)
    try:
        float(lines[0].split(",")[0])
    except ValueError:
        lines = lines[1:]  # header row
    try:
        data = np.array([[float(v) for v in ln.split(",")] for ln in lines], dtype=np.float64)
    except ValueError as e:
        raise DatasetError("%s: every value must be a number (%s)" % (path, e))
    if data.ndim != 2 or data.shape[1] < 2:
        raise DatasetError("%s: needs rows of features followed by a label" % path)
    return _make(path.stem, data[:, :-1], data[:, -1], None, None, str(path))


def _make(name, X, y, split, classes, where):
    if X.ndim < 2 or len(X) != len(y) or len(y) == 0:
        raise DatasetError("%s: X must have one row per label (X %s, y %s)" % (where, X.shape, y.shape))
    if not np.all(np.isfinite(X.astype(np.float64))):
        raise DatasetError("%s: X has NaN or infinite values" % where)
    if np.any(np.asarray(y, dtype=np.float64) != np.round(np.asarray(y, dtype=np.float64))) or np.any(y < 0):
        raise DatasetError("%s: labels must be non-negative integers" % where)
    y = np.asarray(y).astype(np.int64)
    shape = tuple(X.shape[1:])
    X = X.reshape(len(X), -1).astype(np.float32)
    if split is None:
        split = (np.arange(len(y)) % 5 == 4).astype(np.uint8)
    if classes is None:
        classes = [str(c) for c in range(int(y.max()) + 1)]
    tr = split == 0
    te = split == 1
    return Dataset(name, X[tr], y[tr], X[te], y[te], list(classes), shape)


def load_rows(path):
    """Unlabelled input rows from a .npy array or the X of a .npz (any labels in it are ignored),
    one row per sample, as float32: what a front-end can be fitted on."""
    try:
        if str(path).endswith(".npy"):
            X = np.load(path, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as z:
                if "X" not in z:
                    raise DatasetError("%s: needs an array X of input rows" % path)
                X = np.asarray(z["X"])
    except (OSError, ValueError) as e:
        if isinstance(e, DatasetError):
            raise
        raise DatasetError("%s: not a readable .npy/.npz (%s)" % (path, e))
    if X.ndim < 2 or len(X) == 0:
        raise DatasetError("%s: X must hold rows (shape %s)" % (path, X.shape))
    X = X.reshape(len(X), -1).astype(np.float32)
    if not np.all(np.isfinite(X)):
        raise DatasetError("%s: X has NaN or infinite values" % path)
    return X


def validation_split(X, y, fraction=0.2, seed=0):
    """Carve a stratified validation part out of training data (never the test split)."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        val[idx[: max(1, int(round(len(idx) * fraction)))]] = True
    return X[~val], y[~val], X[val], y[val]
