# The growable MLP: dense + ReLU hidden layers, softmax output, plus the nearest-mean
# head's fixed logits (FORMAT.md 4). Every buffer is allocated once at its maximum size
# (max_hidden, max_classes, batch), so memory is known up front and growing allocates
# nothing; the kernels work on the active top-left block of each matrix.
from .alloc import zeroed
from .limits import LOSS_LIMIT  # an epoch's mean loss at or above it is divergence (FORMAT.md 4)
from .rng import init_scale



def xent_grad(B, Z, labels, weights, m, n, lse):
    """Softmax cross-entropy, weighted mean over m rows (weights normalised to sum 1).
    Z holds the logits on entry and d loss / d logits on return; returns the loss. The loss
    of a row is log-sum-exp(z) - z[label], computed from the logits, so it has no ceiling:
    a diverging fit shows as a huge loss in float64 too, not only as float32 overflow.
    `lse` is scratch of at least m floats."""
    wsum = 0.0
    loss = 0.0
    for r in range(m):
        wsum += weights[r]
        loss -= weights[r] * B.get(Z, r, labels[r])
    B.softmax_rows(Z, m, n, lse)
    for r in range(m):
        loss += weights[r] * lse[r]
    B.xent_delta(Z, labels, weights, m, n, 1.0 / wsum)
    return loss / wsum


