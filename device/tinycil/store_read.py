# Reading and checking a learner file (device/FORMAT.md). Imported by store.py
# only while a file is read: see store.decode and store.load_state.
import struct

from .store import (BACKUP, ENC_F32, ENC_INT8, FILE, HEAD, HYPR, HYPR_V1, KIND_LEARNER, MAGIC, VERSION,
                    FormatError, _STRUCT_ERROR, _crc, _floats, dense_size, exists, join)


def _header(data, name):
    """Check the 8-byte header (enough of a file to tell what it is)."""
    if len(data) == 0:
        raise FormatError("%s: empty file" % name)
    if len(data) < 8:
        if bytes(data[:4]) == MAGIC[:min(4, len(data))]:
            raise FormatError("%s: truncated at byte %d (inside the header)" % (name, len(data)))
        raise FormatError("%s: not a tinycil learner file (bad magic)" % name)
    if bytes(data[:4]) != MAGIC:
        raise FormatError("%s: not a tinycil learner file (bad magic)" % name)
    ver, kind, _ = struct.unpack_from("<BBH", data, 4)
    if ver not in (1, VERSION):
        raise FormatError("%s: format version %d, this tinycil reads versions 1 and %d" % (name, ver, VERSION))
    if kind != KIND_LEARNER:
        raise FormatError("%s: file kind %d is not a learner" % (name, kind))


def _parse(data, name):
    """Check and split a whole file image into {tag: [payload, ...]}."""
    _header(data, name)
    chunks = {}
    pos = 8
    while True:
        if pos + 8 > len(data):
            raise FormatError("%s: truncated at byte %d (no END chunk)" % (name, pos))
        tag = bytes(data[pos:pos + 4])
        (n,) = struct.unpack_from("<I", data, pos + 4)
        if tag == b"END ":
            if pos + 12 > len(data):
                raise FormatError("%s: truncated inside the END chunk" % name)
            if n != 4 or pos + 12 != len(data):
                raise FormatError("%s: bad END chunk or trailing bytes" % name)
            (want,) = struct.unpack_from("<I", data, pos + 8)
            if _crc(memoryview(data)[:pos]) != want:
                raise FormatError("%s: checksum mismatch (file corrupt)" % name)
            return chunks
        if pos + 8 + n > len(data):
            raise FormatError("%s: truncated inside chunk %r" % (name, tag))
        chunks.setdefault(tag, []).append(memoryview(data)[pos + 8:pos + 8 + n])
        pos += 8 + n


def _one(chunks, tag, name):
    v = chunks.get(tag)
    if not v or len(v) != 1:
        raise FormatError("%s: needs exactly one %s chunk" % (name, tag.decode()))
    return v[0]


def decode(data, name="<bytes>"):
    """Decode a file image into a plain state dict (no backend needed)."""
    chunks = _parse(data, name)
    for tag in chunks:
        if tag not in (b"HEAD", b"HYPR", b"CLAS", b"SCAL", b"FRNT", b"DENS", b"RPLY"):
            raise FormatError("%s: unknown chunk %r" % (name, tag))
    st = {}
    try:
        st["head"] = struct.unpack(HEAD, _one(chunks, b"HEAD", name))
        if data[4] == 1:  # version 1 had no replay_noise: 0 keeps its behaviour
            st["hypr"] = struct.unpack(HYPR_V1, _one(chunks, b"HYPR", name)) + (0.0,)
        else:
            st["hypr"] = struct.unpack(HYPR, _one(chunks, b"HYPR", name))
        p = _one(chunks, b"CLAS", name)
        (n,) = struct.unpack_from("<H", p, 0)
        pos = 2
        classes = []
        for _ in range(n):
            ln = p[pos]
            classes.append(str(bytes(p[pos + 1:pos + 1 + ln]), "utf-8"))
            pos += 1 + ln
        if pos != len(p):
            raise FormatError("%s: CLAS chunk length" % name)
        st["classes"] = classes
        n_inputs = st["head"][0]
        p = _one(chunks, b"SCAL", name)
        if len(p) != 8 * n_inputs:
            raise FormatError("%s: SCAL chunk length" % name)
        st["offset"] = _floats(p, 0, n_inputs)
        st["scale"] = _floats(p, 4 * n_inputs, n_inputs)
        fr = []
        for p in chunks.get(b"FRNT", []):
            (nl,) = struct.unpack_from("<H", p, 0)
            pos = 2
            for _ in range(nl):
                n_out, n_in, relu, _pad = struct.unpack_from("<HHBB", p, pos)
                pos += 6
                q = bytes(p[pos:pos + n_out * n_in])
                pos += n_out * n_in
                scales = _floats(p, pos, n_out)
                pos += 4 * n_out
                bias = _floats(p, pos, n_out)
                pos += 4 * n_out
                fr.append((q, n_out, n_in, bool(relu), scales, bias))
            if pos != len(p):
                raise FormatError("%s: FRNT chunk length" % name)
        st["frontend"] = fr
        dense = []
        for p in chunks.get(b"DENS", []):
            n_out, n_in, enc, _pad = struct.unpack_from("<HHBB", p, 0)
            if enc not in (ENC_F32, ENC_INT8):
                raise FormatError("%s: unknown weight encoding %d" % (name, enc))
            if len(p) != dense_size(n_out, n_in, enc):
                raise FormatError("%s: DENS chunk length" % name)
            dense.append((n_out, n_in, enc, p))
        st["dense"] = dense
        p = _one(chunks, b"RPLY", name)
        n, nf = struct.unpack_from("<HH", p, 0)
        if len(p) != 4 + n * (6 + nf):
            raise FormatError("%s: RPLY chunk length" % name)
        samples = []
        pos = 4
        for _ in range(n):
            c, s = struct.unpack_from("<Hf", p, pos)
            samples.append((c, s, bytes(p[pos + 6:pos + 6 + nf])))
            pos += 6 + nf
        st["replay"] = (nf, samples)
        _consistent(st, name)
    except FormatError:
        raise
    except (_STRUCT_ERROR, IndexError, ValueError) as e:  # ValueError: UnicodeError in names
        raise FormatError("%s: malformed chunk (%s: %s)" % (name, type(e).__name__, e))
    return st


