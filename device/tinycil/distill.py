# Distribution matching (Zhao & Bilen, WACV 2023) for one class: synthetic
# samples S are moved by momentum SGD so that their mean embedding under a random
# ReLU layer matches the real samples' mean embedding; the layer is drawn afresh
# at every iteration. S starts from real samples chosen by herding, so any prefix
# of S is already a representative subset (the replay set shrinks by prefixes).
from array import array

from .rng import init_scale


def herding_work(n_feat):
    """herding_order's scratch rows (class mean, running sum, one row), in doubles like
    the host's reference; the Distiller keeps one set so herding allocates nothing."""
    return tuple(array("d", bytearray(8 * n_feat)) for _ in range(3))


def herding_order(B, X, n, n_feat, k, work=None):
    """Indices of k rows of X chosen greedily so their running mean tracks the class mean."""
    mean, acc, r = work or herding_work(n_feat)
    for j in range(n_feat):
        mean[j] = acc[j] = 0.0
    for i in range(n):
        B.get_row(X, i, r, n_feat)
        for j in range(n_feat):
            mean[j] += r[j]
    for j in range(n_feat):
        mean[j] /= n
    chosen = []
    for t in range(1, k + 1):
        best = -1
        best_d = 0.0
        for i in range(n):
            if i in chosen:
                continue
            B.get_row(X, i, r, n_feat)
            d = 0.0
            for j in range(n_feat):
                e = mean[j] - (acc[j] + r[j]) / t
                d += e * e
            if best < 0 or d < best_d:
                best = i
                best_d = d
        chosen.append(best)
        B.get_row(X, best, r, n_feat)
        for j in range(n_feat):
            acc[j] += r[j]
    return chosen


CHUNK = 8  # embedding units drawn and processed at a time: bounds RAM, same maths


class Distiller:
    """Preallocated work buffers for distilling any number of real samples into up to
    max_syn (the real samples' embeddings are streamed, never stored).

    The random embedding E (embed_dim x n_feat) is drawn row by row, so it is handled
    CHUNK units at a time: the matching loss and its gradient are sums over units, and
    the draws come in the same order as filling E whole (FORMAT.md section 3).
    """

    def __init__(self, B, n_feat, max_syn, embed_dim):
        self.B = B
        self.n_feat = n_feat
        self.embed_dim = embed_dim
        self.max_syn = max_syn
        ch = min(CHUNK, embed_dim)
        self.E = B.zeros(ch, n_feat)
        self.Hs = B.zeros(max_syn, ch)
        self.dHs = B.zeros(max_syn, ch)
        self.mT = B.zeros(1, ch)
        self.mS = B.zeros(1, ch)
        self.G = B.zeros(max_syn, n_feat)
        self.V = B.zeros(max_syn, n_feat)
        self.lo = B.zeros(1, n_feat)
        self.hi = B.zeros(1, n_feat)
        self.S = B.zeros(max_syn, n_feat)  # the synthetic samples being distilled
        self.herding = herding_work(n_feat)

    def run(self, real, n, syn, k, rng, iters, lr, mu, log=None):
        """Distil rows 0..n-1 of `real` into rows 0..k-1 of `syn` (initialised by the caller).

        Returns (first_loss, last_loss): the matching loss at the first and last iteration.
        """
        B = self.B
        nf = self.n_feat
        ed = self.embed_dim
        B.fill(self.V, k, nf, 0.0)
        B.col_range(real, n, nf, self.lo, self.hi)
        scale = init_scale(nf)
        first = last = 0.0
        for it in range(iters):
            loss = 0.0
            B.fill(self.G, k, nf, 0.0)
            u = 0
            while u < ed:
                c = min(CHUNK, ed - u)
                B.fill_uniform(self.E, 0, c, 0, nf, rng, scale)  # rows u..u+c-1 of E
                B.relu_mean(real, n, self.E, nf, c, self.mT)  # no n-row buffer
                B.linear(syn, self.E, None, self.Hs, k, nf, c, True)
                B.col_mean(self.Hs, k, c, self.mS)
                B.axpy(self.mS, self.mT, 1, c, -1.0)  # d = mS - mT for these units
                loss += B.sumsq(self.mS, 1, c)
                # d loss / d Hs[r] = 2 d / k, masked by ReLU; d/dS = that @ E. The step
                # uses it times k*nf/(2*ed): the loss's curvature is about 2*ed/(k*nf), so
                # this makes one distill_lr stable for any k, n_features and embed_dim.
                B.fill_rows(self.dHs, self.mS, k, c, nf / ed)
                B.relu_mask(self.dHs, self.Hs, k, c)
                B.matmul_acc(self.dHs, self.E, self.G, k, nf, c)  # G += this chunk's share
                u += c
            if it == 0:
                first = loss
            last = loss
            if loss != loss or loss == float("inf"):
                raise ArithmeticError("distillation diverged (loss %r); lower distill_lr" % (loss,))
            B.sgd(syn, self.V, self.G, k, nf, lr, mu)
            # synthetic samples stay inside the real samples' per-feature range: they
            # remain plausible inputs and cannot run away (FORMAT.md section 5)
            B.clip_rows(syn, k, nf, self.lo, self.hi)
            if log is not None:
                log(it + 1, iters, loss)
        return first, last
