"""Power loss: a reset at any moment of learn_class + save leaves exactly the old or the new learner.

Two kinds of trial, both under the real MicroPython unix port, both ending in SIGKILL
(no finally blocks, no close, no flush: what a reset does to a running program):

* deterministic: tinycil.store's file operations (every write, the close, the remove,
  each rename) are counted by tests/device/reliability/power_trial.py and the process
  kills itself at operation K, after writing only a random prefix of that write (a torn
  write). K is drawn, seeded, from every stratum of the two saves (learn_class's own save
  and a following save()), and the close/remove/rename steps are always included;
* real-time: the host sends SIGKILL after a seeded random delay spread over the measured
  duration of learn_class + save (writes slowed so the save takes a good share of it).

After every trial a fresh interpreter loads the folder: it must load, and re-saving it
must give exactly the old learner's bytes or exactly the new one's (saves are
deterministic: equal bytes mean equal classes, weights, replay set and RNG state); saving
in place over whatever the reset left must work and reload to the same learner.
"""
import random
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "device" / "reliability"))
import harness  # noqa: E402

from tinycil_host import DEVICE_DIR, mpy  # noqa: E402

SEED = 20240904
N_OP_TRIALS = 50
N_KILL_TRIALS = 14
PER = 8
OPTS = ["epochs=2", "distill_iters=3", "min_hidden=16", "max_hidden=16"]


def _crc(p):
    return zlib.crc32(Path(p).read_bytes()) & 0xFFFFFFFF


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("power")
    data = tmp / "d.bin"
    harness.write_rows(data, harness.digit_blocks(range(10), PER))
    base = tmp / "base"
    harness.check(harness.run("build.py", data, PER, base, 3, *OPTS))
    # reference: the same learn_class + save with no kill
    ref = tmp / "ref"
    shutil.copytree(base, ref)
    out = harness.check(harness.run("power_trial.py", data, PER, ref, "ref"))
    ops = harness.tagged(out, "LIST")[0].split(";")
    assert int(harness.tagged(out, "OPS")[0]) == len(ops)
    # check the references through the same path the trials use
    scratch = tmp / "scratch"
    out = harness.check(harness.run("power_check.py", scratch, base, ref))
    res = {ln.split()[0]: ln.split()[1:] for ln in harness.tagged(out, "RES")}
    old = int(res[str(base)][0])
    new = int(res[str(ref)][0])
    assert old == _crc(base / "learner.bin"), "load + save of the old learner is not byte-identical"
    assert new == _crc(ref / "learner.bin"), "load + save of the new learner is not byte-identical"
    assert old != new
    return {"tmp": tmp, "data": data, "base": base, "ops": ops, "old": old, "new": new}


def _verify(setup, folders):
    """Load each folder in one fresh interpreter; returns {folder: (crc, crc after resave, classes)}."""
    out = harness.check(harness.run("power_check.py", setup["tmp"] / "scratch2", *folders, timeout=300))
    errs = harness.tagged(out, "ERR")
    assert not errs, "learner not loadable after a reset:\n" + "\n".join(errs)
    got = {}
    for ln in harness.tagged(out, "RES"):
        f, a, b, classes = ln.split()
        got[f] = (int(a), int(b), classes)
    assert len(got) == len(folders)
    return got


