"""The learner file on the host (device/FORMAT.md sections 1-2), with NumPy arrays.

    data = encode(state, encoding=ENC_F32)    # bytes; ENC_INT8 quantizes the dense weights
    state = decode(data, name="learner.bin")   # raises FormatError on any failed check
    save(folder, state, encoding)             # atomic, like the board: .tmp -> .bin, old .bin -> .bak
    state = load(folder)                      # learner.bin, else learner.bak (saying so)

A state is a plain dict (see `STATE_KEYS`); reference.Learner.state()/from_state()
convert. Given the same state this writer and the board's produce the same bytes.
"""
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .limits import FORMAT_VERSION as VERSION
from .limits import MAX_LABEL_BYTES

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
HEAD_KEYS = ("n_inputs", "n_features", "max_hidden", "min_hidden", "grow_step", "max_classes",
             "n_layers", "hidden", "memory_bytes", "target", "rng_state", "flags", "calls", "ncm_var")
FLAG_SCALE_PENDING = 1   # HEAD flags bit 0: the input scaling is learned from the first learn_class
HYPR = "<ffHHHHffHHHffHH"
HYPR_V5 = "<ffHHHHffHHHffH"
HYPR_V3 = "<ffHHHHffHHHff"
HYPR_V2 = "<ffHHHHffHHHf"
HYPR_V1 = "<ffHHHHffHHH"
HYPER_KEYS = ("lr", "momentum", "epochs", "batch", "distill_iters", "embed_dim", "distill_lr",
              "distill_momentum", "val_every", "train_on_real", "max_per_class", "replay_noise", "ncm_weight",
              "ncm_separate", "grow_undo")
TAGS = (b"HEAD", b"HYPR", b"CLAS", b"SCAL", b"FRNT", b"DENS", b"MEAN", b"RPLY")
ENC_F32 = 0
ENC_INT8 = 1

# state = HEAD_KEYS + {"hyper": {HYPER_KEYS}, "classes": [str], "offset", "scale": f32 (n_inputs,),
#   "frontend": [FrontLayer], "dense": [(W f32 (n_out, n_in), b f32 (n_out,))],
#   "replay": Samples(cls u16 (n,), scale f32 (n,), q int8 (n, n_features)),
#   "means": Samples(class u16 (C,), scale, q (C, n_features)), "counts": u32 (C,)}
STATE_KEYS = HEAD_KEYS + ("hyper", "classes", "offset", "scale", "frontend", "dense", "replay", "means", "counts")


class FormatError(ValueError):
    pass


