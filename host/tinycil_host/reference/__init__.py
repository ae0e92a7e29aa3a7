"""NumPy float32 reference of everything the board does, written from device/FORMAT.md.

Same nouns as the board; same random draws in the same order (xorshift32), so a
learner built here from a seed ends where the board's ends, up to float rounding.

    from tinycil_host.reference import Learner
    l = Learner(n_inputs=64, max_hidden=32, memory_bytes=6400, target=0.95, seed=1,
                input_offset=..., input_scale=..., frontend=[FrontLayer, ...], lr=0.05, ...)
    report = l.learn_class("clap", X)          # X: (n, n_inputs), 3..200 rows; dict as on the board
    l.predict_batch(X) -> int indices           l.predict(x) -> label
    l.scores_batch(X) -> (n, classes) probs     l.scores(x) -> probs of one sample
    l.features(X) -> (n, n_features)            # input scaling + front-end, what the net sees
    l.info() -> dict as on the board            l.state() / Learner.from_state(st)
    l.save(folder, weights="f32"|"int8")        Learner.load(folder)

Building blocks, usable alone: Rng, Net (forward, gradients, step, fit, set_hidden,
add_class), herding_order, distill, Replay, quantize_rows (in store).

One module per device module, under the same name, so the host twin of
device/tinycil/X.py is reference/X.py: rng, net, distill, replay, noise, samples, state,
forget, learner.
ram.py has no device twin: it counts the bytes the device's buffers take (FORMAT.md 8).
The file format's twin (device/tinycil/store.py, store_read.py) is tinycil_host/store.py.

Arithmetic is float32 (weights, activations, gradients, distillation). Three things
are computed from float32 values in float64 on purpose, because they are decisions or
exact rules rather than arithmetic: the int8 rounding (byte-exact with the board),
herding's distance comparison (a choice of index) and the scalar losses.
"""
# the names callers use as `reference.X`
from .distill import distill, distill_class, herding_order
from ..limits import HYPER, MAX_ABS, MAX_LABEL_BYTES, MAX_SAMPLES, MIN_SAMPLES
from .learner import BOARD_MAX_SAMPLES, Learner, balanced_accuracy
from .samples import split_rows, train_rows
from .net import Net, mlp_flops, mlp_params
from .noise import MAX_REPEATS, NOISE_WINDOWS, noise_amplitude, noise_table, replay_repeats
from .ram import board_ram
from .replay import Replay, sample_bytes
from .rng import Rng

__all__ = [
    "BOARD_MAX_SAMPLES", "HYPER", "MAX_ABS", "MAX_LABEL_BYTES", "MAX_REPEATS", "MAX_SAMPLES", "MIN_SAMPLES",
    "NOISE_WINDOWS", "Learner", "Net", "Replay", "Rng", "balanced_accuracy", "board_ram", "distill",
    "distill_class", "herding_order", "mlp_flops", "mlp_params", "noise_amplitude", "noise_table",
    "replay_repeats", "sample_bytes", "split_rows", "train_rows",
]
