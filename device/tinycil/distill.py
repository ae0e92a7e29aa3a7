# Distribution matching (Zhao & Bilen, WACV 2023) for one class: synthetic
# samples S are moved by SGD so that their mean embedding under a random ReLU layer
# matches the real samples' mean embedding; the layer is drawn afresh at every
# iteration. S starts from real samples chosen by herding, so any prefix of S is
# already a representative subset (the replay set shrinks by prefixes).
# The real samples are int8 rows of the learner's pool; the random layer is int8 too
# (FORMAT.md 5), so the real side is integer arithmetic.
from array import array

from .limits import CHUNK
from .rng import init_scale




class Distiller:
    """Preallocated work buffers for distilling any number of real samples into up to
    max_syn (the real samples' embeddings are streamed, never stored).

    The random embedding E (embed_dim x n_feat) is drawn chunk by chunk, CHUNK units at a
    time: the matching loss and its gradient are sums over units (FORMAT.md 5).
    """

    def __init__(self, B, n_feat, max_syn, embed_dim, momentum=True):
        self.B = B
        self.n_feat = n_feat
        self.embed_dim = embed_dim
        self.max_syn = max_syn
        ch = min(CHUNK, embed_dim)
        self.Ebuf = array("b", bytes(ch * n_feat))
        self.E = B.int8_view(self.Ebuf, ch, n_feat)
        self.Hs = B.zeros(max_syn, ch)
        self.dHs = B.zeros(max_syn, ch)
        self.mT = B.zeros(1, ch)
        self.mS = B.zeros(1, ch)
        self.G = B.zeros(max_syn, n_feat)
        self.V = B.zeros(max_syn, n_feat) if momentum else None
        self.lo = B.zeros(1, n_feat)
        self.hi = B.zeros(1, n_feat)
        self.S = B.zeros(max_syn, n_feat)  # the synthetic samples being distilled
        self.herding = B.herding_work(n_feat)

    def run(self, pool, p0, n, syn, k, rng, iters, lr, mu, log=None):
        """Distil pool rows p0..p0+n-1 into rows 0..k-1 of `syn` (initialised by the caller).

        Returns (first_loss, last_loss): the matching loss at the first and last iteration.
        """
        B = self.B
        nf = self.n_feat
        ed = self.embed_dim
        P = pool.view
        sc = pool.scale
        V = self.V if mu else None
        if V is not None:
            B.fill(V, k, nf, 0.0)
        B.col_range_q(P, p0, n, nf, sc, self.lo, self.hi)
        scol = B.row_scales(sc, p0, n)
        es = init_scale(nf) / 128.0  # int8 draws -128..127 span the init range (FORMAT.md 5)
        first = last = 0.0
        for it in range(iters):
            loss = 0.0
            B.fill(self.G, k, nf, 0.0)
            u = 0
            while u < ed:
                c = min(CHUNK, ed - u)
                rng.fill_bytes(self.Ebuf, c * nf)  # units u..u+c-1 of E, as int8 values
                B.relu_mean_qq(P, p0, n, scol, self.E, nf, c, self.mT)  # real side, integer dots
                B.linear_e(syn, self.E, self.Hs, k, nf, c)
                B.col_mean(self.Hs, k, c, self.mS)
                B.axpy(self.mS, self.mT, 1, c, -1.0)  # d = (mS - mT) / es for these units
                loss += B.sumsq(self.mS, 1, c) * es * es
                # d loss / d Hs[r] = 2 d / k, masked by ReLU; d/dS = that @ E. The step
                # uses it times k*nf/(2*ed): the loss's curvature is about 2*ed/(k*nf), so
                # this makes one distill_lr stable for any k, n_features and embed_dim.
                B.relu_fill(self.dHs, self.Hs, self.mS, k, c, es * es * nf / ed)
                B.matmul_acc_e(self.dHs, self.E, self.G, k, nf, c)  # G += this chunk's share
                u += c
            if it == 0:
                first = loss
            last = loss
            if not loss < 1e30:  # NaN included
                raise ArithmeticError("distillation diverged (loss %r); lower distill_lr" % (loss,))
            B.sgd(syn, V, self.G, k, nf, lr, mu)
            # synthetic samples stay inside the real samples' per-feature range: they
            # remain plausible inputs and cannot run away (FORMAT.md section 5)
            B.clip_rows(syn, k, nf, self.lo, self.hi)
            if log is not None:
                log(it + 1, iters, loss)
        return first, last


def herding_order(B, rows, p0, n, k, work):
    """FORMAT.md 5.1: indices (0..n-1) of k of rows p0..p0+n-1 (a Rows) chosen greedily so
    their running mean tracks the rows' mean."""
    return B.herding(rows.view, p0, n, rows.scale, rows.n_feat, k, work)
