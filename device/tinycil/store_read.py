# Reading and checking a learner file (device/FORMAT.md). Imported by store.py
# only while a file is read: see store.decode and store.load_state.
import struct

from .alloc import zeroed
from .limits import MAX_LABEL_BYTES
from .store import (BACKUP, ENC_F32, ENC_INT8, FILE, HEAD, HEAD_V2, HYPR, HYPR_V1, HYPR_V2, HYPR_V3, HYPR_V5, KIND_LEARNER,
                    MAGIC, VERSION, FormatError, _STRUCT_ERROR, _crc, _floats, dense_size, exists, f32_values, join,
                    mean_rows, replay_rows)


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
    if not 1 <= ver <= VERSION:
        raise FormatError("%s: format version %d, this tinycil reads versions 1 to %d" % (name, ver, VERSION))
    if kind != KIND_LEARNER:
        raise FormatError("%s: file kind %d is not a learner" % (name, kind))


_TAGS = (b"HEAD", b"HYPR", b"CLAS", b"SCAL", b"FRNT", b"DENS", b"MEAN", b"RPLY")
_MAX_CHUNKS = 16   # a learner file has at most 12: 7 kinds once, DENS up to 5 times (FORMAT.md 2)


class _Image:
    """A file image in RAM as a source for _parse: reads are views, not copies."""

    def __init__(self, data):
        self.m = memoryview(data)
        self.size = len(data)

    def read(self, pos, n):
        return self.m[pos:pos + n]

    def crc(self, pos, n):
        return _crc(self.m[pos:pos + n])

    def read_int8(self, pos, n):
        return bytes(self.m[pos:pos + n])  # the learner copies it (the image may go)


class _File:
    """An open learner file as a source for _parse: each chunk is read on its own (never the
    whole file in one block), the checksum in small pieces."""

    def __init__(self, f, name):
        self.f = f
        self.name = name
        self.size = f.seek(0, 2)

    def read(self, pos, n):
        try:
            buf = bytearray(n)  # one exact block: a growing read needs ever larger ones
        except MemoryError:
            raise FormatError("%s: a chunk of %d bytes does not fit in free RAM (not a learner this "
                              "board can hold)" % (self.name, n))
        return self._fill(buf, pos, n)

    def read_int8(self, pos, n):
        """n bytes at pos as an int8 array the learner can keep as it is (no second copy)."""
        try:
            buf = zeroed("b", n)
        except MemoryError:
            raise FormatError("%s: %d bytes of front-end weights do not fit in free RAM (load it with "
                              "frontend_in_ram=False)" % (self.name, n))
        return self._fill(buf, pos, n)

    def _fill(self, buf, pos, n):
        self.f.seek(pos)
        if self.f.readinto(buf) != n:
            raise FormatError("%s: file changed while being read" % self.name)
        return buf

    def crc(self, pos, n):
        piece = bytearray(256)
        crc = 0
        self.f.seek(pos)
        while n > 0:
            k = self.f.readinto(piece)
            if not k:
                raise FormatError("%s: file changed while being read" % self.name)
            k = min(k, n)
            crc = _crc(memoryview(piece)[:k], crc)
            n -= k
        return crc


class _Chunk:
    """A chunk's payload left where it is (a file, or an image in RAM), read a piece at a time:
    a learner's weights, replay rows and class means go from the file into its buffers row
    by row, and are never held as one more copy beside them (store.dense_rows, replay_rows)."""

    def __init__(self, src, at, n):
        self.src = src
        self.at = at
        self.n = n

    def __len__(self):
        return self.n

    def read(self, off, k):
        return self.src.read(self.at + off, k)


# chunks read a piece at a time; the small ones (HEAD, HYPR, CLAS) are read whole
_STREAMED = (b"SCAL", b"FRNT", b"DENS", b"MEAN", b"RPLY")


