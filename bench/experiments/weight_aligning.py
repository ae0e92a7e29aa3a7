"""Weight aligning (Zhao et al., CVPR 2020, "Maintaining discrimination and fairness in class
incremental learning"), tried on the validation split only: does it pay on the board's learner?

After a class-incremental step the new class's output weights are trained on all of its real
rows while the old classes see a few replay samples; the new row's norm grows and the network
favours the newest class (recency bias). Weight aligning rescales the new class's output row
after its learn_class so its norm is the mean norm of the older rows (the bias is left alone,
as in the paper). It costs one pass over the output layer and needs no buffer.

For each data set it reads the hyperparameters and growth rule the benchmark chose
(bench/results.json of the same commit) and runs, over the benchmark's validation class orders:
`ours` as the benchmark runs it, `ours` with weight aligning, the fixed network with and without
it, and NCM on the same features. Writes weight_aligning.md and weight_aligning.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/weight_aligning.py \
        --out bench/experiments [--dataset NAME ...]
"""
import sys
from pathlib import Path

import numpy as np

from tinycil_host import reference as ref

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (this folder's shared runner)


class WeightAligned(ref.Learner):
    """The reference learner, with the new class's output row rescaled after each new class."""

    def learn_class(self, label, samples, *args, **kwargs):
        new = label not in self.classes
        report = super().learn_class(label, samples, *args, **kwargs)
        W = self.net.W[-1]
        if new and len(W) > 1:
            norms = np.linalg.norm(W.astype(np.float64), axis=1)
            if norms[-1] > 0:
                W[-1] = (W[-1] * (norms[:-1].mean() / norms[-1])).astype(W.dtype)
        return report


# (key, column label, learner class): each is run with ours and with the fixed network
VARIANTS = (("wa", "+WA", WeightAligned),)


def main(argv=None):
    return runner.variants_main(
        "weight_aligning", __doc__, VARIANTS, "Weight aligning of the output layer, on validation",
        "+WA: the new class's output row rescaled to the older rows' mean norm after each new class.", argv)


if __name__ == "__main__":
    sys.exit(main())