class Net:
    def __init__(self, B, n_features, max_hidden, max_classes, n_layers=1, batch=16, momentum=True):
        if n_layers < 1:
            raise ValueError("n_layers must be at least 1")
        self.B = B
        self.caps = [n_features] + [max_hidden] * n_layers + [max_classes]
        self.sizes = [n_features] + [0] * n_layers + [0]
        self.batch = batch
        n = len(self.caps) - 1  # number of weight layers
        self.W = [B.zeros(self.caps[l + 1], self.caps[l]) for l in range(n)]
        self.b = [B.zeros(1, self.caps[l + 1]) for l in range(n)]
        # momentum buffers only when momentum is used: without, plain SGD needs none
        self.VW = [B.zeros(self.caps[l + 1], self.caps[l]) for l in range(n)] if momentum else None
        self.Vb = [B.zeros(1, self.caps[l + 1]) for l in range(n)] if momentum else None
        # activations of each layer's output, and their gradients
        self.A = [B.zeros(batch, self.caps[l + 1]) for l in range(n)]
        self.dA = [B.zeros(batch, self.caps[l + 1]) for l in range(n - 1)]
        self.Xb = B.zeros(batch, n_features)  # mini-batch input rows
        self.bl = [0] * batch      # labels and weights of one mini-batch
        self.bw = [0.0] * batch
        self._lse = zeroed("f", batch)  # per-row log-sum-exp of a batch
        self.ncm: "tuple | None" = None  # (pool view, first mean row, a, b): the nearest-mean head (FORMAT.md 4)
        self.ncm_separate = False  # True: fit trains the network without the head (FORMAT.md 4)

    # ---- shape ---------------------------------------------------------------
    @property
    def hidden(self):
        return self.sizes[1:-1]

    @property
    def n_classes(self):
        return self.sizes[-1]

    def params(self):
        s = self.sizes
        return sum(s[l] * s[l + 1] + s[l + 1] for l in range(len(s) - 1))

    def flops(self):
        # 2 FLOPs per multiply-add of the dense layers and the nearest-mean head (FORMAT.md 4)
        s = self.sizes
        return sum(2 * s[l] * s[l + 1] for l in range(len(s) - 1)) + (2 * s[0] * s[-1] if self.ncm else 0)

    # ---- growth (function-preserving) -----------------------------------------
    def _init_rows(self, l, r0, r1, rng):
        # rows r0..r1-1 of layer l: U(-1,1)*init_scale(fan_in), bias 0, velocities 0
        B = self.B
        n_in = self.sizes[l]
        B.fill_uniform(self.W[l], r0, r1, 0, n_in, rng, init_scale(n_in))
        B.round_f32(self.W[l], r0, r1, n_in)
        for r in range(r0, r1):
            B.put(self.b[l], 0, r, 0.0)

    def _zero_cols(self, l, c0, c1):
        # outgoing weights of new units start at zero: the net's function is unchanged
        B = self.B
        for r in range(self.sizes[l + 1]):
            for j in range(c0, c1):
                B.put(self.W[l], r, j, 0.0)

    def set_hidden(self, width, rng):
        """Widen every hidden layer to `width` units (never narrows)."""
        if width > self.caps[1]:
            raise ValueError("width %d exceeds max_hidden %d" % (width, self.caps[1]))
        for l in range(1, len(self.sizes) - 1):
            old = self.sizes[l]
            if width <= old:
                continue
            self.sizes[l] = width
            self._init_rows(l - 1, old, width, rng)
            self._zero_cols(l, old, width)

    def narrow(self, width):
        """Drop the hidden units from `width` on (their rows and columns are left in the buffers,
        unused: a later widening sets them again)."""
        for l in range(1, len(self.sizes) - 1):
            if width < self.sizes[l]:
                self.sizes[l] = width

    def add_class(self, rng):
        c = self.sizes[-1]
        if c >= self.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.caps[-1])
        self.sizes[-1] = c + 1
        self._init_rows(len(self.W) - 1, c, c + 1, rng)

    def remove_class(self, c):
        """Remove output unit c: the rows after it move up one; the other outputs are unchanged."""
        B = self.B
        last = len(self.W) - 1
        n = self.sizes[-1]
        s = self.sizes[-2]
        for i in range(c, n - 1):
            B.copy_row(self.W[last], i + 1, self.W[last], i, s)
            B.put(self.b[last], 0, i, B.get(self.b[last], 0, i + 1))
        self.sizes[-1] = n - 1

    # ---- compute ---------------------------------------------------------------
    def forward(self, X, m):
        """Logits for the first m rows of X; returns the buffer holding them."""
        B = self.B
        s = self.sizes
        last = len(self.W) - 1
        inp = X
        for l in range(last + 1):
            if s[l + 1]:  # a hidden width of 0 has nothing to compute (ulab has no empty arrays to add)
                B.linear(inp, self.W[l], self.b[l], self.A[l], m, s[l], s[l + 1], l < last)
            inp = self.A[l]
        if self.ncm is not None:
            P, p0, a, b = self.ncm
            B.linear_q(X, P, p0, a, b, self.A[last], m, s[0], s[-1])
        return self.A[last]

    def step(self, X, labels, weights, m, lr, mu):
        """One SGD step (with momentum mu when the net has momentum buffers) on a mini-batch
        of m rows; returns its loss."""
        B = self.B
        s = self.sizes
        last = len(self.W) - 1
        Z = self.forward(X, m)
        loss = xent_grad(B, Z, labels, weights, m, s[-1], self._lse)
        d = Z
        for l in range(last, -1, -1):
            if not s[l + 1]:  # width 0: no weights, and no gradient to pass down
                break
            inp = X if l == 0 else self.A[l - 1]
            dX = self.dA[l - 1] if l > 0 and s[l] else None
            if dX is not None:  # the layer below's gradient uses this layer's weights before the step
                B.fill(dX, m, s[l], 0.0)
                B.matmul_acc(d, self.W[l], dX, m, s[l], s[l + 1])
                B.relu_mask(dX, self.A[l - 1], m, s[l])
            VW, Vb = self.VW, self.Vb
            B.sgd_linear(self.W[l], VW[l] if VW is not None else None, self.b[l], Vb[l] if Vb is not None else None,
                         inp, d, m, s[l], s[l + 1], lr, mu)
            if dX is not None:
                d = dX
        return loss

    def reset_momentum(self):
        B = self.B
        VW, Vb = self.VW, self.Vb
        if VW is None or Vb is None:
            return
        for l in range(len(self.W)):
            B.fill(VW[l], self.caps[l + 1], self.caps[l], 0.0)
            B.fill(Vb[l], 1, self.caps[l + 1], 0.0)

    def round_f32(self):
        """Round every weight to float32. Where the runtime float is wider (ulab on a float64
        build) the weights would otherwise hold more than a file stores; rounded after every
        change, the learner in RAM is always the one its file holds (FORMAT.md 4)."""
        B = self.B
        s = self.sizes
        for l in range(len(self.W)):
            B.round_f32(self.W[l], 0, s[l + 1], s[l])
            B.round_f32(self.b[l], 0, 1, s[l + 1])

    def finite(self):
        B = self.B
        s = self.sizes
        for l in range(len(self.W)):
            if not (B.all_finite(self.W[l], s[l + 1], s[l]) and B.all_finite(self.b[l], 1, s[l + 1])):
                return False
        return True

    def fit(self, batch_rows, n, order, epochs, lr, mu, rng, log=None):
        """_fit; with ncm_separate the nearest-mean head is left out while training (FORMAT.md 4):
        the network learns alone, and the head joins its logits to predict and to check."""
        head = self.ncm
        if self.ncm_separate:
            self.ncm = None
        try:
            return self._fit(batch_rows, n, order, epochs, lr, mu, rng, log)
        finally:
            self.ncm = head

    def _fit(self, batch_rows, n, order, epochs, lr, mu, rng, log=None):
        """Train on n rows for `epochs` shuffled epochs.

        batch_rows(order, i, m, Xb, labels, weights) puts rows order[i..i+m-1] into Xb with
        their labels and weights; `order` is a preallocated array of at least n slots (no list
        is grown here). Raises ArithmeticError on divergence (FORMAT.md 4); the caller
        restores the previous model. Returns the last epoch's mean loss.
        """
        Xb = self.Xb
        bl = self.bl
        bw = self.bw
        for i in range(n):
            order[i] = i
        self.reset_momentum()
        loss = 0.0
        for e in range(epochs):
            rng.shuffle(order, n)
            total = 0.0
            batches = 0
            i = 0
            while i < n:
                m = min(self.batch, n - i)
                batch_rows(order, i, m, Xb, bl, bw)
                total += self.step(Xb, bl, bw, m, lr, mu)
                batches += 1
                i += m
            loss = total / batches
            if not loss < LOSS_LIMIT:  # NaN included
                raise ArithmeticError("training diverged (loss %r at epoch %d); lower lr" % (loss, e + 1))
            if log is not None:
                log(e + 1, epochs, loss)
        if not self.finite():
            raise ArithmeticError("training produced non-finite weights; lower lr")
        self.round_f32()
        return loss

    def predict_into(self, batch_rows, n, out):
        """Class indices of n rows into out[0..n-1], a batch at a time; batch_rows(None, i, m,
        Xb, labels, weights) puts rows i..i+m-1 into Xb."""
        B = self.B
        i = 0
        while i < n:
            m = min(self.batch, n - i)
            batch_rows(None, i, m, self.Xb, self.bl, self.bw)
            B.argmax_rows(self.forward(self.Xb, m), m, self.sizes[-1], out, i)
            i += m
