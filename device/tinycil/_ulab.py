# ulab kernels: the same functions as _pure.py (contract: stubs/tinycil/_backend.pyi) on
# 2-D ulab arrays of fixed capacity. Only 2-D arrays are used (firmware builds default to
# ULAB_MAX_DIMS=2); np.dot always gets two 2-D operands (ulab's 1-D x 2-D case is not
# numpy's). Hot paths work on views in place; every np.dot result is a temporary, so
# products and temporaries are taken in blocks of at most BLOCK rows to keep each one small: on a
# fragmented heap a large temporary finds no block long before the free bytes run out
# (a board's heap has few large free blocks).
from array import array

from ulab import numpy as np

from ._int8 import relu_dots, rows_times
from .alloc import zeroed
from .limits import CHUNK, MAX_ABS

NAME = "ulab"
BLOCK = 4
_WIDE = 1.0 + 1e-12 != 1.0  # float64 build: arrays hold wider values than a file stores


def zeros(rows, cols):
    return np.zeros((rows, cols), dtype=np.float)


def _floats(a, i0, n):
    # a[i0:i0+n] of an array('f') as a float ndarray: a view of its memory where the build's
    # float is float32, a copy on a float64 build (ulab has no float32 dtype there)
    if _WIDE:
        return np.array(a[i0:i0 + n])
    return np.frombuffer(a, dtype=np.float, count=n, offset=4 * i0)


def _ints(a, n, i0=0):
    # a[i0:i0+n] of an array('i') as a float ndarray. ulab has no int32 dtype, and np.array()
    # reads an array item by item (ten times slower), so each little-endian int32 is read
    # as its int16 high half and uint16 low half: hi * 65536 + lo is one exact sum, rounded
    # once as converting the int would be
    lo = np.frombuffer(a, dtype=np.uint16, count=2 * n, offset=4 * i0)[0::2]
    v = np.frombuffer(a, dtype=np.int16, count=2 * n, offset=4 * i0)[1::2] * 65536.0
    v += lo
    return v


def get(M, i, j):
    return float(M[i, j])


def put(M, i, j, v):
    M[i, j] = v


def float_row(n):
    # (a float array of n values, a 1 x n matrix sharing its memory): Python writes the array
    # fast, the kernels read the matrix; its items are the build's float (float64 on some hosts)
    buf = zeroed("d" if _WIDE else "f", n)
    return buf, np.frombuffer(buf, dtype=np.float).reshape((1, n))


def row(M, i, n):
    return [float(v) for v in M[i, :n]]


def scale_row(x, off, sc, M, n):
    # one vectorized pass for typed arrays (every item a number); lists, tuples and the rest
    # go through the caller's checked loop, which also names any bad value
    if not (type(x) is array or (type(x) is np.ndarray and x.dtype == np.float)):
        return False
    # views, not copies, where they can be (a 784-input row is a 3 KB temporary): off and sc are
    # the learner's array('f'); x is the caller's, of any typecode (MicroPython's array has no
    # .typecode: an empty slice's repr names it). ulab's v[:] = w copies w through a temporary of
    # its size; zeroing v and adding w in place does not.
    v = M[0, :n]
    v[:] = 0.0
    v += x if type(x) is np.ndarray else (
        _floats(x, 0, n) if not _WIDE and repr(x[:0]) == "array('f')" else np.array(x))
    v -= _floats(off, 0, n)
    v *= _floats(sc, 0, n)
    return bool(np.all(np.isfinite(v))) and max(float(np.max(v)), -float(np.min(v))) <= MAX_ABS


def set_row(M, i, values, n):
    M[i, :n] = np.array(values[:n]) if not isinstance(values, np.ndarray) else values[:n]


def copy_row(src, si, dst, di, n):
    dst[di, :n] = src[si, :n]


def fill(M, rows, cols, v):
    if rows and cols:
        M[:rows, :cols] = v


def fill_uniform(M, r0, r1, c0, c1, rng, scale):
    # the draws must come in the board's order; one row array per row, then one copy
    n = c1 - c0
    if n <= 0:
        return
    buf = zeroed("d" if _WIDE else "f", n)
    for i in range(r0, r1):
        for j in range(n):
            buf[j] = rng.uniform() * scale
        M[i, c0:c1] = np.frombuffer(buf, dtype=np.float)


