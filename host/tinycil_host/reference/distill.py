"""Twin of device/tinycil/distill.py: herding, then distribution matching (FORMAT.md section 5)."""
import numpy as np

from ..limits import CHUNK
from ..store import quantize_rows
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


def distill(T, S, rng, iters, embed_dim, lr, mu, log=None):
    """Distribution matching of S (k, f) to T (n, f); returns (S, first loss, last loss).

    As the board computes it (FORMAT.md 5): the random layer is int8 values E times
    es = init_scale(f) / 128, drawn CHUNK units at a time; T's rows are int8 as stored, S is
    quantized at every iteration and the gradient per chunk, so every product is between int8
    rows. T must be int8 rows already (dequantized), as learn_class holds them."""
    T = np.asarray(T, dtype=F32)
    S = np.array(S, dtype=F32)
    k, nf = S.shape
    n = len(T)
    Ts, Tq = quantize_rows(T)   # T's own int8 rows: exact, T came from them
    Tq = Tq.astype(np.int64)
    V = np.zeros_like(S)
    lo, hi = T.min(axis=0), T.max(axis=0)
    es = init_scale(nf) / 128.0
    pre = F32(es * es * nf / embed_dim)
    lr, mu = F32(lr), F32(mu)
    first = last = 0.0
    for it in range(iters):
        ss, Sq = quantize_rows(S)
        Sq = Sq.astype(np.int64)
        G = np.zeros_like(S)
        loss = 0.0
        for u in range(0, embed_dim, CHUNK):
            c = min(CHUNK, embed_dim - u)
            E = rng.bytes(c * nf).reshape(c, nf).astype(np.int64)
            hT = np.maximum(Tq @ E.T, 0)
            hS = np.maximum(Sq @ E.T, 0)
            mT = (Ts[:, None] * hT.astype(F32)).sum(axis=0, dtype=F32)
            mS = (ss[:, None] * hS.astype(F32)).sum(axis=0, dtype=F32)
            d = (mS / F32(k) - mT / F32(n)).astype(F32)   # (mS - mT) / es
            loss += float((d.astype(np.float64) ** 2).sum())
            dH = np.where(hS > 0, d * pre, F32(0)).astype(F32)
            ds, dq = quantize_rows(dH)
            G += (ds[:, None] * (dq.astype(np.int64) @ E).astype(F32)).astype(F32)
        loss *= es * es
        if it == 0:
            first = loss
        last = loss
        if not loss < 1e30:  # NaN included
            raise ArithmeticError("distillation diverged (loss %r); lower distill_lr" % (loss,))
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