def _parse(src, name):
    """Check and split a file into {tag: [payload, ...]}; a chunk whose tag is in _STREAMED is
    left where it is, as a _Chunk."""
    _header(src.read(0, min(8, src.size)), name)
    chunks = {}
    pos = 8
    count = 0
    size = src.size
    while True:
        if pos + 8 > size:
            raise FormatError("%s: truncated at byte %d (no END chunk)" % (name, pos))
        head = src.read(pos, 8)
        tag = bytes(head[:4])
        (n,) = struct.unpack_from("<I", head, 4)
        if tag == b"END ":
            if pos + 12 > size:
                raise FormatError("%s: truncated inside the END chunk" % name)
            if n != 4 or pos + 12 != size:
                raise FormatError("%s: bad END chunk or trailing bytes" % name)
            (want,) = struct.unpack_from("<I", src.read(pos + 8, 4), 0)
            if src.crc(0, pos) != want:
                raise FormatError("%s: checksum mismatch (file corrupt)" % name)
            return chunks
        if tag not in _TAGS:  # before anything is kept: a file of zeros is 8-byte chunks
            raise FormatError("%s: unknown chunk %r" % (name, tag))
        if pos + 8 + n > size:
            raise FormatError("%s: truncated inside chunk %r" % (name, tag))
        count += 1
        if count > _MAX_CHUNKS:
            raise FormatError("%s: more than %d chunks" % (name, _MAX_CHUNKS))
        chunks.setdefault(tag, []).append(_Chunk(src, pos + 8, n) if tag in _STREAMED else src.read(pos + 8, n))
        pos += 8 + n


def _one(chunks, tag, name):
    v = chunks.get(tag)
    if not v or len(v) != 1:
        raise FormatError("%s: needs exactly one %s chunk" % (name, tag.decode()))
    return v[0]


def _frontend(src, chunks, name, lazy):
    """The FRNT layers as (q, n_out, n_in, relu, scales, bias). q is the int8 weights' bytes,
    or, when `lazy`, their position in the file: the board then reads them from the file as
    it computes (FORMAT.md 8), and never holds them. The chunk is always left in the file by
    _parse: held, each layer's weights are then read into one exact block, instead of the
    whole chunk, a slice of it and a copy of that (three blocks as large as the weights)."""
    fr = []
    for p in chunks.get(b"FRNT", []):
        at, n, read = p.at, p.n, p.read
        if n < 2:
            raise FormatError("%s: FRNT chunk length" % name)
        (nl,) = struct.unpack_from("<H", read(0, 2), 0)
        pos = 2
        for _ in range(nl):
            if pos + 6 > n:
                raise FormatError("%s: FRNT chunk length" % name)
            n_out, n_in, relu, _pad = struct.unpack_from("<HHBB", read(pos, 6), 0)
            pos += 6
            nq = n_out * n_in
            if pos + nq + 8 * n_out > n:
                raise FormatError("%s: FRNT chunk length" % name)
            q = at + pos if lazy else src.read_int8(at + pos, nq)
            pos += nq
            sb = read(pos, 8 * n_out)
            scales = _floats(sb, 0, n_out)
            bias = _floats(sb, 4 * n_out, n_out)
            pos += 8 * n_out
            fr.append((q, n_out, n_in, bool(relu), scales, bias))
        if pos != n:
            raise FormatError("%s: FRNT chunk length" % name)
    return fr


def decode(data, name="<bytes>"):
    """Decode a file image in RAM into a plain state dict (no backend needed)."""
    return _decode(_Image(data), name)