def round_f32(M, r0, r1, cols):
    # rows r0..r1-1 of M to float32 values (a float64 build's arrays hold wider ones)
    if not _WIDE or cols <= 0:
        return
    for i in range(r0, r1):
        M[i, :cols] = np.array(array("f", M[i, :cols]))


def linear(X, W, b, Y, m, n_in, n_out, relu):
    Wt = W[:n_out, :n_in].transpose()
    for r0 in range(0, m, BLOCK):  # np.dot's result is a temporary: BLOCK rows at most
        r1 = min(r0 + BLOCK, m)
        Z = Y[r0:r1, :n_out]
        Z[:, :] = np.dot(X[r0:r1, :n_in], Wt)
        if b is not None:
            Z += b[:1, :n_out]
        if relu:
            Z[:, :] = np.maximum(Z, 0.0)


def sgd_linear(W, V, b, Vb, X, dY, m, n_in, n_out, lr, mu):
    d = dY[:m, :n_out]
    x = X[:m, :n_in]
    for i0 in range(0, n_out, BLOCK):
        i1 = min(i0 + BLOCK, n_out)
        g = np.dot(d[:, i0:i1].transpose(), x)
        g *= lr
        if V is None:
            w = W[i0:i1, :n_in]
            w -= g
        else:
            v = V[i0:i1, :n_in]
            v *= mu
            v -= g
            w = W[i0:i1, :n_in]
            w += v
    gb = np.sum(d, axis=0).reshape((1, n_out))
    gb *= lr
    bb = b[:1, :n_out]
    if Vb is None:
        bb -= gb
    else:
        vb = Vb[:1, :n_out]
        vb *= mu
        vb -= gb
        bb += vb


def relu_mask(dH, H, m, n):
    view = dH[:m, :n]
    view *= H[:m, :n] > 0.0


def softmax_rows(Z, m, n, lse=None):
    view = Z[:m, :n]
    mx = np.max(view, axis=1).reshape((m, 1))
    view -= mx
    view[:, :] = np.exp(view)  # (ulab 6.12's out= writes a strided view as if it were dense)
    s = np.sum(view, axis=1).reshape((m, 1))
    view /= s
    if lse is not None:
        t = mx + np.log(s)
        for r in range(m):
            lse[r] = float(t[r, 0])


def xent_delta(Z, labels, w, m, n, inv):
    for r in range(m):
        Z[r, labels[r]] -= 1.0
    view = Z[:m, :n]
    view *= np.array(w[:m]).reshape((m, 1)) * inv


def sgd(W, V, G, rows, cols, lr, mu):
    for r0 in range(0, rows, BLOCK):
        r1 = min(r0 + BLOCK, rows)
        w = W[r0:r1, :cols]
        if V is None:
            w -= G[r0:r1, :cols] * lr
            continue
        v = V[r0:r1, :cols]
        v *= mu
        v -= G[r0:r1, :cols] * lr
        w += v


def matmul_acc(D, W, G, m, n_in, n_out):
    for r0 in range(0, m, BLOCK):
        r1 = min(r0 + BLOCK, m)
        g = G[r0:r1, :n_in]
        g += np.dot(D[r0:r1, :n_out], W[:n_out, :n_in])


def col_mean(H, m, n, out):
    out[:1, :n] = np.mean(H[:m, :n], axis=0).reshape((1, n))


def axpy(Y, X, rows, cols, alpha):
    y = Y[:rows, :cols]
    y += X[:rows, :cols] * alpha


def fill_rows(D, src, m, n, scale):
    r = src[:1, :n] * scale
    for i in range(m):
        D[i:i + 1, :n] = r


def clip_rows(M, m, n, lo, hi):
    for r0 in range(0, m, BLOCK):
        v = M[r0:min(r0 + BLOCK, m), :n]
        v[:, :] = np.minimum(np.maximum(v, lo[:1, :n]), hi[:1, :n])


def sumsq(M, rows, cols):
    t = 0.0
    for r0 in range(0, rows, BLOCK):
        v = M[r0:min(r0 + BLOCK, rows), :cols]
        t += float(np.sum(v * v))
    return t


def all_finite(M, rows, cols):
    if not rows or not cols:
        return True
    return bool(np.all(np.isfinite(M[:rows, :cols])))


def argmax_rows(Z, m, n, out, o=0):
    idx = np.argmax(Z[:m, :n], axis=1)
    for r in range(m):
        out[o + r] = int(idx[r])


