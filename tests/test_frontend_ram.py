"""A frozen front-end is most of a learner's bytes; on the unix port a loaded learner holds
it once (its int8 matrix), and this learner loads at 168wK, where the old double copy did
not fit (the old code needed more than 176wK for it)."""
import numpy as np

from tinycil_host import mpy
from tinycil_host import reference as ref
from tinycil_host.store import FrontLayer

N_IN, N_OUT = 784, 32
SCRIPT = """code:
import gc, tinycil
gc.collect(); f0 = gc.mem_free()
l = tinycil.load(%r, verbose=False, preallocate=False)
gc.collect(); f1 = gc.mem_free()
print('USED', f0 - f1, l.info()['n_features'])
"""


def _learner(path, n_inputs, frontend):
    l = ref.Learner(n_inputs, frontend=frontend, max_hidden=32, memory_bytes=6400, seed=1)
    l.save(str(path))
    return path


def _used(path, heap):
    r = mpy.run(SCRIPT % str(path), heap=heap, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]
    used, nf = r.stdout.split("USED ")[1].split()
    assert int(nf) == N_OUT
    return int(used)


def test_a_loaded_front_end_is_held_once(tmp_path):
    rng = np.random.default_rng(5)
    front = FrontLayer(rng.integers(-127, 128, (N_OUT, N_IN)), np.full(N_OUT, 0.01), np.zeros(N_OUT), False)
    with_front = _used(_learner(tmp_path / "front", N_IN, [front]), "168wK")
    plain = _used(_learner(tmp_path / "plain", N_OUT, None), "168wK")
    weights = N_OUT * N_IN
    # the difference is the weights once, plus the 784-wide input scaling and input row
    # (9 KB) and the interpreter's object headers (12.7 KB in all, measured); holding the
    # weights twice as before would add another 25 KB
    extra = with_front - plain
    assert weights < extra < weights + 16 * 1024, extra
