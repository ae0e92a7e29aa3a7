"""The learner file on the host: same bytes as the spec, every check of a load, atomic saves."""
import contextlib
import struct
import zlib

import numpy as np
import pytest

from tinycil_host import store
from tinycil_host.limits import FORMAT_VERSION
from tinycil_host.reference import Learner


@pytest.fixture(scope="module")
def learner():
    from tinycil_host import datasets
    d = datasets.load("digits")
    lrn = Learner(64, input_offset=8.0, input_scale=0.125, epochs=2, distill_iters=3, seed=9)
    for c in range(3):
        lrn.learn_class("class %d" % c, d.X_train[d.y_train == c][:12])
    return lrn


def _reseal(body):
    return body + b"END " + struct.pack("<II", 4, zlib.crc32(body))


def test_layout_follows_the_spec(learner):
    data = learner.to_bytes()
    assert data[:8] == b"TCIL" + bytes([FORMAT_VERSION]) + b"\x01\x00\x00"
    tags = []
    pos = 8
    while data[pos:pos + 4] != b"END ":
        tags.append(data[pos:pos + 4])
        pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]
    assert tags == [b"HEAD", b"HYPR", b"CLAS", b"SCAL", b"DENS", b"DENS", b"MEAN", b"RPLY"]
    assert struct.unpack_from("<I", data, pos + 8)[0] == zlib.crc32(data[:pos])
    assert len(data) == pos + 12
    head = struct.unpack("<HHHHHHHHIfIHHf", data[16:16 + 36])
    assert head[:7] == (64, 64, 32, 8, 8, 16, 1) and head[7] == learner.net.hidden[0]
    assert head[10] == learner.rng.state and head[11] == 0  # flags: the scaling is not pending
    assert head[12] == learner.calls == len(learner.classes)
    assert head[13] == np.float32(learner.ncm_var) and learner.ncm_var > 0


def test_encode_decode_encode_is_byte_identical(learner):
    f32, i8 = (store.encode(learner.state(), e) for e in (store.ENC_F32, store.ENC_INT8))
    st = store.decode(f32)
    assert store.encode(st, store.ENC_F32) == f32
    assert store.encode(st, store.ENC_INT8) == i8  # same weights, same quantization
    assert st["classes"] == learner.classes and st["rng_state"] == learner.rng.state
    assert np.array_equal(st["replay"].q, learner.replay.samples.q)
    # int8: one byte per weight instead of four, plus a float32 scale per output unit
    assert len(f32) - len(i8) == sum(3 * W.size - 4 * W.shape[0] for W in learner.net.W)


def test_int8_weights_stay_within_half_a_step(learner):
    st = store.decode(learner.to_bytes("int8"))
    for (Wq, _), W in zip(st["dense"], learner.net.W):
        step = np.abs(W).max(axis=1) / 127
        assert np.all(np.abs(Wq - W) <= step[:, None] * 0.5 + 1e-7)


@pytest.mark.parametrize("damage,message", [
    (lambda d: b"", "empty file"),
    (lambda d: b"XXXX" + d[4:], "bad magic"),
    (lambda d: d[:4] + bytes([FORMAT_VERSION + 1]) + d[5:], "version %d" % (FORMAT_VERSION + 1)),
    (lambda d: d[:5] + b"\x02" + d[6:], "kind 2"),
    (lambda d: d[:-20], "truncated"),
    (lambda d: d[:40] + bytes([d[40] ^ 1]) + d[41:], "checksum"),
    (lambda d: d + b"x", "trailing"),
    (lambda d: _reseal(d[:-12] + b"JUNK" + struct.pack("<I", 0)), "unknown chunk"),
    (lambda d: _reseal(d[:-12] + d[8:8 + 44]), "exactly one HEAD"),
])
def test_damaged_files_are_refused_with_a_reason(learner, damage, message):
    data = damage(learner.to_bytes())
    with pytest.raises(store.FormatError, match=message):
        store.decode(data, "x.bin")


