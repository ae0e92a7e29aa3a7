"""The host's RAM figures (reference.board_ram, used by the benchmark's 96 KB check) are the
buffers the device code really allocates: real device Learners (pure backend, run here under
CPython, where array('f') is float32 as on a board) are walked and their arrays summed.
"""
import sys
from array import array
from pathlib import Path

import numpy as np
import pytest

from tinycil_host import reference as ref

DEVICE = str(Path(__file__).resolve().parent.parent / "device")


@pytest.fixture(scope="module")
def device_learner():
    sys.path.insert(0, DEVICE)
    try:
        from tinycil.learner import Learner
        yield Learner
    finally:
        sys.path.remove(DEVICE)
        for name in [m for m in sys.modules if m == "tinycil" or m.startswith("tinycil.")]:
            del sys.modules[name]


def buffer_bytes(obj, seen):
    """Bytes of every array, bytes and bytearray reachable from obj (skipping the backend module)."""
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, array):
        return len(obj) * obj.itemsize
    if isinstance(obj, (bytes, bytearray)):
        return len(obj)
    if isinstance(obj, (list, tuple)):
        return sum(buffer_bytes(x, seen) for x in obj)
    if isinstance(obj, dict):
        return sum(buffer_bytes(x, seen) for x in obj.values())
    if type(obj).__module__.startswith("tinycil."):
        return sum(buffer_bytes(v, seen) for k, v in vars(obj).items() if k != "B")
    return 0


PARTS = {  # the replay set first: the net's nearest-mean head refers to its rows
    "replay": ("replay",),
    "net": ("net", "_ncm_a", "_ncm_b"),
    "input": ("offset", "scale", "_xin", "_x", "_y"),
    "learn_class": ("_ws",),
}


def pca_frontend(n_in, n_out):
    return [(bytes(n_out * n_in), n_out, n_in, False, [0.01] * n_out, [0.0] * n_out)]


CONFIGS = [
    # the board's defaults on digits-sized inputs
    dict(n_inputs=64),
    # an MNIST-sized learner behind a PCA front-end, the benchmark's large budget
    dict(n_inputs=784, n_features=32, max_hidden=48, max_classes=10, memory_bytes=21600, max_per_class=200,
         max_samples=50, frontend=pca_frontend(784, 32)),
    # two hidden layers, small batch and embedding, max_per_class below max_samples
    dict(n_inputs=20, max_hidden=24, min_hidden=8, max_classes=5, n_layers=2, memory_bytes=500, batch=8,
         embed_dim=4, max_per_class=3, max_samples=12),
    # the distiller's rows: the most training rows of a call, 12 - 12 // 5 = 10 ...
    dict(n_inputs=8, memory_bytes=2000, max_per_class=50, max_samples=12),
    # ... 9 at 9 samples (below 2 * val_every no row is held out) ...
    dict(n_inputs=8, memory_bytes=2000, max_per_class=50, max_samples=9),
    # ... and 9 at 11 (2 held out); all 30 without validation rows
    dict(n_inputs=8, memory_bytes=2000, max_per_class=50, max_samples=11),
    dict(n_inputs=8, memory_bytes=2000, max_per_class=50, max_samples=30, val_every=1),
    # replay noise: a longer training order (4 cap here) and the noise table ...
    dict(n_inputs=64, memory_bytes=980, replay_noise=0.5),
    # ... the order bounded by S C instead (4 cap would be more) ...
    dict(n_inputs=8, memory_bytes=360, max_classes=3, max_samples=20, replay_noise=0.5),
    # ... and by cap (more than S C and 4 cap can give)
    dict(n_inputs=8, memory_bytes=2400, max_classes=2, max_samples=10, replay_noise=0.25),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=["digits-defaults", "mnist-pca", "two-layers", "k-10", "k-9", "k-9b",
                                            "no-validation", "noise-4cap", "noise-SC", "noise-cap"])
def test_board_ram_is_what_the_device_allocates(device_learner, cfg):
    cfg = dict(cfg)
    lrn = device_learner(path=None, **cfg)
    seen = set()
    measured = {part: sum(buffer_bytes(getattr(lrn, a), seen) for a in attrs) for part, attrs in PARTS.items()}
    # nothing outside the listed attributes holds a buffer, except the front-end
    rest = sum(buffer_bytes(v, seen) for k, v in vars(lrn).items() if not k.startswith("_frontend"))
    assert rest == 0
    front = cfg.pop("frontend", None)
    n_inputs = cfg.pop("n_inputs")
    n_features = cfg.pop("n_features", n_inputs)
    cfg.pop("min_hidden", None)
    want = ref.board_ram(n_inputs, n_features, cfg.pop("max_hidden", 32), cfg.pop("max_classes", 16),
                         widest_frontend=max([f[1] for f in front]) if front else 0, **cfg)
    assert {p: want[p] for p in PARTS} == measured
    assert want["total"] == sum(measured.values())


