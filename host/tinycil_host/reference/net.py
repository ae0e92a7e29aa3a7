"""Twin of device/tinycil/net.py: the growable MLP (FORMAT.md section 4) and its FLOPs."""
import numpy as np

from ..limits import LOSS_LIMIT
from .noise import add_noise
from .rng import init_scale

F32 = np.float32


def mlp_flops(sizes):
    """Inference FLOPs of dense layers of these sizes: 2 per multiply-add (FORMAT.md 4)."""
    return sum(2 * sizes[l] * sizes[l + 1] for l in range(len(sizes) - 1))


def mlp_params(sizes):
    return sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(len(sizes) - 1))


class Net:
    """Dense + ReLU hidden layers, softmax output; arrays hold only the active block."""

    def __init__(self, n_features, max_hidden, max_classes, n_layers=1, batch=16):
        self.caps = [n_features] + [max_hidden] * n_layers + [max_classes]
        self.sizes = [n_features] + [0] * n_layers + [0]
        self.batch = batch
        n = n_layers + 1
        self.W = [np.zeros((0, 0), F32) for _ in range(n)]
        self.b = [np.zeros(0, F32) for _ in range(n)]
        self._resize()
        self.reset_momentum()
        self.ncm = None   # (Q int8 means (C, nf), a (C,), b (C,)): the nearest-mean head (FORMAT.md 4)
        self.ncm_separate = False  # True: fit trains the network without the head (FORMAT.md 4)

    @property
    def hidden(self):
        return self.sizes[1:-1]

    @property
    def n_classes(self):
        return self.sizes[-1]

    def params(self):
        return mlp_params(self.sizes)

    def flops(self):
        return mlp_flops(self.sizes) + (2 * self.sizes[0] * self.sizes[-1] if self.ncm is not None else 0)

    def _resize(self):
        # grow arrays to the active sizes with zeros (new rows/columns are set by the caller)
        s = self.sizes
        for l in range(len(self.W)):
            W = np.zeros((s[l + 1], s[l]), F32)
            r, c = self.W[l].shape
            W[:min(r, s[l + 1]), :min(c, s[l])] = self.W[l][:s[l + 1], :s[l]]
            b = np.zeros(s[l + 1], F32)
            b[:min(r, s[l + 1])] = self.b[l][:s[l + 1]]
            self.W[l], self.b[l] = W, b

    def _grow_momentum(self):
        for l in range(len(self.W)):
            for name, like in (("VW", self.W[l]), ("Vb", self.b[l])):
                old = getattr(self, name)[l]
                new = np.zeros_like(like)
                new[tuple(slice(0, min(a, b)) for a, b in zip(old.shape, like.shape))] = \
                    old[tuple(slice(0, min(a, b)) for a, b in zip(old.shape, like.shape))]
                getattr(self, name)[l] = new

    def _init_rows(self, l, r0, r1, rng):
        n_in = self.sizes[l]
        self.W[l][r0:r1, :] = rng.matrix(r1 - r0, n_in, init_scale(n_in))
        self.b[l][r0:r1] = 0
        self.VW[l][r0:r1, :] = 0
        self.Vb[l][r0:r1] = 0

    def set_hidden(self, width, rng):
        """Widen every hidden layer to `width` (never narrows); the function is unchanged."""
        if width > self.caps[1]:
            raise ValueError("width %d exceeds max_hidden %d" % (width, self.caps[1]))
        for l in range(1, len(self.sizes) - 1):
            old = self.sizes[l]
            if width <= old:
                continue
            self.sizes[l] = width
            self._resize()
            self._grow_momentum()
            self._init_rows(l - 1, old, width, rng)
            # new units' outgoing weights (columns of layer l) are zero after _resize

    def narrow(self, width):
        """Drop the hidden units from `width` on (the board leaves them unused in its buffers)."""
        for l in range(1, len(self.sizes) - 1):
            self.sizes[l] = min(self.sizes[l], width)
        self._resize()
        self._grow_momentum()

    def add_class(self, rng):
        c = self.sizes[-1]
        if c >= self.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.caps[-1])
        self.sizes[-1] = c + 1
        self._resize()
        self._grow_momentum()
        self._init_rows(len(self.W) - 1, c, c + 1, rng)

    def remove_class(self, c):
        """Remove output unit c; the other outputs are unchanged."""
        self.sizes[-1] -= 1
        self.W[-1] = np.delete(self.W[-1], c, axis=0)
        self.b[-1] = np.delete(self.b[-1], c)
        self.reset_momentum()

    def reset_momentum(self):
        self.VW = [np.zeros_like(W) for W in self.W]
        self.Vb = [np.zeros_like(b) for b in self.b]

    def activations(self, X):
        """Outputs of every layer (hidden after ReLU, last = logits)."""
        A = []
        h = np.asarray(X, dtype=F32)
        last = len(self.W) - 1
        for l in range(last + 1):
            h = h @ self.W[l].T + self.b[l]
            if l == last and self.ncm is not None:
                Q, a, b = self.ncm
                h = h + ((np.asarray(X, dtype=F32) @ Q.T) * a + b).astype(F32)
            if l < last:
                h = np.maximum(h, F32(0))
            A.append(h)
        return A

    def forward(self, X):
        return self.activations(X)[-1]

    def predict(self, X):
        out = [np.argmax(self.forward(X[i:i + self.batch]), axis=1) for i in range(0, len(X), self.batch)]
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def gradients(self, X, labels, weights):
        """(loss, [dW], [db]) of the weighted mean cross-entropy on one batch."""
        X = np.asarray(X, dtype=F32)
        A = self.activations(X)
        Z = A[-1]
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        w = np.asarray(weights, dtype=np.float64)
        w = w / w.sum()
        rows = np.arange(len(labels))
        # log-sum-exp(z) - z[label]: no ceiling, so divergence shows in the loss (FORMAT.md 4)
        Z64 = Z.astype(np.float64)
        mx = Z64.max(axis=1)
        lse = mx + np.log(np.exp(Z64 - mx[:, None]).sum(axis=1))
        loss = float((w * (lse - Z64[rows, labels])).sum())
        d = P
        d[rows, labels] -= F32(1)
        d *= w.astype(F32)[:, None]
        gW = [None] * len(self.W)
        gb = [None] * len(self.W)
        for l in range(len(self.W) - 1, -1, -1):
            inp = X if l == 0 else A[l - 1]
            gW[l] = d.T @ inp
            gb[l] = d.sum(axis=0)
            if l > 0:
                d = (d @ self.W[l]) * (A[l - 1] > 0)
        return loss, gW, gb

    def step(self, X, labels, weights, lr, mu):
        """One momentum-SGD step (V = mu V - lr G; W += V); returns the batch loss."""
        loss, gW, gb = self.gradients(X, labels, weights)
        lr, mu = F32(lr), F32(mu)
        for l in range(len(self.W)):
            self.VW[l] = mu * self.VW[l] - lr * gW[l]
            self.W[l] += self.VW[l]
            self.Vb[l] = mu * self.Vb[l] - lr * gb[l]
            self.b[l] += self.Vb[l]
        return loss

    def fit(self, X, labels, weights, epochs, lr, mu, rng, log=None, noise=None, stored=None):
        """_fit; with ncm_separate the nearest-mean head is left out while training (FORMAT.md 4):
        the network learns alone, and the head joins its logits to predict and to check."""
        head = self.ncm
        if self.ncm_separate:
            self.ncm = None
        try:
            return self._fit(X, labels, weights, epochs, lr, mu, rng, log, noise, stored)
        finally:
            self.ncm = head

    def _fit(self, X, labels, weights, epochs, lr, mu, rng, log=None, noise=None, stored=None):
        """Shuffled mini-batch epochs over the rows of X; returns the last epoch's mean loss.

        The index list persists across epochs and is reshuffled each time, like the board's.
        Momentum starts at zero. Divergence raises ArithmeticError. noise = (n_noisy, table, a):
        a row k < n_noisy gets `a * table[o:o + nf]` added as it enters its batch, with
        o = rng.below(NOISE_WINDOWS) drawn row by row (FORMAT.md 7.4).
        """
        X = np.asarray(X, dtype=F32)
        labels = np.asarray(labels, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.float64)
        n = len(X)
        order = list(range(n))
        loss = 0.0
        self.reset_momentum()
        for e in range(epochs):
            rng.shuffle(order)
            total = 0.0
            batches = 0
            for i in range(0, n, self.batch):
                idx = order[i:i + self.batch]
                if stored is not None:  # the board gathers a batch's stored rows first (FORMAT.md 4)
                    idx = [k for k in idx if k < stored] + [k for k in idx if k >= stored]
                Xb = X[idx]
                if noise is not None:
                    add_noise(Xb, idx, noise, rng)
                total += self.step(Xb, labels[idx], weights[idx], lr, mu)
                batches += 1
            loss = total / batches
            if not loss < LOSS_LIMIT:  # NaN included (FORMAT.md 4)
                raise ArithmeticError("training diverged (loss %r at epoch %d); lower lr" % (loss, e + 1))
            if log is not None:
                log(e + 1, epochs, loss)
        if not all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in zip(self.W, self.b)):
            raise ArithmeticError("training produced non-finite weights; lower lr")
        return loss
