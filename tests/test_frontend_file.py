"""A frozen front-end's weights stay in the learner file by default (tinycil.load): the board
reads them FRONT_BLOCK bytes at a time as it computes features. Under the unix port, the same
learner loaded that way and with frontend_in_ram=True must give the same scores, learn the
same class into byte-identical files, and keep reading the right bytes after its saves
replace the file (and after a load that fell back to the backup copy)."""
import json

import numpy as np
import pytest

from tinycil_host import mpy
from tinycil_host import reference as ref
from tinycil_host import store as host_store
from tinycil_host.store import FrontLayer

SCRIPT = """code:
import sys, json, tinycil
path, mode, rows_file = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(rows_file))
l = tinycil.load(path, verbose=False, frontend_in_ram=(mode == 'ram'))
out = {'weights': l.info()['frontend_weights'], 'before': [l.scores(x) for x in d['test']]}
out['report'] = l.learn_class('new', d['learn'], verbose=False)['hidden']
out['after'] = [l.scores(x) for x in d['test']]
l.learn_class('newer', d['learn2'], verbose=False)
out['after2'] = [l.scores(x) for x in d['test']]
again = tinycil.load(path, verbose=False, frontend_in_ram=(mode == 'ram'))
out['reloaded'] = [again.scores(x) for x in d['test']]
print('OUT' + json.dumps(out))
"""

# (n_out, n_in, relu) per layer: a layer wider than FRONT_BLOCK (one row per read), and
# layers whose rows come in a full and a partial block, two views of one scratch block
SHAPES = {"one wide layer": [(8, 1100, True)], "two layers": [(16, 100, True), (8, 16, False)]}


def _learner(path, shapes, seed):
    rng = np.random.default_rng(seed)
    layers = [FrontLayer(rng.integers(-127, 128, (o, i)), rng.uniform(0.001, 0.02, o), rng.normal(0, 0.1, o), r)
              for (o, i, r) in shapes]
    n_in = shapes[0][1]
    # lr 0.01: this random front-end's features are tens wide, too wide for the default 0.3
    l = ref.Learner(n_in, frontend=layers, max_hidden=16, min_hidden=8, memory_bytes=1200, seed=1,
                    epochs=3, distill_iters=3, max_classes=6, lr=0.01)
    for c in range(2):
        X = rng.normal(c, 1.0, (15, n_in)).astype(np.float32)
        l.learn_class("base%d" % c, X)
    l.save(str(path))
    return rng, n_in


def _run(path, mode, rows_file):
    r = mpy.run(SCRIPT, args=[str(path), mode, str(rows_file)], heap="16M", timeout=600)  # rows as JSON lists
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.split("OUT", 1)[1])


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_front_end_read_from_the_file_equals_the_one_in_ram(tmp_path, shape):
    rng, n_in = _learner(tmp_path / "file", SHAPES[shape], 3)
    (tmp_path / "ram").mkdir()
    (tmp_path / "ram" / "learner.bin").write_bytes((tmp_path / "file" / "learner.bin").read_bytes())
    rows = {"test": rng.normal(0.5, 1.0, (6, n_in)).tolist(), "learn": rng.normal(2, 1.0, (15, n_in)).tolist(),
            "learn2": rng.normal(-1, 1.0, (15, n_in)).tolist()}
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(rows))
    got = {m: _run(tmp_path / m, m, rows_file) for m in ("file", "ram")}
    assert got["file"]["weights"] == "file" and got["ram"]["weights"] == "ram"
    for key in ("before", "after", "after2", "reloaded", "report"):
        assert got["file"][key] == got["ram"][key], key
    # the scores moved with the new classes, and the reloaded learner is the saved one
    assert len(got["file"]["after2"][0]) == 4 and got["file"]["reloaded"] == got["file"]["after2"]
    f, r = ((tmp_path / m / "learner.bin").read_bytes() for m in ("file", "ram"))
    assert f == r
    # two saves later the front-end is still the prepared one, bytes and all
    st = host_store.decode(f)
    want = host_store.decode((tmp_path / "file" / "learner.bak").read_bytes())
    for a, b in zip(st["frontend"], want["frontend"]):
        assert np.array_equal(a.q, b.q) and np.array_equal(a.scale, b.scale)


def test_front_end_read_from_the_backup_copy(tmp_path):
    """learner.bin is corrupt: load falls back to learner.bak and reads the front-end from it;
    learn_class's save then replaces both files and the learner follows its weights into the
    new learner.bin. Scores equal those of a learner that holds the front-end in RAM."""
    rng, n_in = _learner(tmp_path / "file", SHAPES["two layers"], 4)
    good = (tmp_path / "file" / "learner.bin").read_bytes()
    for m in ("file", "ram"):
        (tmp_path / m).mkdir(exist_ok=True)
        (tmp_path / m / "learner.bak").write_bytes(good)
        (tmp_path / m / "learner.bin").write_bytes(good[:len(good) // 2])  # a torn write
    rows = {"test": rng.normal(0.5, 1.0, (5, n_in)).tolist(), "learn": rng.normal(2, 1.0, (15, n_in)).tolist(),
            "learn2": rng.normal(-1, 1.0, (15, n_in)).tolist()}
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(rows))
    got = {m: _run(tmp_path / m, m, rows_file) for m in ("file", "ram")}
    for key in ("before", "after", "after2", "reloaded"):
        assert got["file"][key] == got["ram"][key], key
    assert host_store.decode((tmp_path / "file" / "learner.bin").read_bytes())["classes"][-1] == "newer"
