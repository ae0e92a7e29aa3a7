"""Twin of device/tinycil/distill.py: herding, then distribution matching (FORMAT.md section 5)."""
import numpy as np

from ..limits import CHUNK
from .rng import init_scale

F32 = np.float32


def herding_order(T, k):
    """Indices of k rows of T whose running mean tracks the class mean (first index wins ties)."""
    T = np.asarray(T, dtype=F32).astype(np.float64)
    mean = T.mean(axis=0)
    acc = np.zeros(T.shape[1])
    free = np.ones(len(T), dtype=bool)
    chosen = []
    for t in range(1, k + 1):
        d = (((mean - (acc + T) / t) ** 2).sum(axis=1))
        d[~free] = np.inf
        i = int(np.argmin(d))
        chosen.append(i)
        free[i] = False
        acc += T[i]
    return chosen


def embedding(rng, embed_dim, nf):
    """FORMAT.md 5: the int8 random layer, CHUNK units at a time, each chunk from fresh bytes."""
    return np.concatenate([rng.bytes(min(CHUNK, embed_dim - u) * nf).reshape(-1, nf)
                           for u in range(0, embed_dim, CHUNK)])


def distill(T, S, rng, iters, embed_dim, lr, mu, log=None):
    """Distribution matching of S (k, f) to T (n, f); returns (S, first loss, last loss).
    The random layer is E * es: int8 values E and es = init_scale(f) / 128 (FORMAT.md 5)."""
    T = np.asarray(T, dtype=F32)
    S = np.array(S, dtype=F32)
    k, nf = S.shape
    V = np.zeros_like(S)
    lo, hi = T.min(axis=0), T.max(axis=0)
    es = init_scale(nf) / 128.0
    pre = F32(es * es * nf / embed_dim)  # FORMAT.md 5's preconditioning, in the int8 units
    lr, mu = F32(lr), F32(mu)
    first = last = 0.0
    for it in range(iters):
        E = embedding(rng, embed_dim, nf).astype(F32)
        mT = np.maximum(T @ E.T, F32(0)).mean(axis=0, dtype=F32)
        Hs = np.maximum(S @ E.T, F32(0))
        d = Hs.mean(axis=0, dtype=F32) - mT   # (mS - mT) / es
        loss = float((d.astype(np.float64) ** 2).sum()) * es * es
        if it == 0:
            first = loss
        last = loss
        if not loss < 1e30:  # NaN included
            raise ArithmeticError("distillation diverged (loss %r); lower distill_lr" % (loss,))
        dH = np.where(Hs > 0, d * pre, F32(0)).astype(F32)
        G = dH @ E
        if mu:
            V = mu * V - lr * G
            S += V
        else:
            S -= lr * G
        np.clip(S, lo, hi, out=S)  # stay inside the real samples' range (FORMAT.md section 5)
        if log is not None:
            log(it + 1, iters, loss)
    return S, first, last


def distill_class(T, k, rng, hp, log=None):
    """Herding init then distribution matching: the k synthetic samples of one class."""
    S = np.asarray(T, dtype=F32)[herding_order(T, k)]
    if hp["distill_iters"] <= 0 or k == 0:
        return S.copy(), 0.0, 0.0
    return distill(T, S, rng, hp["distill_iters"], hp["embed_dim"], hp["distill_lr"],
                   hp["distill_momentum"], log)
