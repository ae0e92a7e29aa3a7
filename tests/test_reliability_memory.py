"""Memory exhaustion: learn_class that cannot finish raises MemoryError with advice and
leaves the learner as it was.

A three-class learner (64 inputs, max_hidden 32) is saved by a roomy interpreter. Then:

* heap sweep: fresh interpreters started with ``-X heapsize=`` from too small to load
  up to comfortably large load it (preallocate=False: learn_class takes its own
  workspace, so it is the call that runs out) and call learn_class with 20 new samples;
* ballast sweep: in a 256wK interpreter, the heap is filled with ballast until a seeded
  amount of RAM is left, over a range that crosses the point where learn_class fits,
  so failures land at different moments inside learn_class.

Every learn_class either succeeds or raises MemoryError; after a MemoryError the learner
in RAM has the same classes and predictions, its file is byte-identical, and a fresh
interpreter loads it to exactly the same learner. Every MemoryError out of learn_class
must say what to shrink.
"""
import random
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "device" / "reliability"))
import harness  # noqa: E402

SEED = 77
# the heap sweep walks up from a heap too small to load the package, 4wK at a time, then from
# the last heap that could not load 1wK at a time (between loading and learning there are only
# a few wK), until learn_class has fitted OK_HEAPS times: wherever the code's size puts those points
HEAP_START, HEAP_STEP, HEAP_LIMIT, OK_HEAPS = 80, 4, 320, 3
N_BALLAST = 14


def _parse(out):
    trials = []
    cur = None
    for ln in out.splitlines():
        if ln.startswith("TRIAL "):
            leave, left, outcome, *msg = ln.split(" ", 4)[1:]
            cur = {"leave": leave, "left": int(left), "outcome": outcome, "msg": msg[0] if msg else "",
                   "chk": None, "reload": None}
            trials.append(cur)
        elif ln.startswith("CHK "):
            cur["chk"] = ln.split()[1:]
        elif ln.startswith("RELOAD "):
            cur["reload"] = ln[7:]
    return trials


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mem")
    data, base = harness.build_learner(tmp, "base", 4, 20, 3, "epochs=3", "distill_iters=5", heap="512wK")
    base_crc = zlib.crc32((base / "learner.bin").read_bytes()) & 0xFFFFFFFF
    trials = []
    folders = []
    oks = 0
    kw, step, i = HEAP_START, HEAP_STEP, 0
    while kw < HEAP_LIMIT and oks < OK_HEAPS:
        heap = "%dwK" % kw
        work = tmp / ("heap%d" % i)
        i += 1
        work.mkdir()
        r = harness.run("mem_trial.py", data, 20, base, work, "-", heap=heap)
        if "END" not in r.stdout and not trials:
            kw += step
            continue  # too small to import the package: the sweep starts above
        assert "END" in r.stdout, "interpreter died at heap %s:\n%s\n%s" % (heap, r.stdout, r.stderr[-1500:])
        got = _parse(r.stdout)
        if step > 1 and any(t["outcome"] != "LOADFAIL" for t in got):
            kw, step = kw - step + 1, 1  # loads here: walk up again 1wK at a time
            continue
        for t in got:
            t["heap"] = heap
            trials.append(t)
            folders.append(work / "t0")
            oks += t["outcome"] == "OK"
        kw += step
    rng = random.Random(SEED)
    leaves = sorted(rng.randrange(20_000, 70_000) for _ in range(N_BALLAST))  # around what learn_class needs
    work = tmp / "ballast"
    work.mkdir()
    r = harness.run("mem_trial.py", data, 20, base, work, *leaves, heap="256wK", timeout=300)
    assert "END" in r.stdout, r.stdout + r.stderr[-1500:]
    for i, t in enumerate(_parse(r.stdout)):
        t["heap"] = "256wK"
        trials.append(t)
        folders.append(work / ("t%d" % i))
    # every trial folder (failed or not) loads in a fresh interpreter
    failed = [f for f, t in zip(folders, trials) if t["outcome"] == "MEM"]
    out = harness.check(harness.run("power_check.py", tmp / "scratch", *failed, heap="512wK"))
    fresh = {ln.split()[0]: int(ln.split()[1]) for ln in harness.tagged(out, "RES")}
    errs = harness.tagged(out, "ERR")
    print("\nmemory trials (heap, RAM left before learn_class, outcome):")
    for t in trials:
        print("  %-6s %7s left %7d  %s %s%s" % (t["heap"], t["leave"], t["left"], t["outcome"],
                                              t["msg"][:70], "  reload in same heap: " + t["reload"]
                                              if t["reload"] else ""))
    return {"trials": trials, "failed": failed, "fresh": fresh, "errs": errs, "base_crc": base_crc}


def test_memory_exhaustion_keeps_the_learner(runs):
    trials = runs["trials"]
    outcomes = [t["outcome"] for t in trials]
    assert "OTHER" not in outcomes, [t for t in trials if t["outcome"] == "OTHER"]
    mem = [t for t in trials if t["outcome"] == "MEM"]
    # the heap sweep crosses from heaps too small to load the learner to heaps where it learns;
    # between them there may be a few where it loads but cannot learn (MEM, or MEMFILE below:
    # the old learner could not be read back into that heap), or none: loading now makes
    # every buffer first, so at times a heap that loads it also learns. The MemoryErrors inside
    # learn_class come from the ballast sweep either way (the next assertion).
    sweep = [t["outcome"] for t in trials if t["leave"] == "-"]
    assert sweep[0] == "LOADFAIL" and sweep[-OK_HEAPS:] == ["OK"] * OK_HEAPS, sweep
    assert set(sweep) <= {"LOADFAIL", "MEM", "MEMFILE", "OK"}, sweep
    assert len(mem) >= 10 and outcomes.count("OK") >= 2, "the sweeps should cross the point where learn_class fits"
    for t in mem:
        assert t["chk"] == ["1", "1", "1"], "learner changed after MemoryError (classes, preds, file): %r" % t
    # the rare case where the heap is too full and fragmented to read the old learner back:
    # learn_class says so (RuntimeError naming the MemoryError); its file must be untouched
    # (the fresh-interpreter reload below checks it loads as before)
    for t in trials:
        if t["outcome"] == "MEMFILE":
            assert t["chk"][2] == "1", "file changed after MemoryError: %r" % t
    assert not runs["errs"], runs["errs"]
    for f in runs["failed"]:
        assert runs["fresh"][str(f)] == runs["base_crc"], "%s: reloaded learner differs from the one before" % f


def test_memory_error_says_what_to_shrink(runs):
    mem = [t for t in runs["trials"] if t["outcome"] == "MEM"]
    assert mem
    bare = [t for t in mem if "shrink" not in t["msg"]]
    assert not bare, "MemoryError without advice from learn_class (%d of %d), e.g. %r" % (
        len(bare), len(mem), bare[0]["msg"])
