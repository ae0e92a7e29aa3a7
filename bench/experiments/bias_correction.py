"""Bias correction (Wu et al., CVPR 2019, "Large scale incremental learning", BiC), tried on the
validation split only: does it pay on the board's learner?

After a class-incremental step the newest class has been trained on all of its real rows while
the old classes see a few replay samples, and the network favours it (recency bias). BiC fits
two numbers per step, a scale and an offset of the new classes' logits, on a class-balanced
set of stored samples, with the network frozen. Here one class arrives per step: after each
new class's learn_class, (alpha, beta) of its logit are fitted by minimising the class-balanced
cross-entropy of every stored row (the class means and replay samples, as the board keeps them)
and applied whenever the learner predicts, earlier classes keeping theirs. The learner's own
check (and so its growth) does not see them. On a board it would cost 8 bytes per class and one
multiply-add per class per prediction.

For each data set it reads the hyperparameters and growth rule the benchmark chose
(bench/results.json of the same commit) and runs, over the benchmark's validation class orders:
`ours` as the benchmark runs it, `ours` with bias correction, the fixed network with and without
it, and NCM on the same features. Writes bias_correction.md and bias_correction.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/bias_correction.py \
        --out bench/experiments [--dataset NAME ...]
"""
import sys
from pathlib import Path

import numpy as np

from tinycil_host import reference as ref

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (this folder's shared runner)

STEPS = 200   # Newton steps are overkill for two numbers: plain gradient descent, fixed length
LR = 0.5


def fit_bias(Z, y, c):
    """(alpha, beta) for column c of logits Z minimising the class-balanced cross-entropy of y."""
    w = 1.0 / np.bincount(y, minlength=Z.shape[1])[y]
    w = w / w.sum()
    a, b = 1.0, 0.0
    for _ in range(STEPS):
        Zc = Z.copy()
        Zc[:, c] = a * Z[:, c] + b
        P = np.exp(Zc - Zc.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        g = P[:, c] - (y == c)  # d loss / d logit c, per row
        a -= LR * float(np.sum(w * g * Z[:, c]))
        b -= LR * float(np.sum(w * g))
    return a, b


class BiasCorrected(ref.Learner):
    """The reference learner, with each new class's logit scaled and shifted as fitted on the
    stored rows right after its learn_class."""

    def learn_class(self, label, samples, *args, **kwargs):
        new = label not in self.classes
        report = super().learn_class(label, samples, *args, **kwargs)
        corr = getattr(self, "_bic", {})
        C = len(self.classes)
        if new and C > 1:
            rp = self.replay
            X = np.concatenate([rp.mean_values()[:C], rp.values()]).astype(np.float32)
            y = np.concatenate([np.arange(C), rp.cls.astype(np.int64)])
            corr[C - 1] = fit_bias(self._corrected(self.net.forward(X), corr), y, C - 1)
        self._bic = corr
        return report

    def _corrected(self, Z, corr):
        Z = np.array(Z, dtype=np.float64)
        for c, (a, b) in corr.items():
            if c < Z.shape[1]:
                Z[:, c] = a * Z[:, c] + b
        return Z

    def scores_batch(self, X):
        if not self.classes:
            raise ValueError("no classes learned yet")
        Z = self._corrected(self.net.forward(self.features(X)), getattr(self, "_bic", {}))
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        return P / P.sum(axis=1, keepdims=True)

    def predict_batch(self, X):
        if not self.classes:
            raise ValueError("no classes learned yet")
        return np.argmax(self.scores_batch(X), axis=1)


# (key, column label, learner class): each is run with ours and with the fixed network
VARIANTS = (("bic", "+BiC", BiasCorrected),)


def main(argv=None):
    return runner.variants_main(
        "bias_correction", __doc__, VARIANTS, "Bias correction of the newest class's logit, on validation",
        "+BiC: each new class's logit scaled and shifted as fitted on the stored rows after its learn_class.", argv)


if __name__ == "__main__":
    sys.exit(main())