def _decode(src, name, lazy_frontend=False):
    chunks = _parse(src, name)
    st = {}
    try:
        ver = src.read(4, 1)[0]
        if ver < 3:  # fields added since are 0 (off): how those files trained
            st["head"] = struct.unpack(HEAD_V2, _one(chunks, b"HEAD", name)) + (0, 0, 0.0)
            hy = _one(chunks, b"HYPR", name)
            st["hypr"] = (struct.unpack(HYPR_V1, hy) + (0.0,) if ver == 1 else struct.unpack(HYPR_V2, hy)) + (0.0, 0, 0)
        else:
            st["head"] = struct.unpack(HEAD, _one(chunks, b"HEAD", name))
            hy = _one(chunks, b"HYPR", name)
            st["hypr"] = (struct.unpack(HYPR_V3, hy) + (0, 0) if ver == 3 else
                          struct.unpack(HYPR_V5, hy) + (0,) if ver < 6 else struct.unpack(HYPR, hy))
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
        # where the values are (store.f32_values reads them): the learner's own arrays are
        # filled from the file, never a second copy beside them (6 KB at 784 inputs)
        st["offset"] = (p, 0, n_inputs)
        st["scale"] = (p, 4 * n_inputs, n_inputs)
        st["frontend"] = _frontend(src, chunks, name, lazy_frontend)
        dense = []
        for p in chunks.get(b"DENS", []):
            if len(p) < 6:
                raise FormatError("%s: DENS chunk length" % name)
            n_out, n_in, enc, _pad = struct.unpack_from("<HHBB", p.read(0, 6), 0)
            if enc not in (ENC_F32, ENC_INT8):
                raise FormatError("%s: unknown weight encoding %d" % (name, enc))
            if len(p) != dense_size(n_out, n_in, enc):
                raise FormatError("%s: DENS chunk length" % name)
            dense.append((n_out, n_in, enc, p))
        st["dense"] = dense
        p = _one(chunks, b"RPLY", name)
        if len(p) < 4:
            raise FormatError("%s: RPLY chunk length" % name)
        n, nf = struct.unpack_from("<HH", p.read(0, 4), 0)
        if len(p) != 4 + n * (6 + nf):
            raise FormatError("%s: RPLY chunk length" % name)
        st["replay"] = (nf, n, p)  # the chunk: store.replay_rows walks it
        st["means"] = _means(chunks, name, ver, st)
        _consistent(st, name)
    except FormatError:
        raise
    except (_STRUCT_ERROR, IndexError, ValueError) as e:  # ValueError: UnicodeError in names
        raise FormatError("%s: malformed chunk (%s: %s)" % (name, type(e).__name__, e))
    return st


def _means(chunks, name, ver, st):
    """The MEAN chunk as (nf, n, payload); a file older than version 3 has none: its class means
    are then the means of its replay samples (FORMAT.md 2), built here into a MEAN payload."""
    if ver >= 3:
        p = _one(chunks, b"MEAN", name)
        if len(p) < 4:
            raise FormatError("%s: MEAN chunk length" % name)
        n, nf = struct.unpack_from("<HH", p.read(0, 4), 0)
        if len(p) != 4 + n * (8 + nf):
            raise FormatError("%s: MEAN chunk length" % name)
        return (nf, n, p)
    if b"MEAN" in chunks:
        raise FormatError("%s: a MEAN chunk in a version %d file" % (name, ver))
    from .replay import quantize_into
    nf, n, _ = st["replay"]
    k = len(st["classes"])
    p = bytearray(4 + k * (8 + nf))
    struct.pack_into("<HH", p, 0, k, nf)
    acc = zeroed("f", nf)
    q = zeroed("b", nf)
    for c in range(k):
        cnt = 0
        for j in range(nf):
            acc[j] = 0.0
        for cc, s, qq in replay_rows(st["replay"]):
            if cc == c:
                cnt += 1
                for j in range(nf):
                    acc[j] += ((qq[j] - 256) if qq[j] > 127 else qq[j]) * s
        for j in range(nf):
            acc[j] = acc[j] / cnt if cnt else 0.0
        s = quantize_into(acc, nf, q, 0)
        o = 4 + c * (8 + nf)
        struct.pack_into("<If", p, o, cnt, s)
        p[o + 8:o + 8 + nf] = q
    return (nf, k, _Chunk(_Image(p), 0, len(p)))


def _finite(v):
    return v == v and v not in (float("inf"), float("-inf"))