class FrontLayer:
    """One int8 front-end layer: y_i = scale_i * sum_j q_ij x_j + bias_i, ReLU if set."""

    def __init__(self, q, scale, bias, relu):
        self.q = np.asarray(q, dtype=np.int8)
        self.scale = np.asarray(scale, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.relu = bool(relu)

    @property
    def n_out(self):
        return self.q.shape[0]

    @property
    def n_in(self):
        return self.q.shape[1]

    def __call__(self, X):
        y = (X.astype(np.float32) @ self.q.astype(np.float32).T) * self.scale + self.bias
        return np.maximum(y, np.float32(0)) if self.relu else y


class Samples:
    """The replay set as stored: class index, float32 scale and int8 values per sample."""

    def __init__(self, cls, scale, q):
        self.cls = np.asarray(cls, dtype=np.uint16)
        self.scale = np.asarray(scale, dtype=np.float32)
        self.q = np.asarray(q, dtype=np.int8)

    def values(self):
        # q * scale is one rounding of an exact product, as on the board
        return self.q.astype(np.float32) * self.scale[:, None]


# ---- the one int8 rule (FORMAT.md "int8 quantization") ------------------------
def quantize_rows(M):
    """(scale f32 (rows,), q int8 (rows, cols)) for each row of M (FORMAT.md's int8 rule).

    The quotient v / scale is a float32 division (correctly rounded, as on a board), then
    rounded to the nearest integer exactly (halves up) in float64: replay samples and int8
    weights match the board's byte for byte, also where the quotient is a half.
    """
    M = np.asarray(M, dtype=np.float32)
    m = np.abs(M).max(axis=1) if M.shape[1] else np.zeros(len(M), np.float32)
    scale = np.where(m > 0, m.astype(np.float64) / 127.0, 1.0).astype(np.float32)
    t = (M / scale[:, None]).astype(np.float64)
    q = np.floor(t)
    q += (t - q) >= 0.5
    return scale, np.clip(q, -127, 127).astype(np.int8)


def dequantize_rows(scale, q):
    return np.asarray(q, dtype=np.float32) * np.asarray(scale, dtype=np.float32)[:, None]


# ---- encode ----------------------------------------------------------------------
def _f32(a):
    return np.asarray(a, dtype="<f4").tobytes()


def _chunk(tag, payload):
    return tag + struct.pack("<I", len(payload)) + payload


def encode(state, encoding=ENC_F32):
    """The file image of `state`; encoding ENC_F32 (exact) or ENC_INT8 (per-unit scales)."""
    if encoding not in (ENC_F32, ENC_INT8):
        raise ValueError("encoding must be ENC_F32 or ENC_INT8")
    out = [MAGIC + struct.pack("<BBH", VERSION, KIND_LEARNER, 0)]
    out.append(_chunk(b"HEAD", struct.pack(HEAD, *[state[k] for k in HEAD_KEYS])))
    out.append(_chunk(b"HYPR", struct.pack(HYPR, *[state["hyper"][k] for k in HYPER_KEYS])))
    names = [struct.pack("<H", len(state["classes"]))]
    for c in state["classes"]:
        b = c.encode("utf-8")
        if not 1 <= len(b) <= MAX_LABEL_BYTES:
            raise ValueError("class name %r must be 1..%d bytes of UTF-8" % (c, MAX_LABEL_BYTES))
        names.append(struct.pack("<B", len(b)) + b)
    out.append(_chunk(b"CLAS", b"".join(names)))
    out.append(_chunk(b"SCAL", _f32(state["offset"]) + _f32(state["scale"])))
    if state["frontend"]:
        p = [struct.pack("<H", len(state["frontend"]))]
        for f in state["frontend"]:
            p.append(struct.pack("<HHBB", f.n_out, f.n_in, 1 if f.relu else 0, 0))
            p.append(f.q.tobytes() + _f32(f.scale) + _f32(f.bias))
        out.append(_chunk(b"FRNT", b"".join(p)))
    for W, b in state["dense"]:
        n_out, n_in = W.shape
        head = struct.pack("<HHBB", n_out, n_in, encoding, 0)
        if encoding == ENC_INT8:
            s, q = quantize_rows(W)
            body = q.tobytes() + _f32(s) + _f32(b)
        else:
            body = _f32(W) + _f32(b)
        out.append(_chunk(b"DENS", head + body))
    rp = state["replay"]
    n, nf = rp.q.shape
    mm = state["means"]
    p = [struct.pack("<HH", len(mm.q), nf)]
    for c in range(len(mm.q)):
        p.append(struct.pack("<If", int(state["counts"][c]), float(mm.scale[c])) + mm.q[c].tobytes())
    out.append(_chunk(b"MEAN", b"".join(p)))
    p = [struct.pack("<HH", n, nf)]
    for i in range(n):
        p.append(struct.pack("<Hf", int(rp.cls[i]), float(rp.scale[i])) + rp.q[i].tobytes())
    out.append(_chunk(b"RPLY", b"".join(p)))
    body = b"".join(out)
    return body + b"END " + struct.pack("<II", 4, zlib.crc32(body))


# ---- decode ----------------------------------------------------------------------
def _chunks(data, name):
    if len(data) == 0:
        raise FormatError("%s: empty file" % name)
    if len(data) < 8 or data[:4] != MAGIC:
        raise FormatError("%s: not a tinycil learner file (bad magic)" % name)
    ver, kind, _ = struct.unpack_from("<BBH", data, 4)
    if not 1 <= ver <= VERSION:
        raise FormatError("%s: format version %d, this tinycil reads versions 1 to %d" % (name, ver, VERSION))
    if kind != KIND_LEARNER:
        raise FormatError("%s: file kind %d is not a learner" % (name, kind))
    chunks = []
    pos = 8
    while True:
        if pos + 8 > len(data):
            raise FormatError("%s: truncated at byte %d (no END chunk)" % (name, pos))
        tag = bytes(data[pos:pos + 4])
        (n,) = struct.unpack_from("<I", data, pos + 4)
        if tag == b"END ":
            if n != 4 or pos + 12 != len(data):
                raise FormatError("%s: bad END chunk or trailing bytes" % name)
            (want,) = struct.unpack_from("<I", data, pos + 8)
            if zlib.crc32(data[:pos]) != want:
                raise FormatError("%s: checksum mismatch (file corrupt)" % name)
            return chunks
        if tag not in TAGS:
            raise FormatError("%s: unknown chunk %r" % (name, tag))
        if pos + 8 + n > len(data):
            raise FormatError("%s: truncated inside chunk %r" % (name, tag))
        chunks.append((tag, data[pos + 8:pos + 8 + n]))
        pos += 8 + n


def _one(chunks, tag, name):
    found = [p for t, p in chunks if t == tag]
    if len(found) != 1:
        raise FormatError("%s: needs exactly one %s chunk" % (name, tag.decode()))
    return found[0]


def _floats(p, off, n):
    return np.frombuffer(p, dtype="<f4", count=n, offset=off).astype(np.float32)


def _hypr(version, payload):
    if version == 1:
        return struct.unpack(HYPR_V1, payload) + (0.0, 0.0, 0, 0)
    if version == 2:
        return struct.unpack(HYPR_V2, payload) + (0.0, 0, 0)
    if version == 3:
        return struct.unpack(HYPR_V3, payload) + (0, 0)
    if version < 6:
        return struct.unpack(HYPR_V5, payload) + (0,)
    return struct.unpack(HYPR, payload)


def _head(version, payload):
    if version < 3:
        return struct.unpack(HEAD_V2, payload) + (0, 0, 0.0)
    return struct.unpack(HEAD, payload)


def decode(data, name="<bytes>"):
    """The state held in a file image; FormatError (a ValueError) names any problem."""
    data = bytes(data)
    chunks = _chunks(data, name)
    st = {}
    try:
        st.update(zip(HEAD_KEYS, _head(data[4], _one(chunks, b"HEAD", name))))
        st["hyper"] = dict(zip(HYPER_KEYS, _hypr(data[4], _one(chunks, b"HYPR", name))))
        p = _one(chunks, b"CLAS", name)
        (n,) = struct.unpack_from("<H", p, 0)
        pos = 2
        classes = []
        for _ in range(n):
            ln = p[pos]
            classes.append(p[pos + 1:pos + 1 + ln].decode("utf-8"))
            pos += 1 + ln
        if pos != len(p):
            raise FormatError("%s: CLAS chunk length" % name)
        st["classes"] = classes
        ni = st["n_inputs"]
        p = _one(chunks, b"SCAL", name)
        if len(p) != 8 * ni:
            raise FormatError("%s: SCAL chunk length" % name)
        st["offset"] = _floats(p, 0, ni)
        st["scale"] = _floats(p, 4 * ni, ni)
        fronts = [p for t, p in chunks if t == b"FRNT"]
        if len(fronts) > 1:
            raise FormatError("%s: more than one FRNT chunk" % name)
        st["frontend"] = []
        for p in fronts:
            (nl,) = struct.unpack_from("<H", p, 0)
            pos = 2
            for _ in range(nl):
                n_out, n_in, relu, _pad = struct.unpack_from("<HHBB", p, pos)
                pos += 6
                q = np.frombuffer(p, dtype=np.int8, count=n_out * n_in, offset=pos).reshape(n_out, n_in)
                pos += n_out * n_in
                sc = _floats(p, pos, n_out)
                bias = _floats(p, pos + 4 * n_out, n_out)
                pos += 8 * n_out
                st["frontend"].append(FrontLayer(q, sc, bias, relu))
            if pos != len(p):
                raise FormatError("%s: FRNT chunk length" % name)
        dense = []
        for p in [p for t, p in chunks if t == b"DENS"]:
            n_out, n_in, enc, _pad = struct.unpack_from("<HHBB", p, 0)
            if enc == ENC_F32:
                if len(p) != 6 + 4 * n_out * n_in + 4 * n_out:
                    raise FormatError("%s: DENS chunk length" % name)
                W = _floats(p, 6, n_out * n_in).reshape(n_out, n_in)
                b = _floats(p, 6 + 4 * n_out * n_in, n_out)
            elif enc == ENC_INT8:
                if len(p) != 6 + n_out * n_in + 8 * n_out:
                    raise FormatError("%s: DENS chunk length" % name)
                q = np.frombuffer(p, dtype=np.int8, count=n_out * n_in, offset=6).reshape(n_out, n_in)
                W = dequantize_rows(_floats(p, 6 + n_out * n_in, n_out), q)
                b = _floats(p, 6 + n_out * n_in + 4 * n_out, n_out)
            else:
                raise FormatError("%s: unknown weight encoding %d" % (name, enc))
            dense.append((W, b))
        st["dense"] = dense
        p = _one(chunks, b"RPLY", name)
        n, nf = struct.unpack_from("<HH", p, 0)
        if len(p) != 4 + n * (6 + nf):
            raise FormatError("%s: RPLY chunk length" % name)
        rec = np.frombuffer(p, dtype=np.dtype([("c", "<u2"), ("s", "<f4"), ("q", "i1", (nf,))]),
                            count=n, offset=4)
        st["replay"] = Samples(rec["c"], rec["s"], rec["q"].reshape(n, nf))
        st["means"], st["counts"] = _means(chunks, name, data[4], st)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError("%s: malformed chunk (%s)" % (name, e))
    _check_shapes(st, name)
    return st


def _means(chunks, name, version, st):
    """(means Samples, counts) from the MEAN chunk; a file older than version 3 has none: its class
    means are then the means of its replay samples, counts their number (FORMAT.md 2)."""
    k = len(st["classes"])
    nf = st["n_features"]
    if version < 3:
        if any(t == b"MEAN" for t, _ in chunks):
            raise FormatError("%s: a MEAN chunk in a version %d file" % (name, version))
        rp = st["replay"]
        vals = rp.values()
        means, counts = np.zeros((k, nf), np.float32), np.zeros(k, np.uint32)
        for c in range(k):
            rows = vals[rp.cls == c]
            counts[c] = len(rows)
            q, sc = rp.q[rp.cls == c], rp.scale[rp.cls == c]
            if len(rows):  # float32 sums of exact products, in sample order, as the board's reader
                acc = np.zeros(nf, np.float32)
                for qq, ss in zip(q, sc):
                    acc = (acc.astype(np.float64) + qq.astype(np.float64) * float(ss)).astype(np.float32)
                means[c] = (acc / np.float32(len(rows))).astype(np.float32)
        scale, q = quantize_rows(means)
        return Samples(np.arange(k), scale, q), counts
    p = _one(chunks, b"MEAN", name)
    n, mnf = struct.unpack_from("<HH", p, 0)
    if len(p) != 4 + n * (8 + mnf) or n != k or mnf != nf:
        raise FormatError("%s: MEAN chunk length" % name)
    rec = np.frombuffer(p, dtype=np.dtype([("n", "<u4"), ("s", "<f4"), ("q", "i1", (nf,))]), count=n, offset=4)
    return Samples(np.arange(n), rec["s"], rec["q"].reshape(n, nf)), rec["n"].astype(np.uint32)


def _check_shapes(st, name):
    """Sizes are the active ones (FORMAT.md section 2); anything else is a damaged file."""
    sizes = [st["n_features"]] + [st["hidden"]] * st["n_layers"] + [len(st["classes"])]
    if len(st["dense"]) != st["n_layers"] + 1:
        raise FormatError("%s: %d dense layers, expected %d" % (name, len(st["dense"]), st["n_layers"] + 1))
    for l, (W, _) in enumerate(st["dense"]):
        if W.shape != (sizes[l + 1], sizes[l]):
            raise FormatError("%s: dense layer %d is %dx%d, expected %dx%d"
                              % ((name, l) + W.shape + (sizes[l + 1], sizes[l])))
    prev = st["n_inputs"]
    for f in st["frontend"]:
        if f.n_in != prev:
            raise FormatError("%s: front-end layer takes %d inputs, previous gives %d" % (name, f.n_in, prev))
        prev = f.n_out
    if prev != st["n_features"]:
        raise FormatError("%s: inputs reach the network as %d features, expected %d"
                          % (name, prev, st["n_features"]))
    rp = st["replay"]
    if rp.q.shape[1] != st["n_features"] or (len(rp.cls) and int(rp.cls.max()) >= len(st["classes"])):
        raise FormatError("%s: replay samples do not fit the learner" % name)


# ---- folders (FORMAT.md section 1) ---------------------------------------------------
def save(folder, state, encoding=ENC_F32):
    """Write atomically to folder/learner.bin, keeping the previous one as learner.bak."""
    return save_bytes(folder, encode(state, encoding))


def save_bytes(folder, data):
    """Atomic save of a ready file image (FORMAT.md section 1). Returns its size."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp, cur, bak = folder / TEMP, folder / FILE, folder / BACKUP
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if cur.exists():
        if bak.exists():
            bak.unlink()
        cur.rename(bak)
    tmp.rename(cur)
    return len(data)


def load(folder, log=print):
    """The newest good state in `folder`: learner.bin, else learner.bak (saying so)."""
    folder = Path(folder)
    cur, bak = folder / FILE, folder / BACKUP
    try:
        return decode(cur.read_bytes(), str(cur))
    except (OSError, FormatError) as e:
        first = e if isinstance(e, FormatError) else FormatError("%s: cannot read (%s)" % (cur, e))
    if bak.exists():
        try:
            st = decode(bak.read_bytes(), str(bak))
        except (OSError, FormatError) as e:
            raise FormatError("%s; backup also unusable: %s" % (first, e))
        if log:
            log("tinycil: %s; loaded the previous good copy %s" % (first, bak))
        return st
    raise first


def learner_path(path):
    """A learner folder or a learner file -> the file to read."""
    path = Path(path)
    return path / FILE if path.is_dir() else path


def read(path):
    """The state in a learner folder (with backup fallback) or a single file."""
    path = Path(path)
    if path.is_dir():
        return load(path, log=None)
    try:
        return decode(path.read_bytes(), str(path))
    except OSError as e:
        raise FormatError("%s: cannot read (%s)" % (path, e))
