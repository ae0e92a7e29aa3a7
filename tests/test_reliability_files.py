"""Corrupt files: load names the file and the problem, falls back to the previous good copy.

A learner with two classes is saved twice, so its folder holds learner.bin (classes c0,
c1) and learner.bak (c0). learner.bin is then damaged in every way a board meets:
truncated anywhere, single bytes flipped at seeded positions over the whole file, empty,
a newer format version, another file kind, foreign files (text, PNG, zip, a large binary
bigger than the heap), a directory, missing; and CRC-valid files whose contents
contradict each other (a buggy or hostile writer). Each case is loaded by tinycil.load in
one MicroPython process (unix port, 512 KB heap):

* with a good learner.bak: the backup is loaded (re-saving it gives learner.bak's bytes
  exactly) and load says so, naming learner.bin and its problem;
* without one: a FormatError (a ValueError) naming learner.bin and its problem;
* neither case crashes the interpreter, and load never changes a file.
"""
import os
import random
import struct
import sys
import zlib
from pathlib import Path

import pytest

from tinycil_host.limits import FORMAT_VERSION

sys.path.insert(0, str(Path(__file__).resolve().parent / "device" / "reliability"))
import harness  # noqa: E402

SEED = 4242
N_FLIPS = 48


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("files")
    _, folder = harness.build_learner(tmp, "good", 2, 8, 2, "epochs=2", "distill_iters=3")
    return tmp, (folder / "learner.bin").read_bytes(), (folder / "learner.bak").read_bytes()


def _head_field(data, off, fmt, value):
    """Set one HEAD field (byte offset `off` in its payload) and fix the CRC."""
    data = bytearray(data)
    tag, start, _ = harness.chunks(data)[0]
    assert tag == b"HEAD"
    struct.pack_into(fmt, data, start + off, value)
    return harness.crc_fix(data)


def _crafted(binf):
    """CRC-valid files whose contents do not fit together: (name, bytes, keywords)."""
    ch = {t: (s, n) for t, s, n in reversed(harness.chunks(binf))}
    hidden = struct.unpack_from("<H", binf, ch[b"HEAD"][0] + 14)[0]
    out = [
        ("width", _head_field(binf, 14, "<H", hidden + 1), ["inconsistent", "dense layer"]),
        ("max_hidden0", _head_field(binf, 4, "<H", 0), ["inconsistent", "max_hidden"]),
        ("max_classes1", _head_field(binf, 10, "<H", 1), ["inconsistent", "max_classes"]),
        ("target_nan", _head_field(binf, 20, "<f", float("nan")), ["inconsistent", "target"]),
        ("n_inputs", _head_field(binf, 0, "<H", 63), ["SCAL", "front-end", "inconsistent"]),
    ]
    d = bytearray(binf)
    s, _ = ch[b"RPLY"]
    struct.pack_into("<H", d, s + 4, 9)  # first replay sample: class 9 of 2
    out.append(("replay_class", harness.crc_fix(d), ["inconsistent", "class 9"]))
    d = bytearray(binf)
    s, _ = ch[b"CLAS"]
    d[s + 3] = 0xFF  # first byte of the first class name: not UTF-8
    out.append(("utf8", harness.crc_fix(d), ["malformed"]))
    d = bytearray(binf)
    s, _ = ch[b"RPLY"]
    d[s - 8:s - 4] = b"RPLZ"
    out.append(("unknown_tag", harness.crc_fix(d), ["unknown chunk"]))
    d = bytearray(binf)
    s, n = ch[b"DENS"]  # drop the first dense layer
    del d[s - 8:s + n]
    out.append(("missing_dense", harness.crc_fix(d), ["inconsistent", "dense"]))
    return out


