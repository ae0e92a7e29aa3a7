"""GDumb-style retraining from the memory (Prabhu et al., ECCV 2020, "GDumb: a simple approach
that questions our progress in continual learning"), tried on the validation split only: does
training from scratch at every class pay on the board's learner?

GDumb keeps a class-balanced memory and, whenever it is asked to predict, trains a network from
scratch on that memory alone. The board's learn_class already trains on everything it stores
(each class's mean and distilled replay rows, and the new class's real rows) and keeps the
memory class-balanced (FORMAT.md 7.7); what differs is the start: it fine-tunes the weights it
has, GDumb draws them afresh. Here every learn_class's first fit starts from newly drawn weights
at the current width (the generator's init, FORMAT.md 4); a refit after a widening continues
from the widened network as the board's does. The same epochs, and twice as many (a network
trained from scratch may need more), are run.

For each data set it reads the hyperparameters and growth rule the benchmark chose
(bench/results.json of the same commit) and runs, over the benchmark's validation class orders:
`ours` as the benchmark runs it, `ours` retrained from scratch at each class (epochs x1, x2),
the fixed network the same way, and NCM on the same features. Writes gdumb.md and gdumb.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/gdumb.py \\
        --out bench/experiments [--dataset NAME ...]
"""
import sys
from pathlib import Path

from tinycil_host import reference as ref

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (this folder's shared runner)


class FromScratch(ref.Learner):
    """The reference learner, whose first fit of each learn_class starts from new weights."""
    EPOCH_FACTOR = 1

    def train(self, T, log, refit=False):
        if not refit:
            net = self.net
            for l in range(len(net.W)):
                net._init_rows(l, 0, net.sizes[l + 1], self.rng)
            net.reset_momentum()
        if refit or self.EPOCH_FACTOR == 1:
            return super().train(T, log, refit)
        epochs = self.hp["epochs"]
        self.hp["epochs"] = epochs * self.EPOCH_FACTOR
        try:
            return super().train(T, log, refit)
        finally:
            self.hp["epochs"] = epochs


class FromScratchTwice(FromScratch):
    EPOCH_FACTOR = 2


# (key, column label, learner class): each is run with ours and with the fixed network
VARIANTS = (("scratch", "scratch", FromScratch), ("scratch2", "scratch x2", FromScratchTwice))


def main(argv=None):
    return runner.variants_main(
        "gdumb", __doc__, VARIANTS, "GDumb-style retraining from the memory at every class, on validation",
        "scratch: each learn_class's first fit starts from newly drawn weights (x2: with twice the epochs).", argv)


if __name__ == "__main__":
    sys.exit(main())
