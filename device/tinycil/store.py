# The learner file (device/FORMAT.md): header, tagged chunks, CRC-32 trailer.
# Writes are atomic (temporary file, then renames) and loads verify everything
# before anything is used; a damaged file falls back to the previous good copy.
# The checking reader lives in store_read.py, imported only while a file is read
# and dropped after: about 11 KB of RAM (unix port) a learning board does not keep.
import os
import struct

try:
    from binascii import crc32
except ImportError:  # ports built without binascii.crc32
    crc32 = None

from .limits import FORMAT_VERSION as VERSION

MAGIC = b"TCIL"
KIND_LEARNER = 1
FILE = "learner.bin"
BACKUP = "learner.bak"
TEMP = "learner.tmp"

# version 6 added grow_undo to HYPR; version 5 allows min_hidden and hidden of 0; version 4
# added ncm_separate to HYPR; version 3 added flags, calls and ncm_var to HEAD, ncm_weight to
# HYPR and the MEAN chunk; version 2 added replay_noise to HYPR. Older files read with the added fields 0 (off): how they trained.
HEAD = "<HHHHHHHHIfIHHf"
HEAD_V2 = "<HHHHHHHHIfI"
HYPR = "<ffHHHHffHHHffHH"
HYPR_V5 = "<ffHHHHffHHHffH"
HYPR_V3 = "<ffHHHHffHHHff"
HYPR_V2 = "<ffHHHHffHHHf"
HYPR_V1 = "<ffHHHHffHHH"
ENC_F32 = 0
ENC_INT8 = 1


class FormatError(ValueError):
    pass


# MicroPython's struct has no `error` (it raises ValueError); naming struct.error in an
# except clause there raises AttributeError instead of catching anything
_STRUCT_ERROR = getattr(struct, "error", ValueError)


def _crc(data, crc=0):
    if crc32 is not None:
        return crc32(data, crc)
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def join(folder, name):
    return folder + name if folder.endswith("/") else folder + "/" + name


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def makedirs(folder):
    parts = folder.split("/")
    cur = "/" if folder.startswith("/") else ""
    for p in parts:
        if not p:
            continue
        cur = cur + p if cur.endswith("/") or not cur else cur + "/" + p
        if not exists(cur):
            os.mkdir(cur)


# ---- writing -----------------------------------------------------------------
class _Writer:
    def __init__(self, f):
        self.f = f
        self.crc = 0
        self.size = 0

    def raw(self, data):
        self.f.write(data)
        self.crc = _crc(data, self.crc)
        self.size += len(data)

    def chunk(self, tag, payload):
        self.raw(tag + struct.pack("<I", len(payload)))
        self.raw(payload)

    def f32(self, values):
        # as float32, at most 64 values (256 bytes) a write: a board's heap late in a session
        # is full of small holes, and one block as large as 784 inputs' scaling may not be there
        n = len(values)
        for i in range(0, n, 64):
            self.raw(_f32(values[i:min(n, i + 64)]))


def _f32(values):
    from array import array
    return bytes(array("f", values))


def dense_size(n_out, n_in, encoding):
    if encoding == ENC_INT8:
        return 6 + n_out * n_in + 8 * n_out
    return 6 + 4 * n_out * n_in + 4 * n_out


def write_dense(w, n_out, n_in, row, bias, encoding):
    """Stream one DENS chunk; row(i) gives output unit i's weights, one row in RAM at a time."""
    w.raw(b"DENS" + struct.pack("<I", dense_size(n_out, n_in, encoding)))
    w.raw(struct.pack("<HHBB", n_out, n_in, encoding, 0))
    if encoding == ENC_INT8:
        from .alloc import zeroed
        from .replay import quantize_into
        scales = []
        q = zeroed("b", n_in)
        for i in range(n_out):
            scales.append(quantize_into(row(i), n_in, q, 0))
            w.raw(q)
        w.raw(_f32(scales))
    else:
        for i in range(n_out):
            w.f32(row(i))
    w.f32(bias)


def write(path, state, encoding=ENC_F32, release=None):
    """Write `state` (see Learner._state) to `path` atomically. Returns the file size.
    release() runs before the renames: it closes files the state was read from (a file
    system may refuse to rename an open file)."""
    makedirs(path)
    tmp = join(path, TEMP)
    try:
        with open(tmp, "wb") as f:
            size = write_to(f, state, encoding)
    finally:
        if release is not None:
            release()
    _replace(path, tmp)
    return size


class _Counter:
    def __init__(self):
        self.n = 0

    def write(self, data):
        self.n += len(data)


class _Filler:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def write(self, data):
        n = len(data)
        self.buf[self.pos:self.pos + n] = data
        self.pos += n


def encode(state, encoding=ENC_F32):
    """The file image in one exactly sized bytearray (a learner without a folder keeps
    this as its undo copy); a growing buffer would need ever larger free blocks."""
    c = _Counter()
    write_to(c, state, encoding)
    buf = bytearray(c.n)
    write_to(_Filler(buf), state, encoding)
    return buf


