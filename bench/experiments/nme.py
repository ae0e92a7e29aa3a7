"""Nearest-mean-of-exemplars classification (Rebuffi et al., CVPR 2017, iCaRL's NME), tried on the
validation split only: does it pay on the board's learner?

iCaRL classifies by the nearest class mean in the network's learned feature space instead of
by its output layer, which the newest class biases. Here the learned features are the last
hidden layer's activations (after ReLU), L2-normalised as in iCaRL; each class's mean is taken
over every row the board stores of it (its mean and its replay samples, as int8 rows). The
learner trains, checks and grows as it does; only prediction changes. On a board it would cost
one hidden-width vector per class and C dot products per prediction instead of the output layer.

For each data set it reads the hyperparameters and growth rule the benchmark chose
(bench/results.json of the same commit) and runs, over the benchmark's validation class orders:
`ours` as the benchmark runs it, `ours` predicting by NME, the fixed network with and without
it, and NCM on the input features. Writes nme.md and nme.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/nme.py \
        --out bench/experiments [--dataset NAME ...]
"""
import sys
from pathlib import Path

import numpy as np

from tinycil_host import reference as ref

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (this folder's shared runner)


class NearestMeanOfExemplars(ref.Learner):
    """The reference learner predicting by the nearest (L2-normalised) mean of the hidden
    activations of each class's stored rows."""

    def _hidden(self, F):
        H = self.net.activations(F)[-2].astype(np.float64)
        return H / np.maximum(np.linalg.norm(H, axis=1, keepdims=True), 1e-12)

    def predict_batch(self, X):
        if not self.classes:
            raise ValueError("no classes learned yet")
        C = len(self.classes)
        rp = self.replay
        S = np.concatenate([rp.mean_values()[:C], rp.values()]).astype(np.float32)
        y = np.concatenate([np.arange(C), rp.cls.astype(np.int64)])
        H = self._hidden(S)
        M = np.stack([H[y == c].mean(axis=0) for c in range(C)])
        M /= np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-12)
        return np.argmax(self._hidden(self.features(X)) @ M.T, axis=1)


# (key, column label, learner class): each is run with ours and with the fixed network
VARIANTS = (("nme", "+NME", NearestMeanOfExemplars),)


def main(argv=None):
    return runner.variants_main(
        "nme", __doc__, VARIANTS, "Nearest-mean-of-exemplars prediction (iCaRL), on validation",
        "+NME: predicted by the nearest mean of the stored rows' hidden activations (L2-normalised).", argv)


if __name__ == "__main__":
    sys.exit(main())