def _finite(v):
    return v == v and v not in (float("inf"), float("-inf"))


def _consistent(st, name):
    """Cross-check a decoded state (CRC-valid is not enough: the writer may be wrong or
    hostile); every problem is a FormatError naming the file, so load falls back."""
    (n_inputs, n_features, max_hidden, min_hidden, grow_step, max_classes, n_layers, width,
     memory_bytes, target, _rng) = st["head"]

    def bad(what):
        raise FormatError("%s: inconsistent learner (%s)" % (name, what))

    for k, v, lo, hi in (("n_inputs", n_inputs, 1, 4096), ("n_features", n_features, 1, 4096),
                         ("max_hidden", max_hidden, 1, 1024), ("min_hidden", min_hidden, 1, max_hidden),
                         ("grow_step", grow_step, 1, 1024), ("max_classes", max_classes, 2, 255),
                         ("n_layers", n_layers, 1, 4), ("hidden", width, 1, max_hidden),
                         ("memory_bytes", memory_bytes, 1, 1 << 30)):
        if not lo <= v <= hi:
            bad("%s = %d, must be %d..%d" % (k, v, lo, hi))
    if not (_finite(target) and 0.0 <= target <= 1.0):
        bad("target accuracy %r" % target)
    lr, mom, _ep, batch, _di, embed, dlr, dmom, _ve, _tr, _mpc, noise = st["hypr"]
    if not (_finite(lr) and _finite(mom) and _finite(dlr) and _finite(dmom) and _finite(noise)):
        bad("non-finite hyperparameter")
    if noise < 0:
        bad("replay_noise %r, must be >= 0" % noise)
    if batch < 1 or embed < 1:
        bad("batch and embed_dim must be >= 1")
    classes = st["classes"]
    n_classes = len(classes)
    if n_classes > max_classes:
        bad("%d classes, max_classes %d" % (n_classes, max_classes))
    for c in classes:
        if not c or len(c.encode("utf-8")) > 40:
            bad("class name of %d bytes" % len(c.encode("utf-8")))
    if len(set(classes)) != n_classes:
        bad("duplicate class names")
    for v in st["offset"] + st["scale"]:
        if not _finite(v):
            bad("non-finite input scaling")
    prev = n_inputs
    for (_q, n_out, n_in, _relu, _s, _b) in st["frontend"]:
        if n_in != prev or n_out < 1:
            bad("front-end layer %dx%d after %d values" % (n_out, n_in, prev))
        prev = n_out
    if prev != n_features:
        bad("front-end gives %d features, network takes %d" % (prev, n_features))
    sizes = [n_features] + [width] * n_layers + [n_classes]
    dense = st["dense"]
    if len(dense) != n_layers + 1:
        bad("%d dense layers, expected %d" % (len(dense), n_layers + 1))
    for l, (n_out, n_in, _enc, _p) in enumerate(dense):
        if n_out != sizes[l + 1] or n_in != sizes[l]:
            bad("dense layer %d is %dx%d, expected %dx%d" % (l, n_out, n_in, sizes[l + 1], sizes[l]))
    nf, samples = st["replay"]
    if nf != n_features:
        bad("replay samples have %d features, expected %d" % (nf, n_features))
    if len(samples) > memory_bytes // (nf + 4):
        bad("%d replay samples exceed memory_bytes %d" % (len(samples), memory_bytes))
    for c, sc, _q in samples:
        if c >= n_classes:
            bad("replay sample of class %d, the learner has %d classes" % (c, n_classes))
        if not _finite(sc):
            bad("non-finite replay scale")


def read_file(p):
    """The whole file, read only after its header says it is a learner file (a large
    file of another kind is refused without filling the RAM)."""
    with open(p, "rb") as f:
        _header(f.read(8), p)
        size = f.seek(0, 2)
        f.seek(0)
        try:
            buf = bytearray(size)  # one exact block: a growing read needs ever larger ones
        except MemoryError:
            raise FormatError("%s: %d bytes do not fit in free RAM (not a learner this board can hold)"
                              % (p, size))
        if f.readinto(buf) != size:
            raise FormatError("%s: file changed while being read" % p)
        return buf


def _unreadable(p, e):
    if e.args and e.args[0] == 2:  # ENOENT
        return FormatError("%s: no such file" % p)
    return FormatError("%s: cannot read (%s)" % (p, e))


def load_state(path, log=print):
    """The newest good state in folder `path`: learner.bin, else learner.bak (saying so)."""
    cur = join(path, FILE)
    bak = join(path, BACKUP)
    try:
        return decode(read_file(cur), cur)
    except (OSError, FormatError) as e:
        first = e if isinstance(e, FormatError) else _unreadable(cur, e)
    if exists(bak):
        try:
            st = decode(read_file(bak), bak)
        except (OSError, FormatError) as e:
            raise FormatError("%s; backup also unusable: %s" % (first, e if isinstance(e, FormatError) else _unreadable(bak, e)))
        if log:
            log("tinycil: %s; loaded the previous good copy %s" % (first, bak))
        return st
    raise first
