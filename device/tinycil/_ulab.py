# ulab kernels: the same functions as _pure.py on 2-D ulab arrays of fixed
# capacity. Only 2-D arrays are used (firmware builds default to ULAB_MAX_DIMS=2);
# np.dot always gets two 2-D operands (ulab's 1-D x 2-D case is not numpy's).
from array import array

from ulab import numpy as np

NAME = "ulab"


def zeros(rows, cols):
    return np.zeros((rows, cols), dtype=np.float)


def get(M, i, j):
    return float(M[i, j])


def put(M, i, j, v):
    M[i, j] = v


def row(M, i, n):
    return [float(v) for v in M[i, :n]]


def get_row(M, i, out, n):
    for j in range(n):
        out[j] = float(M[i, j])


def set_row(M, i, values, n):
    for j in range(n):
        M[i, j] = values[j]


def copy_row(src, si, dst, di, n):
    dst[di, :n] = src[si, :n]


def fill(M, rows, cols, v):
    if rows and cols:
        M[:rows, :cols] = v


def fill_uniform(M, r0, r1, c0, c1, rng, scale):
    for i in range(r0, r1):
        for j in range(c0, c1):
            M[i, j] = rng.uniform() * scale


def linear(X, W, b, Y, m, n_in, n_out, relu):
    Z = np.dot(X[:m, :n_in], W[:n_out, :n_in].transpose())
    if b is not None:
        Z += b[:1, :n_out]
    if relu:
        Z = np.maximum(Z, 0.0)
    Y[:m, :n_out] = Z


def relu_mask(dH, H, m, n):
    view = dH[:m, :n]
    view *= H[:m, :n] > 0.0


def softmax_rows(Z, m, n, lse=None):
    view = Z[:m, :n]
    mx = np.max(view, axis=1).reshape((m, 1))
    e = np.exp(view - mx)
    s = np.sum(e, axis=1).reshape((m, 1))
    Z[:m, :n] = e / s
    if lse is not None:
        t = mx + np.log(s)
        for r in range(m):
            lse[r] = float(t[r, 0])


_WIDE = 1.0 + 1e-12 != 1.0  # float64 build: arrays hold wider values than a file stores


def round_f32(M, r0, r1, cols):
    # rows r0..r1-1 of M to float32 values (a float64 build's arrays hold wider ones)
    if not _WIDE:
        return
    for i in range(r0, r1):
        M[i, :cols] = np.array(array("f", M[i, :cols]))


def scale_row(M, i, n, a):
    v = M[i:i + 1, :n]
    v *= a


def sgd(W, V, G, rows, cols, lr, mu):
    v = V[:rows, :cols]
    v *= mu
    v -= G[:rows, :cols] * lr
    w = W[:rows, :cols]
    w += v


def sgd_linear(W, V, b, Vb, X, dY, m, n_in, n_out, lr, mu):
    d = dY[:m, :n_out]
    v = V[:n_out, :n_in]
    v *= mu
    v -= np.dot(d.transpose(), X[:m, :n_in]) * lr
    w = W[:n_out, :n_in]
    w += v
    vb = Vb[:1, :n_out]
    vb *= mu
    vb -= np.dot(np.ones((1, m), dtype=np.float), d) * lr
    bb = b[:1, :n_out]
    bb += vb


def relu_mean(X, m, W, n_in, n_out, out):
    H = np.maximum(np.dot(X[:m, :n_in], W[:n_out, :n_in].transpose()), 0.0)
    out[:1, :n_out] = np.mean(H, axis=0).reshape((1, n_out))


def matmul_acc(D, W, G, m, n_in, n_out):
    g = G[:m, :n_in]
    g += np.dot(D[:m, :n_out], W[:n_out, :n_in])


def col_mean(H, m, n, out):
    out[:1, :n] = np.mean(H[:m, :n], axis=0).reshape((1, n))


def axpy(Y, X, rows, cols, alpha):
    y = Y[:rows, :cols]
    y += X[:rows, :cols] * alpha


def fill_rows(D, src, m, n, scale):
    r = src[:1, :n] * scale
    for i in range(m):
        D[i:i + 1, :n] = r


def col_range(M, m, n, lo, hi):
    lo[:1, :n] = np.min(M[:m, :n], axis=0).reshape((1, n))
    hi[:1, :n] = np.max(M[:m, :n], axis=0).reshape((1, n))


def clip_rows(M, m, n, lo, hi):
    M[:m, :n] = np.minimum(np.maximum(M[:m, :n], lo[:1, :n]), hi[:1, :n])


def sumsq(M, rows, cols):
    v = M[:rows, :cols]
    return float(np.sum(v * v))


def all_finite(M, rows, cols):
    if not rows or not cols:
        return True
    return bool(np.all(np.isfinite(M[:rows, :cols])))


def argmax_rows(Z, m, n):
    return [int(v) for v in np.argmax(Z[:m, :n], axis=1)]


def int8_matrix(data, rows, cols):
    # frombuffer shares data's memory: the caller hands over an owned copy (store_read)
    return np.frombuffer(data, dtype=np.int8).reshape((rows, cols))


def int8_buffer(Wq):
    # the raw bytes of an int8_matrix, for writing
    return Wq.tobytes()


def int8_scratch(n):
    # n bytes to read front-end rows from a file into; int8_view shares them
    return bytearray(n)


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
