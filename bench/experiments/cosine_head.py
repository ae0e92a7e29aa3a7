"""A cosine-normalised output layer (Hou et al., CVPR 2019, "Learning a unified classifier
incrementally via rebalancing", LUCIR), tried on the validation split only: does it pay on the
board's learner?

With a linear output layer the newest class's weight row grows longer than the old ones (it
sees all of its real rows, the old classes a few replay samples) and its logits win: recency
bias. A cosine layer computes `s * cos(w_c, h) + b_c` from the last hidden layer's activations h,
so every class's row has the same length and only its direction counts. s is a fixed scale
(LUCIR learns it; here 5 and 10, the range LUCIR's learned scale takes); the gradient goes
through both normalisations. The nearest-mean head's logits are added as on the board
(FORMAT.md 4). On a board it would cost one norm per class row and per sample.

The learner prepared on the host (base classes, linear output) switches to the cosine layer at
its first learn_class and trains with it from then on; the growth rule, epochs and everything
else are the benchmark's. For each data set it reads the hyperparameters and growth rule the
benchmark chose (bench/results.json of the same commit) and runs, over the benchmark's
validation class orders: `ours` and the fixed network as the benchmark runs them, each with a
cosine layer at s = 5 and s = 10, and NCM on the same features. A width of 0 has no hidden
activations to normalise: there the layer is left linear. Writes cosine_head.md and
cosine_head.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/cosine_head.py \\
        --out bench/experiments [--dataset NAME ...]
"""
import sys
from pathlib import Path

import numpy as np

from tinycil_host import reference as ref
from tinycil_host.reference.net import Net

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (this folder's shared runner)

F32 = np.float32
EPS = 1e-6


class CosineNet(Net):
    """The reference Net with the output layer's dense product replaced by s * cos(w_c, h)."""
    SCALE = 10.0

    def _cosine(self):
        return len(self.W) > 1 and self.sizes[-2] > 0

    def _out(self, h):
        """(logits without the head, |h|, |w_c|, cos) of the output layer for hidden rows h."""
        W = self.W[-1]
        hn = np.sqrt((h * h).sum(axis=1, keepdims=True)) + EPS
        wn = np.sqrt((W * W).sum(axis=1)) + EPS
        cos = (h @ W.T) / hn / wn[None, :]
        return (self.SCALE * cos + self.b[-1]).astype(F32), hn, wn, cos

    def activations(self, X):
        if not self._cosine():
            return super().activations(X)
        A = []
        h = np.asarray(X, dtype=F32)
        last = len(self.W) - 1
        for l in range(last):
            h = np.maximum(h @ self.W[l].T + self.b[l], F32(0))
            A.append(h)
        z = self._out(h)[0]
        if self.ncm is not None:
            Q, a, b = self.ncm
            z = z + ((np.asarray(X, dtype=F32) @ Q.T) * a + b).astype(F32)
        A.append(z)
        return A

    def gradients(self, X, labels, weights):
        if not self._cosine():
            return super().gradients(X, labels, weights)
        X = np.asarray(X, dtype=F32)
        A = self.activations(X)
        Z = A[-1].astype(np.float64)
        w = np.asarray(weights, dtype=np.float64)
        w = w / w.sum()
        rows = np.arange(len(labels))
        mx = Z.max(axis=1)
        lse = mx + np.log(np.exp(Z - mx[:, None]).sum(axis=1))
        loss = float((w * (lse - Z[rows, labels])).sum())
        d = np.exp(Z - lse[:, None])
        d[rows, labels] -= 1.0
        d *= w[:, None]                      # d loss / d logit
        last = len(self.W) - 1
        h = A[last - 1].astype(np.float64)
        W = self.W[last].astype(np.float64)
        _, hn, wn, cos = self._out(A[last - 1])
        hn, wn, cos = hn.astype(np.float64), wn.astype(np.float64), cos.astype(np.float64)
        dc = self.SCALE * d                  # d loss / d cos
        # cos = (w . h) / (|w| |h|): d/dw = h/(|w||h|) - cos w/|w|^2, d/dh = w/(|w||h|) - cos h/|h|^2
        gW = [None] * len(self.W)
        gb = [None] * len(self.W)
        gW[last] = ((dc / hn).T @ h) / wn[:, None] - (dc * cos).sum(axis=0)[:, None] * W / (wn * wn)[:, None]
        gb[last] = d.sum(axis=0)
        dh = ((dc / hn) / wn[None, :]) @ W - (dc * cos).sum(axis=1, keepdims=True) * h / (hn * hn)
        g = dh * (A[last - 1] > 0)
        for l in range(last - 1, -1, -1):
            inp = X if l == 0 else A[l - 1]
            gW[l] = g.T @ inp
            gb[l] = g.sum(axis=0)
            if l > 0:
                g = (g @ self.W[l]) * (A[l - 1] > 0)
        gW = [np.asarray(v, dtype=F32) for v in gW]
        gb = [np.asarray(v, dtype=F32) for v in gb]
        return loss, gW, gb


class CosineNet5(CosineNet):
    SCALE = 5.0


class _Cosine(ref.Learner):
    """The reference learner with its output layer made a cosine one from its first learn_class."""
    NET = CosineNet

    def learn_class(self, *args, **kwargs):
        self.net.__class__ = self.NET  # again after every call: a restore makes a plain Net
        try:
            return super().learn_class(*args, **kwargs)
        finally:
            self.net.__class__ = self.NET


class Cosine10(_Cosine):
    NET = CosineNet


class Cosine5(_Cosine):
    NET = CosineNet5


# (key, column label, learner class): each is run with ours and with the fixed network
VARIANTS = (("cos5", "cos 5", Cosine5), ("cos10", "cos 10", Cosine10))


def main(argv=None):
    return runner.variants_main(
        "cosine_head", __doc__, VARIANTS, "A cosine-normalised output layer, on validation",
        "cos s: the output layer computes s * cos(w_c, h) + b_c from its first learn_class on.", argv)


if __name__ == "__main__":
    sys.exit(main())
