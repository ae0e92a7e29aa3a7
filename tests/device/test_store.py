# The learner file: exact round trip, byte-identical re-save, checked load,
# backup fallback (FORMAT.md sections 1 and 2).
import os

import tinycil
from tinycil import store
from util import check, file_bytes, raises, rmtree

N_IN = 6


def _samples(seed, n, shift):
    from tinycil.rng import Rng
    r = Rng(seed)
    return [[shift + 0.3 * r.uniform() for _ in range(N_IN)] for _ in range(n)]


def _learner(ctx, path):
    rmtree(path)
    l = tinycil.new(N_IN, path=path, backend=ctx["backend"], max_hidden=8, min_hidden=4,
                    memory_bytes=400, epochs=5, distill_iters=5)
    l.learn_class("a", _samples(1, 12, 0.0), verbose=False)
    l.learn_class("b", _samples(2, 12, 1.0), verbose=False)
    return l


def test_round_trip_is_exact(ctx):
    path = ctx["tmp"] + "/store_rt"
    l = _learner(ctx, path)
    probe = _samples(3, 5, 0.5)
    before = [l.scores(x) for x in probe]
    first = file_bytes(path + "/learner.bin")
    m = tinycil.load(path, backend=ctx["backend"], verbose=False)
    check(m.classes == ["a", "b"], "classes %r" % m.classes)
    check([m.scores(x) for x in probe] == before, "scores changed after load")
    check(m.info()["memory_bytes_used"] == l.info()["memory_bytes_used"], "replay changed")
    m.save()
    check(file_bytes(path + "/learner.bin") == first, "re-saving a loaded learner changed its bytes")
    check(file_bytes(path + "/learner.bak") == first, "backup is not the previous file")
    rmtree(path)


def test_int8_weights_close(ctx):
    path = ctx["tmp"] + "/store_q"
    l = _learner(ctx, path)
    l.save(path + "_8", weights="int8")
    m = tinycil.load(path + "_8", backend=ctx["backend"], verbose=False)
    for x in _samples(4, 5, 0.5):
        a, b = l.scores(x), m.scores(x)
        for i in range(2):
            check(abs(a[i] - b[i]) < 0.05, "int8 weights moved a score by %f" % abs(a[i] - b[i]))
    check(os.stat(path + "_8/learner.bin")[6] < os.stat(path + "/learner.bin")[6], "int8 file not smaller")
    rmtree(path)
    rmtree(path + "_8")


def test_corrupt_file_is_refused_and_backup_used(ctx):
    path = ctx["tmp"] + "/store_bad"
    l = _learner(ctx, path)  # two saves after new(): learner.bak holds the 1-class learner
    good = file_bytes(path + "/learner.bin")
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0x40
    e = raises(store.FormatError, store.decode, bytes(bad), "x.bin")
    check("checksum" in str(e) and "x.bin" in str(e), "message %r" % e)
    check("version" in str(raises(store.FormatError, store.decode, good[:4] + b"\x09" + good[5:], "v")), "version")
    check("empty" in str(raises(store.FormatError, store.decode, b"", "e")), "empty")
    check("magic" in str(raises(store.FormatError, store.decode, b"PK\x03\x04" + good[4:], "k")), "magic")
    check("truncated" in str(raises(store.FormatError, store.decode, good[:-20], "t")), "truncated")
    with open(path + "/learner.bin", "wb") as f:
        f.write(bad)
    msgs = []
    st = store.load_state(path, log=msgs.append)
    check(len(msgs) == 1 and "previous good copy" in msgs[0], "fallback not reported: %r" % msgs)
    check(st["classes"] == ["a"], "backup should hold the learner before the last learn")
    os.remove(path + "/learner.bak")
    e = raises(store.FormatError, tinycil.load, path, backend=ctx["backend"], verbose=False)
    check("learner.bin" in str(e), "error does not name the file: %r" % e)
    rmtree(path)


def test_new_refuses_to_overwrite(ctx):
    path = ctx["tmp"] + "/store_new"
    _learner(ctx, path)
    e = raises(ValueError, tinycil.new, N_IN, path=path)
    check("already" in str(e), "message %r" % e)
    raises(ValueError, tinycil.new, N_IN, path="/tinycil")  # would shadow the package
    rmtree(path)
