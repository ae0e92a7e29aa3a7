# Distribution matching (Zhao & Bilen, WACV 2023) for one class: synthetic
# samples S are moved by SGD so that their mean embedding under a random ReLU layer
# matches the real samples' mean embedding; the layer is drawn afresh at every
# iteration. S starts from real samples chosen by herding, so any prefix of S is
# already a representative subset (the replay set shrinks by prefixes).
# The real samples are int8 rows of the learner's pool; the random layer is int8 too
# (FORMAT.md 5), so the real side is integer arithmetic.
from .alloc import zeroed
from .limits import CHUNK
from .rng import init_scale




class Distiller:
    """Preallocated work buffers for distilling any number of real samples into up to
    max_syn (the real samples' embeddings are streamed, never stored).

    The random layer E (embed_dim x n_feat, int8) is drawn CHUNK units at a time; the matching
    loss and its gradient are sums over units (FORMAT.md 5). Every product is between int8
    rows: the real samples as stored, the synthetic ones quantized at each iteration, the
    gradient quantized per chunk. Integer kernels do them (_int8.py): on a board without a
    floating-point unit most of the work then costs what integer arithmetic costs.
    """

    def __init__(self, B, n_feat, max_syn, embed_dim, momentum=True, max_real=CHUNK):
        self.B = B
        self.n_feat = n_feat
        self.embed_dim = embed_dim
        self.max_syn = max_syn
        ch = min(CHUNK, embed_dim)
        self.E = zeroed("b", ch * n_feat)     # one chunk of the random layer
        self.Sq = zeroed("b", max_syn * n_feat)  # the synthetic rows as int8, per iteration
        self.ss = zeroed("f", max_syn)
        self.dq = zeroed("b", max_syn * ch)   # a chunk's gradient rows as int8
        self.ds = zeroed("f", max_syn)
        # integer activations of the real rows (all of a call's training rows at once) or the synthetic ones
        self.h = zeroed("i", max(max_real, max_syn) * ch)
        self.max_real = max_real
        self.g = zeroed("i", max_syn * n_feat)          # integer gradient rows
        self.mT = zeroed("f", ch)   # the chunk's mean embeddings and their difference
        self.d = zeroed("f", ch)
        self.G = B.zeros(max_syn, n_feat)
        self.V = B.zeros(max_syn, n_feat) if momentum else None
        self.lo = B.zeros(1, n_feat)
        self.hi = B.zeros(1, n_feat)
        self.S = B.zeros(max_syn, n_feat)  # the synthetic samples being distilled
        self.herding = B.herding_work(n_feat)

    def run(self, rows, p0, n, syn, k, rng, iters, lr, mu, log=None):
        """Distil rows p0..p0+n-1 of `rows` (int8 Rows) into rows 0..k-1 of `syn` (initialised
        by the caller). Returns (first_loss, last_loss): the matching loss at the first and last
        iteration."""
        B = self.B
        nf = self.n_feat
        ed = self.embed_dim
        E, Sq, ss = self.E, self.Sq, self.ss
        P, sc = rows.q, rows.scale
        V = self.V if mu else None
        if V is not None:
            B.fill(V, k, nf, 0.0)
        B.col_range_q(rows.view, p0, n, nf, sc, self.lo, self.hi)
        scol = B.row_scales(sc, p0, n)  # the real rows' scales as dm_chunk takes them
        es = init_scale(nf) / 128.0  # int8 draws -128..127 span the init range (FORMAT.md 5)
        pre = es * es * nf / ed  # the loss's gradient, preconditioned (see below), in int8 units
        first = last = 0.0
        for it in range(iters):
            B.quantize_rows(syn, k, nf, Sq, ss)
            B.fill(self.G, k, nf, 0.0)
            loss = 0.0
            u = 0
            while u < ed:
                c = min(CHUNK, ed - u)
                rng.fill_bytes(E, c * nf)  # units u..u+c-1 of E, as int8 values
                # d loss / d Hs[r] = 2 d / k, masked by ReLU; d/dS = that @ E. The step uses it
                # times k*nf/(2*ed) (pre): the loss's curvature is about 2*ed/(k*nf), so this
                # makes one distill_lr stable for any k, n_features and embed_dim.
                loss += B.dm_chunk(P, p0, n, scol, Sq, ss, k, E, c, nf, pre, self, self.G)
                u += c
            loss *= es * es
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