def _consistent(st, name):
    """Cross-check a decoded state (CRC-valid is not enough: the writer may be wrong or
    hostile); every problem is a FormatError naming the file, so load falls back."""
    (n_inputs, n_features, max_hidden, min_hidden, grow_step, max_classes, n_layers, width,
     memory_bytes, target, _rng, _flags, _calls, ncm_var) = st["head"]

    def bad(what):
        raise FormatError("%s: inconsistent learner (%s)" % (name, what))

    for k, v, lo, hi in (("n_inputs", n_inputs, 1, 4096), ("n_features", n_features, 1, 4096),
                         ("max_hidden", max_hidden, 1, 1024), ("min_hidden", min_hidden, 0, max_hidden),
                         ("grow_step", grow_step, 1, 1024), ("max_classes", max_classes, 2, 255),
                         ("n_layers", n_layers, 1, 4), ("hidden", width, min_hidden, max_hidden),
                         ("memory_bytes", memory_bytes, 1, 1 << 30)):
        if not lo <= v <= hi:
            bad("%s = %d, must be %d..%d" % (k, v, lo, hi))
    if not (_finite(target) and 0.0 <= target <= 1.0):
        bad("target accuracy %r" % target)
    lr, mom, _ep, batch, _di, embed, dlr, dmom, _ve, _tr, _mpc, noise, ncm, separate, undo = st["hypr"]
    if not (_finite(lr) and _finite(mom) and _finite(dlr) and _finite(dmom) and _finite(noise) and _finite(ncm)
            and _finite(ncm_var)):
        bad("non-finite hyperparameter")
    if noise < 0 or ncm < 0 or ncm_var < 0:
        bad("replay_noise, ncm_weight and ncm_var must be >= 0")
    if batch < 1 or embed < 1:
        bad("batch and embed_dim must be >= 1")
    if separate > 1 or undo > 1:
        bad("ncm_separate = %d, grow_undo = %d: each must be 0 or 1" % (separate, undo))
    classes = st["classes"]
    n_classes = len(classes)
    if n_classes > max_classes:
        bad("%d classes, max_classes %d" % (n_classes, max_classes))
    for c in classes:
        if not c or len(c.encode("utf-8")) > MAX_LABEL_BYTES:
            bad("class name of %d bytes" % len(c.encode("utf-8")))
    if len(set(classes)) != n_classes:
        bad("duplicate class names")
    for a in (st["offset"], st["scale"]):
        for v in f32_values(a):
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
    nf, n, _p = st["replay"]
    if nf != n_features:
        bad("replay samples have %d features, expected %d" % (nf, n_features))
    if n > memory_bytes // (nf + 4):
        bad("%d replay samples exceed memory_bytes %d" % (n, memory_bytes))
    for c, sc, _q in replay_rows(st["replay"]):
        if c >= n_classes:
            bad("replay sample of class %d, the learner has %d classes" % (c, n_classes))
        if not _finite(sc):
            bad("non-finite replay scale")
    mnf, mn, _p = st["means"]
    if mnf != n_features or mn != n_classes:
        bad("%d class means of %d features, expected %d of %d" % (mn, mnf, n_classes, n_features))
    for _c, sc, _q, _count in mean_rows(st, n_classes):
        if not _finite(sc):
            bad("non-finite class mean scale")


def read_state(p, lazy_frontend=False):
    """Decode the learner file p, read chunk by chunk. With lazy_frontend the front-end's
    weights stay in the file (st["file"] names it, their positions are in st["frontend"])."""
    f = open(p, "rb")
    try:
        st = _decode(_File(f, p), p, lazy_frontend)
    except BaseException:
        f.close()
        raise
    st["file"] = p
    st["close"] = f.close  # its chunks are read from f until the learner holds them: store.release
    return st


def _unreadable(p, e):
    if e.args and e.args[0] == 2:  # ENOENT
        return FormatError("%s: no such file" % p)
    return FormatError("%s: cannot read (%s)" % (p, e))


def load_state(path, log=print, lazy_frontend=False):
    """The newest good state in folder `path`: learner.bin, else learner.bak (saying so)."""
    cur = join(path, FILE)
    bak = join(path, BACKUP)
    try:
        return read_state(cur, lazy_frontend)
    except (OSError, FormatError) as e:
        first = e if isinstance(e, FormatError) else _unreadable(cur, e)
    if exists(bak):
        try:
            st = read_state(bak, lazy_frontend)
        except (OSError, FormatError) as e:
            raise FormatError("%s; backup also unusable: %s" % (first, e if isinstance(e, FormatError) else _unreadable(bak, e)))
        if log:
            log("tinycil: %s; loaded the previous good copy %s" % (first, bak))
        return st
    raise first