# ---- int8 rows: the pool (replay samples, a call's samples, class means) ------------------
def pool_view(q, rows, cols):
    # the pool's array('b') as a rows x cols int8 matrix sharing its memory
    return np.frombuffer(q, dtype=np.int8).reshape((rows, cols))


def gather_rows(X, r0, P, idx, scales, i0, m, nf):
    # rows r0..r0+m-1 of X = pool rows idx[i0..i0+m-1] (int8), each times its scales[i0 + r]
    if m <= 0:
        return
    for b0 in range(0, m, BLOCK):  # np.take's result is a temporary: BLOCK rows at most
        mb = min(BLOCK, m - b0)
        x = X[r0 + b0:r0 + b0 + mb, :nf]
        x[:, :] = np.take(P, np.frombuffer(idx, dtype=np.uint16, count=mb, offset=2 * (i0 + b0)), axis=0)
        x *= _floats(scales, i0 + b0, mb).reshape((mb, 1))


def add_window(X, r, t, o, nf, a):
    x = X[r, :nf]
    x += np.array(t[o:o + nf]) * a


def linear_q(X, P, p0, a, b, Y, m, nf, n):
    Pt = P[p0:p0 + n, :].transpose()
    for r0 in range(0, m, BLOCK):  # BLOCK rows at a time, so that each temporary is small
        r1 = min(r0 + BLOCK, m)
        y = Y[r0:r1, :n]
        z = np.dot(X[r0:r1, :nf], Pt)
        z *= a[:1, :n]
        y += z
    y = Y[:m, :n]
    y += b[:1, :n]


def col_range_q(P, p0, n, nf, sc, lo, hi):
    la = lo[:1, :nf]
    ha = hi[:1, :nf]
    v = P[p0:p0 + 1, :] * sc[p0]
    la[:, :] = v
    ha[:, :] = v
    for i in range(p0 + 1, p0 + n):
        v = P[i:i + 1, :] * sc[i]
        la[:, :] = np.minimum(la, v)
        ha[:, :] = np.maximum(ha, v)


# ---- herding and the class statistics over int8 rows --------------------------------------
def herding_work(nf):
    # class mean and running sum (1 x nf), and a block of dequantized rows
    return zeros(1, nf), zeros(1, nf), zeros(BLOCK, nf)


def herding(P, p0, n, sc, nf, k, work):
    # FORMAT.md 5.1, a block of rows at a time
    mean, acc, X = work
    mean[0, :] = 0.0
    acc[0, :] = 0.0
    for i0 in range(0, n, BLOCK):
        m = min(BLOCK, n - i0)
        x = X[:m, :]
        x[:, :] = P[p0 + i0:p0 + i0 + m, :]
        x *= _floats(sc, p0 + i0, m).reshape((m, 1))
        mean += np.sum(x, axis=0).reshape((1, nf))
    mean /= n
    chosen = []
    d = [0.0] * n
    for t in range(1, k + 1):
        for i0 in range(0, n, BLOCK):
            m = min(BLOCK, n - i0)
            x = X[:m, :]
            x[:, :] = P[p0 + i0:p0 + i0 + m, :]
            x *= _floats(sc, p0 + i0, m).reshape((m, 1))
            x += acc
            x /= t
            x[:, :] = mean - x
            x *= x
            e = np.sum(x, axis=1)
            for r in range(m):
                d[i0 + r] = float(e[r])
        best = -1
        for i in range(n):
            if i not in chosen and (best < 0 or d[i] < d[best]):
                best = i
        chosen.append(best)
        acc += P[p0 + best:p0 + best + 1, :] * sc[p0 + best]
    return chosen


def mean_sq(P, p0, n, sc, nf, mean):
    tot = np.zeros((1, nf), dtype=np.float)
    sq = 0.0
    for i0 in range(0, n, BLOCK):
        m = min(BLOCK, n - i0)
        x = P[p0 + i0:p0 + i0 + m, :] * _floats(sc, p0 + i0, m).reshape((m, 1))
        tot += np.sum(x, axis=0).reshape((1, nf))
        sq += float(np.sum(x * x))
    for j in range(nf):
        mean[j] = float(tot[0, j]) / n
    return sq


# ---- front-end weights (int8, inference only) --------------------------------------------
def int8_matrix(data, rows, cols):
    # frombuffer shares data's memory: the caller hands over an owned copy (store_read)
    return np.frombuffer(data, dtype=np.int8).reshape((rows, cols))


