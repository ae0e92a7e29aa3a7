"""Bad input, fuzzed: learn_class, predict and scores refuse garbage cleanly and change nothing.

Hypothesis (on the host, derandomized) builds batches of calls with malformed arguments:
wrong lengths, nested garbage, NaN, infinities, huge numbers (floats and big ints),
strings, None, bytes, dicts, sets, empty and single samples, too many samples, odd and
duplicate labels, bad targets. Every learn_class call has at least one bad part (the
others may be valid). Each batch runs in one MicroPython process (unix port) against a
saved two-class learner. Required: every call raises ValueError or TypeError with a
message, nothing else comes out, the learner's files are byte-identical afterwards, its
predictions and scores on probe samples are unchanged, and re-saving it gives the very
same bytes (so no hidden state, such as the RNG, moved either).
"""
import shutil
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "device" / "reliability"))
import harness  # noqa: E402

PRELUDE = """
import sys
import relcommon
import tinycil
data, folder, scratch = sys.argv[1], sys.argv[2], sys.argv[3]
probes = relcommon.rows(data, 0, 2, 8) + relcommon.rows(data, 1, 2, 8)
R = relcommon.rows(data, 2, 1, 8)[0]
S = relcommon.rows(data, 2, 6, 8)
l = tinycil.load(folder, verbose=False)
before = (relcommon.preds(l, probes), relcommon.scores_key(l, probes))
def call(i, f):
    try:
        r = f()
        print("R", i, "RETURNED", repr(r)[:80])
    except (ValueError, TypeError) as e:
        print("R", i, type(e).__name__, str(e).replace(chr(10), " ")[:200] or "<empty message>")
    except Exception as e:
        print("R", i, "BAD", type(e).__name__, str(e)[:200])
"""

EPILOGUE = """
after = (relcommon.preds(l, probes), relcommon.scores_key(l, probes))
print("SAME", int(before == after))
l.save(scratch)
print("RESAVED", relcommon.crc_file(scratch + "/learner.bin"))
print("END")
"""

# ---- strategies (MicroPython source text) ----------------------------------------------
BAD_VALUES = ["float('nan')", "float('inf')", "-float('inf')", "1e300", "-1e30", "10**400", "-(10**40)",
              "1000.5", "'abc'", "''", "None", "[1.0]", "[]", "{}", "b'x'", "(1, 2)", "object()", "'nan'"]
bad_value = st.sampled_from(BAD_VALUES)


@st.composite
def bad_row(draw):
    kind = draw(st.sampled_from(["value", "short", "long", "nested", "scalar", "textlike", "mapping"]))
    if kind == "value":
        i = draw(st.integers(0, 63))
        return "R[:%d] + [%s] + R[%d:]" % (i, draw(bad_value), i + 1)
    if kind == "short":
        return "R[:%d]" % draw(st.sampled_from([0, 1, 2, 32, 63]))
    if kind == "long":
        return "R + [0.0] * %d" % draw(st.sampled_from([1, 2, 64]))
    if kind == "nested":
        return draw(st.sampled_from(["[R]", "[R, R]", "[[0.0] * 64]", "[R[:8]] * 8"]))
    if kind == "scalar":
        return draw(st.sampled_from(["None", "5", "1.5", "float('nan')", "True"]))
    if kind == "textlike":
        return draw(st.sampled_from(["'x' * 64", "'0' * 64", "b'\\x01' * 64", "bytearray(64)"]))
    return draw(st.sampled_from(["{}", "dict((i, 0.0) for i in range(64))", "set(range(64))",
                                 "(v for v in R)"]))


@st.composite
def bad_samples(draw):
    kind = draw(st.sampled_from(["row", "count", "type"]))
    if kind == "row":
        n = draw(st.integers(3, 8))
        i = draw(st.integers(0, n - 1))
        return "S[:%d] + [%s] + S[%d:%d]" % (i, draw(bad_row()), i, n - 1) if i < n else "S"
    if kind == "count":
        return draw(st.sampled_from(["[]", "[R]", "[R, R]", "[R] * 201", "[[]]", "[[], [], []]"]))
    return draw(st.sampled_from(["None", "5", "'abc'", "b'abc'", "R", "{}", "{'a': R}", "float('nan')"]))


