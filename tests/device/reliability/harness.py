"""Host-side helpers shared by tests/test_reliability_*.py (not run on the device).

The device scripts beside this file run under the real MicroPython unix port through
tinycil_host.mpy.run, with this folder on MICROPYPATH (for relcommon.py).
"""
import struct
import zlib
from pathlib import Path

import numpy as np

from tinycil_host import mpy

HERE = Path(__file__).resolve().parent
DIGITS = Path("/work/shared/data/sklearn_digits.npz")


def digits():
    """X (n, 64) uint8 pixels 0..16, y, split (0 train, 1 test) of the shared digits set."""
    from tinycil_host.datasets import data_dir
    p = data_dir() / "sklearn_digits.npz"
    if not p.exists():
        p = DIGITS
    d = np.load(p)
    return d["X"].reshape(len(d["y"]), -1).astype(np.uint8), d["y"].astype(int), d["split"].astype(int)


def write_rows(path, blocks):
    """Write a list of uint8 (n_i, 64) blocks of equal n, one after another; returns per."""
    per = len(blocks[0])
    with open(path, "wb") as f:
        for b in blocks:
            assert len(b) == per
            f.write(np.asarray(b, dtype=np.uint8).tobytes())
    return per


def digit_blocks(classes, per, split=0, start=0):
    X, y, s = digits()
    out = []
    for c in classes:
        idx = np.where((y == c) & (s == split))[0][start:start + per]
        out.append(X[idx])
    return out


def run(script, *args, heap="256wK", timeout=300, cwd=None):
    """Run a device script (a file name in this folder, or 'code:...') and return the result."""
    if not str(script).startswith("code:"):
        script = HERE / script
    return mpy.run(script, args=args, heap=heap, cwd=cwd, extra_path=[HERE], timeout=timeout)


def build_learner(tmp, name, n_classes, per, learned, *options, heap="256wK"):
    """Write `per` digit rows of each of n_classes to tmp/d.bin and learn the first
    `learned` classes into folder tmp/name (build.py); returns (data file, folder)."""
    data = tmp / "d.bin"
    write_rows(data, digit_blocks(range(n_classes), per))
    folder = tmp / name
    check(run("build.py", data, per, folder, learned, *options, heap=heap))
    return data, folder


def check(r):
    assert r.returncode == 0, "MicroPython failed (%d):\n%s\n%s" % (r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r.stdout


def tagged(stdout, tag):
    """Lines 'TAG rest' of a script's output, as the rest strings."""
    return [ln[len(tag) + 1:] for ln in stdout.splitlines() if ln.startswith(tag + " ")]


def crc_fix(data):
    """Recompute the trailer CRC of a learner file image (for crafted, CRC-valid files)."""
    data = bytearray(data)
    end = len(data) - 12
    assert data[end:end + 4] == b"END "
    data[end + 8:end + 12] = struct.pack("<I", zlib.crc32(bytes(data[:end])) & 0xFFFFFFFF)
    return bytes(data)


def chunks(data):
    """[(tag, payload offset, payload length)] of a learner file image."""
    out = []
    pos = 8
    while pos < len(data):
        tag = bytes(data[pos:pos + 4])
        (n,) = struct.unpack_from("<I", data, pos + 4)
        out.append((tag, pos + 8, n))
        pos += 8 + n
    return out
