"""Twin of device/tinycil/samples.py: a call's samples checked, scaled and split into
training and held-out rows (FORMAT.md 7.0 and 7.1); the input scaling a first call learns."""
import numpy as np

from ..limits import MAX_ABS, MAX_LABEL_BYTES, MIN_SAMPLES

F32 = np.float32


def train_rows(n, val_every):
    """Training rows of a call with n samples (FORMAT.md 7.1): every val_every-th is held out
    once there are at least two of them."""
    return n - n // val_every if val_every > 1 and n >= 2 * val_every else n


def split_rows(n, val_every):
    """(training, held-out) row indices of a call with n samples (FORMAT.md 7.1)."""
    if train_rows(n, val_every) == n:
        return list(range(n)), []
    return ([i for i in range(n) if i % val_every != val_every - 1],
            [i for i in range(n) if i % val_every == val_every - 1])


def check_label(label):
    if not isinstance(label, str):
        raise TypeError("label must be a str, got %s" % type(label).__name__)
    if not label or len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        raise ValueError("label must be 1 to %d bytes of text" % MAX_LABEL_BYTES)

def validated(lrn, samples):
    """The call's samples checked against learner lrn (sizes, count, range after scaling);
    returns their features (n, n_features)."""
    X = np.asarray(samples, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != lrn.n_inputs:
        raise ValueError("samples must be rows of %d numbers, got shape %s" % (lrn.n_inputs, X.shape))
    if not MIN_SAMPLES <= len(X) <= lrn.max_samples:
        raise ValueError("samples: %d given, %d to %d are needed (max_samples)"
                         % (len(X), MIN_SAMPLES, lrn.max_samples))
    Z = (X - lrn.offset) * lrn.scale
    if not np.isfinite(Z).all():
        raise ValueError("samples contain values that are not finite")
    if np.abs(Z).max() > MAX_ABS:
        raise ValueError("samples lie beyond +-%g after input scaling" % MAX_ABS)
    return lrn.features(X)


def learned_scaling(samples, n_inputs):
    """FORMAT.md 7.0 (prepare's rule): offset = each input's mean over the samples, scale =
    1 / their overall standard deviation (1 when it is 0), float32."""
    X = np.asarray(samples, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != n_inputs or not len(X) or not np.isfinite(X).all():
        return np.zeros(n_inputs, F32), np.ones(n_inputs, F32)  # split reports what is wrong
    offset = X.mean(axis=0)
    std = float(np.sqrt(((X - offset) ** 2).mean()))
    return offset.astype(F32), np.full(n_inputs, F32(1.0 / std) if std > 0 else F32(1.0), F32)