def write_to(f, state, encoding=ENC_F32):
    """Stream the whole file image to the open binary file f; returns its length."""
    w = _Writer(f)
    w.raw(MAGIC + struct.pack("<BBH", VERSION, KIND_LEARNER, 0))
    w.chunk(b"HEAD", struct.pack(HEAD, *state["head"]))
    w.chunk(b"HYPR", struct.pack(HYPR, *state["hypr"]))
    names = bytearray(struct.pack("<H", len(state["classes"])))
    for c in state["classes"]:
        b = c.encode("utf-8")
        names.extend(struct.pack("<B", len(b)))
        names.extend(b)
    w.chunk(b"CLAS", names)
    w.raw(b"SCAL" + struct.pack("<I", 8 * len(state["offset"])))
    w.f32(state["offset"])
    w.f32(state["scale"])
    fr = state.get("frontend")
    if fr:
        # streamed piece by piece: the weights can be most of the file, and a board
        # holds them once (the learner's own copy is written, not copied)
        n = 2 + sum(6 + n_out * n_in + 8 * n_out for (_q, n_out, n_in, _r, _s, _b) in fr)
        w.raw(b"FRNT" + struct.pack("<IH", n, len(fr)))
        at = state.get("frontend_at")
        for (qbytes, n_out, n_in, relu, scales, bias) in fr:
            w.raw(struct.pack("<HHBB", n_out, n_in, 1 if relu else 0, 0))
            if at is not None:  # where the weights start: a board reading them from the file
                at.append(w.size)
            if callable(qbytes):  # weights kept in another file: copied piece by piece
                qbytes(w.raw)
            else:
                w.raw(qbytes)
            w.f32(scales)
            w.f32(bias)
    for n_out, n_in, row, bias in state["dense"]:
        write_dense(w, n_out, n_in, row, bias, encoding)
    rp = state["replay"]
    nf = rp.n_feat
    n = len(state["classes"])
    w.raw(b"MEAN" + struct.pack("<IHH", 4 + n * (8 + nf), n, nf))
    for c in range(n):
        r = rp.mean_row(c)
        w.raw(struct.pack("<If", rp.counts[c], rp.scale[r]))
        w.raw(rp.q[r * nf:(r + 1) * nf])
    w.raw(b"RPLY" + struct.pack("<IHH", 4 + rp.n * (6 + nf), rp.n, nf))
    for i in range(rp.n):
        w.raw(struct.pack("<Hf", rp.cls[i], rp.scale[i]))
        w.raw(rp.q[i * nf:(i + 1) * nf])
    f.write(b"END " + struct.pack("<II", 4, w.crc))
    return w.size + 12


def _replace(path, tmp):
    # current -> backup, temp -> current: at every moment one complete learner exists
    cur = join(path, FILE)
    bak = join(path, BACKUP)
    if exists(cur):
        if exists(bak):
            os.remove(bak)
        os.rename(cur, bak)
    os.rename(tmp, cur)


# ---- reading (store_read.py, imported for the call and dropped after) ------------------
def _reader():
    from . import store_read
    return store_read


def _drop_reader():
    import sys
    sys.modules.pop("tinycil.store_read", None)
    pkg = sys.modules.get("tinycil")
    if pkg is not None and "store_read" in pkg.__dict__:
        delattr(pkg, "store_read")


def decode(data, name="<bytes>"):
    """Decode a file image into a plain state dict (no backend needed)."""
    try:
        return _reader().decode(data, name)
    finally:
        _drop_reader()


def load_state(path, log=print, lazy_frontend=False):
    """The newest good state in folder `path`: learner.bin, else learner.bak (saying so).
    lazy_frontend: the front-end's weights stay in the file (store_read.read_state)."""
    try:
        return _reader().load_state(path, log, lazy_frontend)
    finally:
        _drop_reader()


def release(st):
    """Close the file a state read by load_state streams its chunks from (once the learner
    has them); nothing to do for a decoded image."""
    close = st.pop("close", None)
    if close is not None:
        close()


def _floats(buf, off, n):
    return list(struct.unpack_from("<%df" % n, buf, off))


def f32_values(ref):
    """Yield the n float32 values of a decoded SCAL half (chunk, byte offset, n), read 64 at a time."""
    p, off, n = ref
    for i in range(0, n, 64):
        k = min(64, n - i)
        for v in struct.unpack_from("<%df" % k, p.read(off + 4 * i, 4 * k), 0):
            yield v


def replay_rows(replay):
    """Yield (class, scale, int8 bytes) of a decoded RPLY chunk (nf, n, chunk), one sample at
    a time, read from the chunk as it goes (store_read._Chunk: a list of them would be a
    tuple, a float and a bytes object per sample, and the whole payload beside the pool)."""
    nf, n, p = replay
    pos = 4
    for _ in range(n):
        b = p.read(pos, 6 + nf)
        c, s = struct.unpack_from("<Hf", b, 0)
        yield c, s, memoryview(b)[6:6 + nf]
        pos += 6 + nf


def mean_rows(st, n_classes):
    """Yield (class, scale, int8 bytes, count) of a decoded MEAN chunk (nf, n, chunk)."""
    nf, n, p = st["means"]
    pos = 4
    for c in range(n):
        b = p.read(pos, 8 + nf)
        count, s = struct.unpack_from("<If", b, 0)
        yield c, s, memoryview(b)[8:8 + nf], count
        pos += 8 + nf


def dense_rows(layer):
    """Yield (weights row, bias) of a decoded DENS chunk one output unit at a time, read from
    the chunk as it goes."""
    n_out, n_in, enc, p = layer
    if enc == ENC_INT8:
        tail = p.read(6 + n_out * n_in, 8 * n_out)
        scales = _floats(tail, 0, n_out)
        bias = _floats(tail, 4 * n_out, n_out)
        for i in range(n_out):
            s = scales[i]
            yield [((v - 256) if v > 127 else v) * s for v in p.read(6 + i * n_in, n_in)], bias[i]
    else:
        bias = _floats(p.read(6 + 4 * n_out * n_in, 4 * n_out), 0, n_out)
        for i in range(n_out):
            yield _floats(p.read(6 + 4 * i * n_in, 4 * n_in), 0, n_in), bias[i]