def test_save_is_atomic_and_load_falls_back_to_the_backup(learner, tmp_path, capsys):
    folder = tmp_path / "l"
    first = learner.to_bytes()
    store.save(folder, learner.state())
    assert sorted(p.name for p in folder.iterdir()) == ["learner.bin"]
    st = learner.state()
    st["classes"] = ["renamed"] + st["classes"][1:]
    store.save(folder, st)
    assert (folder / "learner.bak").read_bytes() == first
    assert store.load(folder)["classes"][0] == "renamed"
    raw = bytearray((folder / "learner.bin").read_bytes())
    raw[30] ^= 0xFF
    (folder / "learner.bin").write_bytes(bytes(raw))
    back = store.load(folder)
    assert back["classes"][0] == "class 0"
    assert "loaded the previous good copy" in capsys.readouterr().out
    (folder / "learner.bak").write_bytes(b"TCIL")
    with pytest.raises(store.FormatError, match="backup also unusable"):
        store.load(folder)


def _chunk_at(d, tag):
    pos = 8
    while d[pos:pos + 4] != tag:
        pos += 8 + struct.unpack_from("<I", d, pos + 4)[0]
    return pos, struct.unpack_from("<I", d, pos + 4)[0]


def _drop_tail(d, tag, n_bytes):
    """Cut the last n_bytes of chunk `tag`'s payload (fields a newer version added)."""
    pos, n = _chunk_at(d, tag)
    d[pos + 4:pos + 8] = struct.pack("<I", n - n_bytes)
    del d[pos + 8 + n - n_bytes:pos + 8 + n]


def _as_version(data, version):
    """The same learner as an older image: version 5 lacks HYPR's grow_undo; version 4 has
    version 5's chunks (widths of at least 1); version 3 also lacks HYPR's ncm_separate; version 2 also
    HEAD's flags, calls and ncm_var, HYPR's ncm_weight and the MEAN chunk; version 1 also HYPR's
    replay_noise. CRC recomputed."""
    d = bytearray(data[:-12])
    d[4] = version
    _drop_tail(d, b"HYPR", {5: 2, 4: 2, 3: 4, 2: 8, 1: 12}[version])
    if version < 3:
        _drop_tail(d, b"HEAD", 8)
        pos, n = _chunk_at(d, b"MEAN")
        del d[pos:pos + 8 + n]
    return bytes(d) + b"END " + struct.pack("<II", 4, zlib.crc32(bytes(d)))


def test_version_3_loads_with_the_head_training_with_the_network():
    from tinycil_host import datasets
    d = datasets.load("digits")
    lrn = Learner(64, input_offset=8.0, input_scale=0.125, epochs=2, distill_iters=3, seed=9, ncm_separate=1,
                  ncm_weight=3.0)
    for c in range(2):
        lrn.learn_class("class %d" % c, d.X_train[d.y_train == c][:12])
    v4 = lrn.to_bytes()
    assert store.decode(v4)["hyper"]["ncm_separate"] == 1
    st = store.decode(_as_version(v4, 3))
    want = store.decode(v4)
    assert st["hyper"]["ncm_separate"] == 0 and st["hyper"]["ncm_weight"] == 3.0
    assert st["means"].q.tolist() == want["means"].q.tolist() and st["ncm_var"] == want["ncm_var"]
    assert store.encode(st)[4] == FORMAT_VERSION  # saved back as the current version
    with _device_store() as dstore:
        assert dstore.decode(_as_version(v4, 3))["hypr"][-3:] == (np.float32(3.0), 0, 0)
        assert dstore.decode(v4)["hypr"][-2] == 1