def test_power_loss_at_counted_file_operations(setup):
    ops = setup["ops"]
    n = len(ops)
    rng = random.Random(SEED)
    # always: the close, remove and rename steps of both saves; then one K per stratum
    ks = {i for i, o in enumerate(ops) if not o.startswith("write")}
    ks.add(0)
    ks.add(n - 1)
    edges = [round(i * n / N_OP_TRIALS) for i in range(N_OP_TRIALS + 1)]
    for a, b in zip(edges, edges[1:]):
        if b > a:
            ks.add(rng.randrange(a, b))
    ks = sorted(ks)
    assert len(ks) >= N_OP_TRIALS
    # the tmp -> bin rename of learn_class's save: a kill before it keeps the old learner
    commit = ops.index("rename learner.tmp learner.bin")
    folders = []
    torn = 0
    for k in ks:
        frac = rng.random()
        folder = setup["tmp"] / ("op%03d" % k)
        shutil.copytree(setup["base"], folder)
        r = harness.run("power_trial.py", setup["data"], PER, folder, "op", k, "%.3f" % frac)
        assert r.returncode == -signal.SIGKILL, "trial at op %d (%s) was not killed: %s %s" % (
            k, ops[k], r.stdout[-500:], r.stderr[-800:])
        torn += ops[k].startswith("write") and int(int(ops[k][5:]) * frac) > 0
        folders.append(folder)
    got = _verify(setup, folders)
    outcome = {"old": 0, "new": 0}
    for k, folder in zip(ks, folders):
        crc, crc2, classes = got[str(folder)]
        want = setup["old"] if k <= commit else setup["new"]
        assert crc in (setup["old"], setup["new"]), "op %d (%s): loaded learner is neither old nor new" % (k, ops[k])
        assert crc == want, "op %d (%s): got the %s learner" % (k, ops[k], "old" if crc == setup["old"] else "new")
        assert crc2 == crc, "op %d: saving in place after the reset changed the learner" % k
        assert classes.split(",")[-1] == ("new" if k > commit else "c2")
        outcome["old" if crc == setup["old"] else "new"] += 1
    print("\npower loss, counted ops: %d trials over %d file operations (%d torn writes): %d old, %d new"
          % (len(ks), n, torn, outcome["old"], outcome["new"]))
    assert outcome["old"] >= 10 and outcome["new"] >= 10


def _slow_run(setup, folder, delay):
    """Start a slowed trial; SIGKILL it `delay` s after it reports GO (None: let it finish).
    Returns (killed, seconds from GO to DONE or to the kill)."""
    import os
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join([str(DEVICE_DIR), str(harness.HERE), ".frozen"])
    cmd = [mpy.default_interpreter(), "-X", "heapsize=256wK", str(harness.HERE / "power_trial.py"),
           str(setup["data"]), str(PER), str(folder), "slow", "3"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("GO"), line + p.stderr.read()
    t0 = time.monotonic()
    if delay is None:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "DONE" in out, err
        return False, time.monotonic() - t0
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    return p.returncode == -signal.SIGKILL, time.monotonic() - t0


def test_power_loss_sigkill_at_random_moments(setup):
    rng = random.Random(SEED + 1)
    ref = setup["tmp"] / "slowref"
    shutil.copytree(setup["base"], ref)
    _, dur = _slow_run(setup, ref, None)
    folders = []
    killed = 0
    mid_save = 0
    for i in range(N_KILL_TRIALS):
        folder = setup["tmp"] / ("kill%02d" % i)
        shutil.copytree(setup["base"], folder)
        k, _ = _slow_run(setup, folder, rng.uniform(0.0, dur * 1.05))
        killed += k
        mid_save += (folder / "learner.tmp").exists()  # a save was cut short
        folders.append(folder)
    got = _verify(setup, folders + [ref])
    assert got[str(ref)][0] == setup["new"]
    outcome = {"old": 0, "new": 0}
    for folder in folders:
        crc, crc2, _ = got[str(folder)]
        assert crc in (setup["old"], setup["new"]), "%s: loaded learner is neither old nor new" % folder.name
        assert crc2 == crc
        outcome["old" if crc == setup["old"] else "new"] += 1
    print("\npower loss, SIGKILL: %d trials over %.2f s (learn_class + 2 slowed saves), %d killed, "
          "%d left a partial learner.tmp: %d old, %d new"
          % (N_KILL_TRIALS, dur, killed, mid_save, outcome["old"], outcome["new"]))
    assert killed >= N_KILL_TRIALS // 2