def int8_buffer(Wq):
    # the raw bytes of an int8_matrix, for writing
    return Wq.tobytes()


def int8_scratch(n):
    # n bytes to read front-end rows from a file into; int8_view shares them
    return zeroed("b", n)


def int8_view(buf, rows, cols):
    # the first rows x cols bytes of an int8_scratch as an int8 matrix (frombuffer shares)
    return np.frombuffer(buf, dtype=np.int8, count=rows * cols).reshape((rows, cols))


def qlinear(x, Wq, scales, bias, y, n_in, n_out, relu, i0=0):
    # rows 0..n_out-1 of Wq give outputs i0..i0+n_out-1
    z = np.dot(Wq[:n_out, :n_in], x[:1, :n_in].transpose())  # (n_out, 1)
    for i in range(n_out):
        s = float(z[i, 0]) * scales[i0 + i] + bias[i0 + i]
        if relu and s < 0.0:
            s = 0.0
        y[0, i0 + i] = s


def add_int_rows(G, gi, s, k, n):
    # G[r, j] += s[r] * gi[r n + j] for r < k, j < n (gi: integer rows, s: their scales)
    for b0 in range(0, k, BLOCK):  # BLOCK rows at a time, so that each temporary is small
        mb = min(BLOCK, k - b0)
        g = G[b0:b0 + mb, :n]
        g += _ints(gi, mb * n, b0 * n).reshape((mb, n)) * _floats(s, b0, mb).reshape((mb, 1))


def _f32(a):
    # a float64 build's values rounded to float32 (FORMAT.md 2's rule divides in float32)
    return np.array(array("f", a.flatten())).reshape(a.shape) if _WIDE else a


def _quantize_block(v, q, o):
    # the rows of view v (r x n) by the int8 rule into q[o:o + r n]; returns their scales (r x 1)
    r, n = v.shape
    m = np.max(np.maximum(v, -v), axis=1)
    sc = _f32(np.where(m > 0.0, m / 127.0, 1.0)).reshape((r, 1))
    t = _f32(v / sc)
    f = np.floor(t)
    f += (t - f) >= 0.5
    np.frombuffer(q, dtype=np.int8, count=r * n, offset=o).reshape((r, n))[:, :] = np.clip(f, -127.0, 127.0)
    return sc


def quantize_row(M, i, n, q, o):
    # quantize_rows for one row, written at q[o]
    return float(_quantize_block(M[i:i + 1, :n], q, o)[0, 0])


def quantize_rows(M, k, n, q, scales):
    # rows 0..k-1 of M (n values each) into the int8 array q (row-major) and scales, by the int8
    # rule; BLOCK rows at a time, so that each temporary is small
    for b0 in range(0, k, BLOCK):
        b1 = min(b0 + BLOCK, k)
        sc = _quantize_block(M[b0:b1, :n], q, b0 * n)
        for r in range(b0, b1):
            scales[r] = float(sc[r - b0, 0])


def row_scales(sc, p0, n):
    # the real rows' scales as a column, for dm_chunk
    return np.array(_floats(sc, p0, n)).reshape((n, 1))  # a copy: held across the iterations


def dm_chunk(P, p0, n, sc, Sq, ss, k, E, c, nf, pre, w, G):
    # _pure.dm_chunk's arithmetic with its float parts vectorized (the integer dots are the
    # same); the call's training rows are embedded at once
    h = w.h
    mT = np.zeros((1, c), dtype=np.float)
    for i0 in range(0, n, w.max_real):  # one block when the distiller was sized for the call
        m = min(w.max_real, n - i0)
        relu_dots(P, (p0 + i0) * nf, m, E, 0, c, nf, h)
        H = _ints(h, m * c).reshape((m, c))
        H *= sc[i0:i0 + m, :]
        mT += np.sum(H, axis=0).reshape((1, c))
    relu_dots(Sq, 0, k, E, 0, c, nf, h)
    H = _ints(h, k * c).reshape((k, c))
    mS = np.sum(H * _floats(ss, 0, k).reshape((k, 1)), axis=0).reshape((1, c))
    d = mS / k - mT / n
    D = (H > 0.0) * (d * pre)
    quantize_rows(D, k, c, w.dq, w.ds)
    rows_times(w.dq, k, c, E, nf, w.g)
    add_int_rows(G, w.g, w.ds, k, nf)
    return float(np.sum(d * d))
