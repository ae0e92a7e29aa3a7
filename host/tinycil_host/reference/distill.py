"""Twin of device/tinycil/distill.py: herding, then distribution matching (FORMAT.md section 5)."""
import numpy as np

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
    """Distribution matching of S (k, f) to T (n, f); returns (S, first loss, last loss)."""
    T = np.asarray(T, dtype=F32)
    S = np.array(S, dtype=F32)
    k, nf = S.shape
    V = np.zeros_like(S)
    lo, hi = T.min(axis=0), T.max(axis=0)
    scale = init_scale(nf)
    lr, mu = F32(lr), F32(mu)
    first = last = 0.0
    for it in range(iters):
        E = rng.matrix(embed_dim, nf, scale)
        mT = np.maximum(T @ E.T, F32(0)).mean(axis=0, dtype=F32)
        Hs = np.maximum(S @ E.T, F32(0))
        d = Hs.mean(axis=0, dtype=F32) - mT
        loss = float((d.astype(np.float64) ** 2).sum())
        if it == 0:
            first = loss
        last = loss
        if not np.isfinite(loss):
            raise ArithmeticError("distillation diverged (loss %r); lower distill_lr" % (loss,))
        # preconditioned gradient (FORMAT.md section 5): step size independent of k and sizes
        dH = np.where(Hs > 0, d * F32(nf / embed_dim), F32(0)).astype(F32)
        V = mu * V - lr * (dH @ E)
        S += V
        np.clip(S, lo, hi, out=S)  # stay inside the real samples' range (FORMAT.md section 5)
        if log is not None:
            log(it + 1, iters, loss)
    return S, first, last


def distill_class(T, k, rng, hp, log=None):
    """Herding init then distribution matching: the k synthetic samples of one class."""
    S = np.asarray(T, dtype=F32)[herding_order(T, k)]
    if hp["distill_iters"] <= 0:
        return S.copy(), 0.0, 0.0
    return distill(T, S, rng, hp["distill_iters"], hp["embed_dim"], hp["distill_lr"],
                   hp["distill_momentum"], log)