def _cases(tmp, binf):
    rng = random.Random(SEED)
    n = len(binf)
    cases = [("empty", b"", ["empty"])]
    for cut in sorted({1, 3, 4, 7, 8, 9, 16, 40, n // 3, n // 2, n - 13, n - 12, n - 5, n - 1}):
        cases.append(("trunc%d" % cut, binf[:cut], ["truncated"]))
    # one flip in each of N_FLIPS equal strata of the file
    for i in range(N_FLIPS):
        pos = rng.randrange(i * n // N_FLIPS, max(i * n // N_FLIPS + 1, (i + 1) * n // N_FLIPS))
        d = bytearray(binf)
        d[pos] ^= rng.randrange(1, 256)
        cases.append(("flip%d" % pos, bytes(d), ["checksum", "truncated", "bad magic", "version", "kind",
                                                  "END", "chunk"]))
    d = bytearray(binf)
    for i in range(n // 2, n // 2 + 64):
        d[i] = rng.randrange(256)
    cases.append(("garbage_block", bytes(d), ["checksum", "chunk", "truncated"]))
    d = bytearray(binf)
    newer = FORMAT_VERSION + 1  # a version this tinycil does not know yet
    d[4] = newer
    cases.append(("version%d" % newer, bytes(d), ["version %d" % newer]))
    cases.append(("version%d_crcfixed" % newer, harness.crc_fix(d), ["version %d" % newer]))
    d = bytearray(binf)
    d[5] = 7
    cases.append(("kind7", harness.crc_fix(d), ["kind 7"]))
    cases.append(("appended", binf + b"\0" * 10, ["END", "trailing"]))
    cases.append(("text", b"hello, this is a log file\n" * 40, ["not a tinycil learner"]))
    cases.append(("png", b"\x89PNG\r\n\x1a\n" + bytes(200), ["not a tinycil learner"]))
    cases.append(("zip", b"PK\x03\x04" + bytes(300), ["not a tinycil learner"]))
    cases.append(("big_foreign", os.urandom(3_000_000), ["not a tinycil learner"]))
    cases.append(("big_learnerish", binf[:8] + bytes(3_000_000), ["RAM", "truncated", "chunk"]))
    cases.append(("directory", "DIR", ["cannot read"]))
    cases.append(("missing", None, ["no such file"]))
    cases += _crafted(binf)
    return cases


def _block(out, folder):
    lines = out.splitlines()
    i = lines.index("CASE %s" % folder)
    j = lines.index("DONE", i)
    return lines[i + 1:j]


def test_corrupt_learner_files(good):
    tmp, binf, bakf = good
    bak_crc = zlib.crc32(bakf) & 0xFFFFFFFF
    cases = _cases(tmp, binf)
    folders = []
    for name, content, _ in cases:
        for with_bak in (True, False):
            f = tmp / ("%s_%s" % (name, "bak" if with_bak else "nobak"))
            f.mkdir()
            if content == "DIR":
                (f / "learner.bin").mkdir()
            elif content is not None:
                (f / "learner.bin").write_bytes(content)
            if with_bak:
                (f / "learner.bak").write_bytes(bakf)
            folders.append(f)
    before = {f: {p.name: p.read_bytes() for p in f.iterdir() if p.is_file()} for f in folders}
    r = harness.run("files_check.py", tmp / "scratch", *folders, heap="256wK", timeout=300)
    assert r.returncode == 0 and r.stdout.rstrip().endswith("END"), (
        "the interpreter did not survive the corrupt files:\n%s\n%s" % (r.stdout[-2000:], r.stderr[-2000:]))
    assert "Traceback" not in r.stdout + r.stderr
    problems = []
    for (name, _, keys) in cases:
        fb = tmp / ("%s_bak" % name)
        fn = tmp / ("%s_nobak" % name)
        where = str(fn / "learner.bin")
        # without a backup: a clear error naming the file and the problem
        blk = _block(r.stdout, fn)
        last = blk[-1].split(" ", 3)
        if last[0] != "EXC" or last[1] != "FormatError" or last[2] != "1":
            problems.append("%s, no backup: expected FormatError, got %r" % (name, blk))
        elif not last[3].startswith(where + ":") or not any(k in last[3] for k in keys):
            problems.append("%s, no backup: unclear message %r (want the path and one of %s)" % (name, last[3], keys))
        # with a good backup: the backup, exactly, and a notice naming the file and problem
        blk = _block(r.stdout, fb)
        notice = [ln for ln in blk if "loaded the previous good copy" in ln]
        if not blk or blk[-1] != "OK %d c0" % bak_crc:
            problems.append("%s, with backup: expected the backup (c0), got %r" % (name, blk))
        elif (len(notice) != 1 or str(fb / "learner.bin") not in notice[0]
              or str(fb / "learner.bak") not in notice[0] or not any(k in notice[0] for k in keys)):
            problems.append("%s, with backup: unclear notice %r" % (name, notice))
    for f, files in before.items():
        after = {p.name: p.read_bytes() for p in f.iterdir() if p.is_file()}
        if after != files:
            problems.append("%s: load changed the files" % f.name)
    print("\ncorrupt files: %d cases x (with, without backup) loaded in one interpreter" % len(cases))
    assert not problems, "\n".join(problems)


def test_both_copies_bad_names_both(good):
    tmp, binf, bakf = good
    f = tmp / "bothbad"
    f.mkdir()
    (f / "learner.bin").write_bytes(binf[: len(binf) // 2])
    (f / "learner.bak").write_bytes(b"")
    r = harness.run("files_check.py", tmp / "scratch", f)
    blk = _block(harness.check(r), f)
    msg = blk[-1]
    assert msg.startswith("EXC FormatError 1 ")
    assert str(f / "learner.bin") in msg and "truncated" in msg
    assert str(f / "learner.bak") in msg and "empty" in msg