good_samples = st.sampled_from(["S", "S[:3]", "tuple(S)", "[tuple(r) for r in S]"])
BAD_LABELS = ["None", "5", "1.5", "b'new'", "''", "'x' * 41", "'\\u00e9' * 21", "'c0'", "'c1'", "['a']",
              "('a',)"]
bad_label = st.sampled_from(BAD_LABELS)
good_label = st.sampled_from(["'fresh'", "'\\u00e9t\\u00e9'", "'x' * 40", "' '"])
BAD_TARGETS = ["-0.1", "1.5", "float('nan')", "'0.5'", "[0.5]"]


@st.composite
def learn_call(draw):
    bad = draw(st.sampled_from(["label", "samples", "target"]))
    label = draw(bad_label if bad == "label" else st.one_of(good_label, bad_label))
    samples = draw(bad_samples() if bad == "samples" else st.one_of(good_samples, bad_samples()))
    kw = "verbose=False"
    if bad == "target":
        kw += ", target=" + draw(st.sampled_from(BAD_TARGETS))
    return "l.learn_class(%s, %s, %s)" % (label, samples, kw)


@st.composite
def infer_call(draw):
    return "l.%s(%s)" % (draw(st.sampled_from(["predict", "scores"])), draw(bad_row()))


calls = st.lists(st.one_of(learn_call(), infer_call()), min_size=4, max_size=10)


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    data, folder = harness.build_learner(tmp, "L", 3, 8, 2, "epochs=3", "distill_iters=3")
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    return tmp, data, folder, files


def run_batch(learner, batch, name):
    tmp, data, base, files = learner
    folder = tmp / ("%s_L" % name)  # a fresh copy: one failing batch cannot spoil the next
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(base, folder)
    script = tmp / ("%s.py" % name)
    body = "".join("call(%d, lambda: %s)\n" % (i, c) for i, c in enumerate(batch))
    script.write_text(PRELUDE + body + EPILOGUE)
    r = harness.run(script, data, folder, tmp / "scratch")
    out = harness.check(r)
    assert out.rstrip().endswith("END"), out[-2000:]
    results = {}
    for ln in harness.tagged(out, "R"):
        i, rest = ln.split(" ", 1)
        results[int(i)] = rest
    problems = []
    for i, c in enumerate(batch):
        res = results.get(i, "<no result>")
        kind = res.split(" ", 1)[0]
        msg = res.split(" ", 1)[1] if " " in res else ""
        if kind not in ("ValueError", "TypeError") or msg in ("", "<empty message>"):
            problems.append("%s  ->  %s" % (c, res))
    if harness.tagged(out, "SAME") != ["1"]:
        problems.append("predictions or scores changed after the bad calls")
    bin_crc = zlib.crc32(files["learner.bin"]) & 0xFFFFFFFF
    if int(harness.tagged(out, "RESAVED")[0]) != bin_crc:
        problems.append("re-saving the learner after the bad calls gives different bytes (state changed)")
    now = {p.name: p.read_bytes() for p in folder.iterdir()}
    if now != files:
        problems.append("the learner's files changed: %s" % sorted(now))
    return problems


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(batch=calls)
def test_fuzz_bad_input(learner, batch):
    problems = run_batch(learner, batch, "fuzz")
    assert not problems, "\n".join(problems)


def test_numeric_strings_are_not_numbers(learner):
    """A sample of numeric strings (e.g. a sensor line not parsed) must be refused, not read."""
    problems = run_batch(learner, ["l.predict([str(v) for v in R])", "l.scores(['1'] * 64)",
                                   "l.learn_class('fresh', [[str(v) for v in r] for r in S], verbose=False)"],
                         "strings")
    assert not problems, "\n".join(problems)


def test_failed_call_leaves_rng_alone(learner):
    """learn_class(..., seed=...) that fails validation must not reseed the learner."""
    problems = run_batch(learner, ["l.learn_class('fresh', [R], seed=7, verbose=False)",
                                   "l.learn_class(None, S, seed=7, verbose=False)"], "seed")
    assert not problems, "\n".join(problems)
