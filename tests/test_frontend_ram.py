"""A frozen front-end is most of a learner's bytes. On the unix port a loaded learner reads its
weights from the file by default, holding none of them; with frontend_in_ram=True it holds them
once (its int8 matrix; an older version held them twice and needed more than 176wK here)."""
import numpy as np

from tinycil_host import mpy
from tinycil_host import reference as ref
from tinycil_host.store import FrontLayer

N_IN, N_OUT = 784, 32
SCRIPT = """code:
import gc, tinycil
def load():
    return tinycil.load(%r, verbose=False, preallocate=False, frontend_in_ram=%r)
# a first load imports what load needs and interns the names it makes: a grown string
# pool (a few KB, wherever the pool happens to fill) is the interpreter's, not the learner's
l = load(); l = None
gc.collect(); f0 = gc.mem_free()
l = load()
gc.collect(); f1 = gc.mem_free()
print('USED', f0 - f1, l.info()['n_features'])
"""


def _learner(path, n_inputs, frontend):
    l = ref.Learner(n_inputs, frontend=frontend, max_hidden=32, memory_bytes=6400, seed=1)
    l.save(str(path))
    return path


def _used(path, heap, in_ram=False):
    r = mpy.run(SCRIPT % (str(path), in_ram), heap=heap, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]
    used, nf = r.stdout.split("USED ")[1].split()
    assert int(nf) == N_OUT
    return int(used)


def _front(tmp_path):
    rng = np.random.default_rng(5)
    front = FrontLayer(rng.integers(-127, 128, (N_OUT, N_IN)), np.full(N_OUT, 0.01), np.zeros(N_OUT), False)
    return _learner(tmp_path / "front", N_IN, [front])


def test_a_loaded_front_end_costs_its_weights_once_in_ram_and_not_at_all_from_the_file(tmp_path):
    front = _front(tmp_path)
    plain = _used(_learner(tmp_path / "plain", N_OUT, None), "168wK")
    weights = N_OUT * N_IN
    # either way the extra holds the 784-wide input scaling and input row (9 KB) and the
    # interpreter's object headers; read from the file it adds a 784-byte block, in RAM the
    # 25 KB of weights (the module's code is counted in neither: the first load imported it)
    from_file = _used(front, "168wK") - plain
    in_ram = _used(front, "168wK", in_ram=True) - plain
    print("extra heap: weights read from the file %d bytes, held in RAM %d" % (from_file, in_ram))
    assert from_file < 14 * 1024 < weights, from_file
    assert weights < in_ram < weights + 14 * 1024, in_ram
    assert in_ram - from_file >= weights - 1024


def _first_heap_that_loads(path, in_ram):
    """Walking up from a heap too small to import the package, 4wK at a time: the first heap at
    which the learner loads (where the blocks land depends on the heap's size, so a heap above
    it may fail again; the first one is what a user trying sizes would find), and its output."""
    for kw in range(72, 400, 4):
        r = mpy.run(SCRIPT % (str(path), in_ram), heap="%dwK" % kw, timeout=120)
        if r.returncode == 0:
            return kw, r.stdout + r.stderr
        last = r.stdout + r.stderr
    raise AssertionError("no heap up to 400wK loads it: " + last[-800:])


def test_a_front_end_read_from_the_file_loads_in_a_heap_where_one_in_ram_does_not(tmp_path):
    # in RAM its 25 KB matrix is one more block, as large as the weights (12 wK on this 64-bit port)
    front = _front(tmp_path)
    from_file, _ = _first_heap_that_loads(front, False)
    in_ram, _ = _first_heap_that_loads(front, True)
    print("first heap that loads it: weights read from the file %dwK, held in RAM %dwK" % (from_file, in_ram))
    assert in_ram - from_file >= 8, (from_file, in_ram)
    r = mpy.run(SCRIPT % (str(front), True), heap="%dwK" % (in_ram - 4), timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "MemoryError" in out or "%d bytes of front-end weights do not fit in free RAM" % (N_OUT * N_IN) in out, out
