"""The benchmark's fixed choices: data sets, methods, the grids chosen on validation, a board's limits.

The bottom of the bench package: the other modules read their constants here, and this one
imports none of them.
"""
from ..errors import UserError


class BenchError(UserError):
    """A benchmark option or data set the benchmark cannot use."""


ALL_DATASETS = ("mnist", "har_raw", "speech_commands_v2_12cls", "fsdd_logmel", "cifar10_jpg_subset", "digits")
LEARNER_METHODS = ("ours", "fixed", "random", "herding")
METHODS = LEARNER_METHODS + ("knn", "ncm", "naive", "joint")
SWEEP = (0.5, 1.0, 2.0)
SWEEP_METHODS = ("ours", "fixed", "random", "herding", "knn")
KNN_K = (1, 3, 5)
SELECTABLE = ("lr", "epochs", "distill_lr", "replay_noise", "ncm_weight", "ncm_separate")
INT_SELECTABLE = ("epochs", "ncm_separate")
TOLERANCES = (0.02, 0.05, 0.1, 0.2, 0.4, 1.0)   # growth target = fixed base val. accuracy - tolerance
GROW_STEPS = (8, 16)   # widening per growth step, chosen with the tolerance
MIN_HIDDENS = (0, 8, 16, 32)   # where prepare's size search starts (0: the nearest-mean head alone), chosen with them
GROW_UNDOS = (0, 1)   # grow_undo: a widening that does not raise the check kept (0) or dropped (1), chosen with them
SELECT_ORDERS = 3   # class orders every validation choice averages, unless --select-orders says otherwise
RAM_LIMIT = 96 * 1024
WIDTHS = (64, 48, 32, 24, 16)   # max_hidden candidates, widest first
CURVE_WIDTHS = (8, 16, 24, 32, 48)   # fixed widths tried on validation below max_hidden (width_curve)
FLASH_LIMIT = 256 * 1024
N_BASE = 2   # base classes of the default protocol; --base-classes half gives the common B50 setting
VAL_FRACTION = 0.2
UNLABELLED_ROWS = 4000   # training rows (all classes, no labels) a --frontend-fit unlabelled PCA sees
# front-end output size per data set before select_features (None: the raw inputs are small
# enough to train on)
N_FEATURES = {"digits": None, "mnist": 32, "har_raw": 32, "speech_commands_v2_12cls": 32,
              "fsdd_logmel": 32, "cifar10_jpg_subset": 32}
FEATURE_CHOICES = (8, 16, 24, 32)   # front-end output sizes tried on validation (select_features)
NOT_AVAILABLE = {"core50": "CORe50 (128x128 video frames of 50 objects, several GB) is not available offline "
                           "(see ../shared/data/README.md, 'Not obtained'); it is not benchmarked."}

# learner options per variant (on top of the shared hyperparameters)
VARIANTS = {
    "ours": {},
    "fixed": {"fixed": True},
    "herding": {"fixed": True, "distill_iters": 0},
    "random": {"fixed": True, "exemplars": "random"},
}


# ---- bench-device (boards.py) ----------------------------------------------------------------
GOAL_KB = {"digits": 64, "mnist": 110}   # the issue's heaps: 64 KB (ESP32 at start), 110 KB (ESP32's most)
CLOCKS_MHZ = (133, 240)                 # RP2040 (Pico), ESP32
# the benchmark's MNIST learner (bench/report.md: PCA 784 -> 32, max_hidden 64, size search from
# 32 units in steps of 8, 1 % = 21,600 bytes of replay, max_per_class 64, replay noise 0.5, growth
# undone when it does not pay; a test checks these
# against bench/results.json); two epochs, five distillation steps: the buffers, so the RAM, do not
# depend on them, the run time does
MNIST_LEARNER = dict(max_hidden=64, min_hidden=32, grow_step=8, tolerance=0.2, max_classes=10, memory_bytes=21600,
                     frontend_kind="pca", features=32, epochs=2, distill_iters=5, max_per_class=64,
                     replay_noise=0.5, lr=0.2, ncm_weight=1.0, ncm_separate=0, grow_undo=1)
MNIST_BASE, MNIST_NEW, MNIST_CALL, MNIST_TEST = (0, 1), (2, 3), 10, 50