@pytest.mark.parametrize("version", [1, 2])
def test_older_files_load_with_the_new_fields_off(learner, version):
    v3 = learner.to_bytes()
    old = _as_version(v3, version)
    st = store.decode(old)
    assert st["hyper"]["ncm_weight"] == 0.0 and st["ncm_var"] == 0.0 and st["flags"] == 0
    assert st["hyper"]["ncm_separate"] == 0
    if version == 1:
        assert st["hyper"]["replay_noise"] == 0.0
    want = store.decode(v3)
    assert st["hyper"]["lr"] == want["hyper"]["lr"] and st["classes"] == want["classes"]
    # the class means of an older file are its replay samples' means, one count per sample
    for c in range(len(st["classes"])):
        rows = st["replay"].values()[st["replay"].cls == c]
        assert st["counts"][c] == len(rows)
        np.testing.assert_allclose(st["means"].values()[c], rows.mean(axis=0), atol=float(rows.max()) / 100)
    assert store.decode(store.encode(st))["means"].q.tolist() == st["means"].q.tolist()  # saved as the current version
    # the board reads it to the same bytes
    with _device_store() as dstore:
        dst = dstore.decode(old)
        assert dst["hypr"][-3:] == (0.0, 0, 0) and dst["head"][11:] == (0, 0, 0.0)  # flags, calls, ncm_var
        nf, n, p = dst["means"]
        assert (nf, n) == (st["n_features"], len(st["classes"]))
        assert bytes(p.read(4, len(p) - 4)) == b"".join(struct.pack("<If", int(st["counts"][c]), float(st["means"].scale[c]))
                                        + st["means"].q[c].tobytes() for c in range(n))


@pytest.mark.parametrize("version", [4, 5])
def test_versions_4_and_5_load_with_growth_keeping_its_widenings(learner, version):
    cur = learner.to_bytes()  # grow_undo 0, the default: the same learner in every version
    old = _as_version(cur, version)
    assert old[4] == version and store.encode(store.decode(old)) == cur
    with _device_store() as dstore:
        assert dstore.decode(old)["head"] == dstore.decode(cur)["head"]
        assert dstore.decode(old)["hypr"] == dstore.decode(cur)["hypr"]


def test_grow_undo_is_stored_and_read_on_both_sides():
    lrn = Learner(64, grow_undo=1)
    data = lrn.to_bytes()
    assert store.decode(data)["hyper"]["grow_undo"] == 1
    assert store.decode(_as_version(data, 5))["hyper"]["grow_undo"] == 0
    with _device_store() as dstore:
        assert dstore.decode(data)["hypr"][-1] == 1
    with pytest.raises(ValueError, match="grow_undo"):
        Learner(64, grow_undo=2)


def _zero_width():
    """A learner made with min_hidden 0 that its two classes leave at width 0."""
    from tinycil_host import datasets
    d = datasets.load("digits")
    lrn = Learner(64, min_hidden=0, input_offset=8.0, input_scale=0.125, epochs=2, distill_iters=3, seed=9,
                  target=0.5, ncm_weight=1.0)
    for c in range(2):
        lrn.learn_class("class %d" % c, d.X_train[d.y_train == c][:12])
    assert lrn.net.sizes[1] == 0
    return lrn


def test_a_width_of_zero_is_stored_and_read_on_both_sides():
    data = _zero_width().to_bytes()
    st = store.decode(data)
    assert (st["min_hidden"], st["hidden"]) == (0, 0)
    assert [W.shape for W, _ in st["dense"]] == [(0, 64), (2, 0)] and st["dense"][1][1].shape == (2,)
    assert store.encode(st) == data
    with _device_store() as dstore:
        head = dstore.decode(data)["head"]
        assert (head[3], head[7]) == (0, 0)


def test_a_width_below_min_hidden_is_refused():
    # HEAD's hidden (field 8) is never below min_hidden (field 4): set_hidden never narrows
    lrn = Learner(64, min_hidden=8, input_offset=8.0, input_scale=0.125, epochs=2, distill_iters=3, seed=9)
    from tinycil_host import datasets
    d = datasets.load("digits")
    lrn.learn_class("a", d.X_train[d.y_train == 0][:12])
    st = lrn.state()
    st["min_hidden"] = 9
    st["max_hidden"] = 32
    data = store.encode(st)
    with _device_store() as dstore:
        with pytest.raises(dstore.FormatError, match="hidden = 8, must be 9..32"):
            dstore.decode(data, "x.bin")


@contextlib.contextmanager
def _device_store():
    """The device package's store module, imported from device/ under CPython for the test."""
    import sys
    from pathlib import Path
    dev = str(Path(__file__).resolve().parents[1] / "device")
    sys.path.insert(0, dev)
    try:
        from tinycil import store as dstore
        yield dstore
    finally:
        sys.path.remove(dev)
        for name in [m for m in sys.modules if m == "tinycil" or m.startswith("tinycil.")]:
            del sys.modules[name]