def test_preallocate_false_defers_only_the_workspace(device_learner):
    lrn = device_learner(64, path=None, preallocate=False)
    seen = set()
    assert lrn._ws is None
    want = ref.board_ram(64, 64, 32, 16)
    assert sum(buffer_bytes(getattr(lrn, a), seen) for a in PARTS["net"]) == want["net"]


@pytest.mark.parametrize("shapes", [[(12, 100, False)], [(24, 100, True), (12, 24, False)],
                                    [(30, 100, True), (16, 30, True), (12, 16, False)]], ids=["1", "2", "3"])
def test_frontend_layers_fit_the_trimmed_rows(device_learner, shapes):
    """Only the input row is n_inputs wide; front-end layers alternate between it and the narrow
    row, call after call, and give the reference's features."""
    from tinycil_host.store import FrontLayer
    rng = np.random.default_rng(3)
    host = [FrontLayer(rng.integers(-127, 128, (o, i)), rng.uniform(0.001, 0.01, o), rng.normal(0, 0.1, o), relu)
            for o, i, relu in shapes]
    dev = [(f.q.tobytes(), f.q.shape[0], f.q.shape[1], f.relu, list(map(float, f.scale)), list(map(float, f.bias)))
           for f in host]
    off, sc = rng.normal(0, 1, 100).astype(np.float32), rng.uniform(0.5, 2, 100).astype(np.float32)
    lrn = device_learner(100, 12, frontend=dev, input_offset=list(map(float, off)),
                         input_scale=list(map(float, sc)), path=None)
    X = rng.normal(0, 3, (4, 100)).astype(np.float32)
    want = ref.Learner(100, 12, frontend=host, input_offset=off, input_scale=sc).features(X)
    from tinycil.samples import feature_row
    got = []
    for x in X:
        got.append(list(lrn.B.row(feature_row(lrn, list(map(float, x)), "x"), 0, 12)))
    np.testing.assert_allclose(np.array(got), want, rtol=1e-4, atol=1e-4)


def test_distiller_rows_suffice_for_every_call_size(device_learner):
    """With max_per_class above a call's training rows, every call size up to max_samples
    distils all of its training rows in the distiller sized by FORMAT.md 8."""
    import random
    rnd = random.Random(5)
    lrn = device_learner(8, memory_bytes=4000, max_per_class=50, max_samples=11, epochs=1, distill_iters=2,
                         max_hidden=8, path=None)
    for c, n in enumerate((11, 9, 10, 3)):
        rep = lrn.learn_class("c%d" % c, [[rnd.gauss(c, 1) for _ in range(8)] for _ in range(n)], verbose=False)
        assert rep["synthetic_samples"] == (n - n // 5 if n >= 10 else n)


def test_prepare_states_the_ram_of_the_learner_it_writes(device_learner, tmp_path, wide_digits):
    """prepare's summary gives the board RAM of its learner; the device package loading that
    file (default max_samples) allocates exactly that."""
    from tinycil_host.prepare import prepare_learner
    s, _ = prepare_learner(str(wide_digits), ["3", "4"], out=tmp_path / "l", features=16, base_epochs=2, target=0.5,
                           memory_bytes=800, max_classes=6, progress=False)
    import tinycil
    lrn = tinycil.load(str(tmp_path / "l"), verbose=False)
    seen = set()
    measured = {part: sum(buffer_bytes(getattr(lrn, a), seen) for a in attrs) for part, attrs in PARTS.items()}
    assert {p: s["board_ram"][p] for p in PARTS} == measured


def test_the_front_end_is_held_once_and_saved_from_that_copy(device_learner, tmp_path):
    """A front-end is most of a learner's bytes (PCA 784 -> 32: 25 KB): the learner keeps only
    its int8 matrix, scales and biases, and writes the file from them."""
    sys.path.insert(0, DEVICE)
    try:
        from tinycil import store
        from tinycil.state import to_state
        rng = np.random.default_rng(3)
        q = rng.integers(-127, 128, (32, 784)).astype(np.int8).tobytes()
        front = [(q, 32, 784, False, [0.01] * 32, [0.5] * 32)]
        lrn = device_learner(784, n_features=32, path=None, preallocate=False, frontend=front)
        seen = set()
        held = sum(buffer_bytes(v, seen) for k, v in vars(lrn).items() if k.startswith("_frontend"))
        assert held == 32 * 784 + 8 * 32
        image = bytes(store.encode(to_state(lrn)))
        st = store.decode(image)
        (q2, n_out, n_in, relu, sc, bias), = st["frontend"]
        assert (q2, n_out, n_in, relu) == (q, 32, 784, False)
        assert list(sc) == [np.float32(0.01)] * 32 and list(bias) == [0.5] * 32
    finally:
        sys.path.remove(DEVICE)
