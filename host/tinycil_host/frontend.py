"""The optional frozen front-end: a PCA projection (whitened), stored int8 in the FRNT chunk.

High-dimensional inputs (28x28 images, 40x32 spectrograms, 6x128 inertial windows)
would make the first trainable layer too big for a board's RAM. The front-end maps
the scaled input to `n_features` numbers; it is fit once on the host on the base
classes' training data, never trained on the board, and the replay set lives in its
output space. Unsupervised on purpose: it cannot overfit to the base classes' labels.
"""
import numpy as np

from .store import FrontLayer, quantize_rows

AUTO_ABOVE = 128  # inputs above this many numbers get a front-end unless told otherwise


def fit_pca(X, n_features, whiten=True):
    """One int8 layer projecting rows of X (already input-scaled) onto their top principal axes.

    Whitened: each output has unit variance on the fitting data, so every feature starts
    on the same footing for the trainable network.
    """
    X = np.asarray(X, dtype=np.float64)
    n_features = int(min(n_features, X.shape[1], len(X)))
    mean = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    P = Vt[:n_features]
    if whiten:
        std = s[:n_features] / np.sqrt(max(1, len(X) - 1))
        P = P / np.maximum(std, 1e-6)[:, None]
    scale, q = quantize_rows(P.astype(np.float32))
    layer = FrontLayer(q, scale, np.zeros(n_features, np.float32), relu=False)
    # centre with the quantized weights, so the stored layer gives zero-mean outputs
    layer.bias = (-(layer(mean[None, :].astype(np.float32))[0])).astype(np.float32)
    return [layer]


def fit_random(X, n_features, seed=1):
    """One int8 layer of seeded random +-1 directions (a data-independent projection, Achlioptas
    2003): no direction is learned from the data. Each output is then centred and scaled to unit
    variance on the rows of X (already input-scaled), like the whitened PCA, so the features
    start on the same footing and the replay set's int8 rows keep their resolution."""
    X = np.asarray(X, dtype=np.float64)
    n_features = int(min(n_features, X.shape[1]))
    P = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_features, X.shape[1]))
    std = (X @ P.T).std(axis=0)
    P = P / np.maximum(std, 1e-6)[:, None]
    scale, q = quantize_rows(P.astype(np.float32))
    layer = FrontLayer(q, scale, np.zeros(n_features, np.float32), relu=False)
    layer.bias = (-(layer(X.mean(axis=0)[None, :].astype(np.float32))[0])).astype(np.float32)
    return [layer]


# prepare's --frontend kinds: fit(rows, n_features, seed) -> layers, and how reports name them
FIT = {"pca": lambda X, n_features, seed=1: fit_pca(X, n_features), "random": fit_random}
NAMES = {"pca": "PCA", "random": "random projection"}


def run(layers, X):
    h = np.asarray(X, dtype=np.float32)
    for f in layers:
        h = f(h)
    return h


def flops(layers):
    return sum(2 * f.n_in * f.n_out for f in layers)


def nbytes(layers):
    """Bytes the front-end takes in the file (and in a board's RAM): int8 weights + f32 scale, bias."""
    return sum(6 + f.n_in * f.n_out + 8 * f.n_out for f in layers)
