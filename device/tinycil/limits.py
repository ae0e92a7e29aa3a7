# Every limit and default of tinycil, in one place: the device modules import them from
# here, the host reads this file (tinycil_host.limits), FORMAT.md quotes it, and a test
# fails when a copy drifts. Plain Python that CPython can import too.
VERSION = "0.4.0"          # the package (device and host)
FORMAT_VERSION = 6         # the learner file (FORMAT.md 2); versions 1 to 5 still load
DEFAULT_PATH = "/tinycil_data"
MIN_SAMPLES = 3            # fewer cannot be split into distillation and validation data
MAX_SAMPLES = 64           # default capacity of one learn_class call (option max_samples)
MAX_ABS = 1000.0           # largest feature magnitude accepted after input scaling
MAX_LABEL_BYTES = 40
LOSS_LIMIT = 100.0         # an epoch's mean loss at or above it is divergence (FORMAT.md 4)
FAR_BELOW = 0.25           # a check this far under its target is reported as not learned (FORMAT.md 7.5)
NOISE_WINDOWS = 64         # offsets into the replay-noise table (FORMAT.md 7.4)
MAX_REPEATS = 4            # most passes of the replay rows per epoch with replay noise
CHUNK = 8                  # embedding units drawn and processed at a time (FORMAT.md 5)
FRONT_BLOCK = 1024         # bytes of front-end weights read from the file at a time (FORMAT.md 8)

# new()'s capacity options and their defaults (HEAD records them)
NEW = (
    ("max_hidden", 32), ("min_hidden", 8), ("grow_step", 8), ("max_classes", 16), ("n_layers", 1),
    ("memory_bytes", 6400), ("target", 0.95), ("seed", 1),
)
# keyword -> default, in the order of the file's HYPR chunk (FORMAT.md 2)
HYPER = (
    ("lr", 0.3), ("momentum", 0.0), ("epochs", 10), ("batch", 16),
    ("distill_iters", 40), ("embed_dim", 32), ("distill_lr", 0.3), ("distill_momentum", 0.5),
    ("val_every", 5), ("train_on_real", 1), ("max_per_class", 10), ("replay_noise", 0.0),
    ("ncm_weight", 0.1), ("ncm_separate", 0), ("grow_undo", 0),
)
# (name, lowest, highest) of new()'s integer options
INT_RANGES = (
    ("n_inputs", 1, 4096), ("n_features", 1, 4096), ("max_hidden", 1, 1024), ("grow_step", 1, 1024),
    ("max_classes", 2, 255), ("n_layers", 1, 4), ("memory_bytes", 1, 1 << 30), ("max_samples", MIN_SAMPLES, 4096),
)
