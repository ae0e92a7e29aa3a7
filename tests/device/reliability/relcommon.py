# Device-side helpers for the reliability tests (run under MicroPython's unix port).
# Samples come from a small binary file the host test writes: per class `per` rows of
# n_inputs uint8 values (digits pixels 0..16), classes one after another.
import os


def rows(data, cls, n, per, n_inputs=64, offset=0, div=16.0):
    """n samples of class `cls` from the data file, as lists of floats (pixels / 16)."""
    f = open(data, "rb")
    f.seek((cls * per + offset) * n_inputs)
    b = f.read(n * n_inputs)
    f.close()
    return [[b[i * n_inputs + j] / div for j in range(n_inputs)] for i in range(n)]


def read(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError:
        return None


def copy_folder(src, dst):
    """Copy learner.bin/.bak/.tmp from src to a fresh dst (files only)."""
    try:
        os.mkdir(dst)
    except OSError:
        pass
    for name in ("learner.bin", "learner.bak", "learner.tmp"):
        try:
            os.remove(dst + "/" + name)
        except OSError:
            pass
        b = read(src + "/" + name)
        if b is not None:
            with open(dst + "/" + name, "wb") as f:
                f.write(b)


def crc(b):
    from binascii import crc32
    return crc32(b) if b is not None else -1


def crc_file(p):
    """CRC-32 of a file read 256 bytes at a time: works in a heap too fragmented for
    the whole file (as right after a MemoryError); -1 when it cannot be opened."""
    from binascii import crc32
    try:
        f = open(p, "rb")
    except OSError:
        return -1
    buf = bytearray(256)
    c = 0
    with f:
        while True:
            n = f.readinto(buf)
            if not n:
                return c
            c = crc32(memoryview(buf)[:n], c)


def preds(l, probes):
    return [l.predict(x) for x in probes]


def scores_key(l, probes):
    """Rounded scores of every probe: equal keys mean equal functions on the probes."""
    out = []
    for x in probes:
        out.append(tuple(int(s * 1e6) for s in l.scores(x)))
    return out
