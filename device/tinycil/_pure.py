# Pure-MicroPython array kernels: the fallback when ulab is not compiled in.
# Every matrix is a row-major array('f') with a fixed capacity (rows x cols);
# kernels work on the top-left active block, so nothing is reallocated when the
# network grows. The ulab backend (_ulab.py) implements the same functions.
from array import array

NAME = "pure"
_INF = float("inf")


class Mat:
    def __init__(self, rows, cols):
        self.rows = rows
        self.cols = cols
        self.a = array("f", bytearray(4 * rows * cols))


def zeros(rows, cols):
    return Mat(rows, cols)


def shape(M):
    return (M.rows, M.cols)


def get(M, i, j):
    return M.a[i * M.cols + j]


def put(M, i, j, v):
    M.a[i * M.cols + j] = v


def row(M, i, n):
    o = i * M.cols
    return [M.a[o + j] for j in range(n)]


def set_row(M, i, values, n):
    a = M.a
    o = i * M.cols
    for j in range(n):
        a[o + j] = values[j]


def copy_row(src, si, dst, di, n):
    s = src.a
    d = dst.a
    so = si * src.cols
    do = di * dst.cols
    for j in range(n):
        d[do + j] = s[so + j]


def fill(M, rows, cols, v):
    a = M.a
    for i in range(rows):
        o = i * M.cols
        for j in range(cols):
            a[o + j] = v


def fill_uniform(M, r0, r1, c0, c1, rng, scale):
    # rows r0..r1-1, columns c0..c1-1, row by row, each U(-1,1)*scale
    a = M.a
    for i in range(r0, r1):
        o = i * M.cols
        for j in range(c0, c1):
            a[o + j] = rng.uniform() * scale


def linear(X, W, b, Y, m, n_in, n_out, relu):
    # Y[:m,:n_out] = X[:m,:n_in] @ W[:n_out,:n_in].T + b[0,:n_out]
    xa = X.a
    wa = W.a
    ya = Y.a
    ba = b.a if b is not None else None
    xs = X.cols
    ws = W.cols
    ys = Y.cols
    for r in range(m):
        xo = r * xs
        yo = r * ys
        for i in range(n_out):
            s = ba[i] if ba is not None else 0.0
            wo = i * ws
            k = xo
            for j in range(wo, wo + n_in):
                s += wa[j] * xa[k]
                k += 1
            if relu and s < 0.0:
                s = 0.0
            ya[yo + i] = s


def linear_backward(X, W, dY, gW, gb, dX, m, n_in, n_out):
    # gW = dY.T @ X, gb = column sums of dY, dX = dY @ W (each skipped when None)
    xa = X.a
    wa = W.a
    da = dY.a
    xs = X.cols
    ws = W.cols
    ds = dY.cols
    if gW is not None:
        ga = gW.a
        gs = gW.cols
        for i in range(n_out):
            go = i * gs
            for j in range(go, go + n_in):
                ga[j] = 0.0
        for r in range(m):
            xo = r * xs
            do = r * ds
            for i in range(n_out):
                d = da[do + i]
                if d == 0.0:
                    continue
                go = i * gs
                k = xo
                for j in range(go, go + n_in):
                    ga[j] += d * xa[k]
                    k += 1
    if gb is not None:
        ba = gb.a
        for i in range(n_out):
            s = 0.0
            for r in range(m):
                s += da[r * ds + i]
            ba[i] = s
    if dX is not None:
        oa = dX.a
        os_ = dX.cols
        for r in range(m):
            oo = r * os_
            for j in range(oo, oo + n_in):
                oa[j] = 0.0
            do = r * ds
            for i in range(n_out):
                d = da[do + i]
                if d == 0.0:
                    continue
                wo = i * ws
                k = wo
                for j in range(oo, oo + n_in):
                    oa[j] += d * wa[k]
                    k += 1


def relu_mask(dH, H, m, n):
    da = dH.a
    ha = H.a
    for r in range(m):
        do = r * dH.cols
        ho = r * H.cols
        for j in range(n):
            if ha[ho + j] <= 0.0:
                da[do + j] = 0.0


def softmax_rows(Z, m, n):
    from math import exp
    a = Z.a
    for r in range(m):
        o = r * Z.cols
        mx = a[o]
        for j in range(o + 1, o + n):
            if a[j] > mx:
                mx = a[j]
        s = 0.0
        for j in range(o, o + n):
            e = exp(a[j] - mx)
            a[j] = e
            s += e
        for j in range(o, o + n):
            a[j] /= s


def xent_grad(Z, labels, weights, m, n):
    # Z: logits in, gradient of the weighted mean cross-entropy out; returns the loss.
    from math import log
    softmax_rows(Z, m, n)
    a = Z.a
    wsum = 0.0
    for r in range(m):
        wsum += weights[r]
    loss = 0.0
    for r in range(m):
        o = r * Z.cols
        w = weights[r] / wsum
        y = labels[r]
        p = a[o + y]
        loss -= w * log(p if p > 1e-30 else 1e-30)
        a[o + y] = p - 1.0
        for j in range(o, o + n):
            a[j] *= w
    return loss


def sgd(W, V, G, rows, cols, lr, mu):
    # V = mu*V - lr*G ; W += V   (momentum SGD, in place)
    wa = W.a
    va = V.a
    ga = G.a
    c = W.cols
    for i in range(rows):
        o = i * c
        for j in range(o, o + cols):
            v = mu * va[j] - lr * ga[j]
            va[j] = v
            wa[j] += v


def col_mean(H, m, n, out):
    a = H.a
    oa = out.a
    for j in range(n):
        oa[j] = 0.0
    for r in range(m):
        o = r * H.cols
        for j in range(n):
            oa[j] += a[o + j]
    inv = 1.0 / m
    for j in range(n):
        oa[j] *= inv


def axpy(Y, X, rows, cols, alpha):
    ya = Y.a
    xa = X.a
    for i in range(rows):
        yo = i * Y.cols
        xo = i * X.cols
        for j in range(cols):
            ya[yo + j] += alpha * xa[xo + j]


def fill_rows(D, src, m, n, scale):
    # every row of D[:m,:n] = src[0,:n] * scale
    da = D.a
    sa = src.a
    for r in range(m):
        o = r * D.cols
        for j in range(n):
            da[o + j] = sa[j] * scale


def col_range(M, m, n, lo, hi):
    # lo[0,j], hi[0,j] = min and max of column j over rows 0..m-1
    a = M.a
    la = lo.a
    ha = hi.a
    for j in range(n):
        la[j] = ha[j] = a[j]
    for r in range(1, m):
        o = r * M.cols
        for j in range(n):
            v = a[o + j]
            if v < la[j]:
                la[j] = v
            elif v > ha[j]:
                ha[j] = v


def clip_rows(M, m, n, lo, hi):
    a = M.a
    la = lo.a
    ha = hi.a
    for r in range(m):
        o = r * M.cols
        for j in range(n):
            v = a[o + j]
            if v < la[j]:
                a[o + j] = la[j]
            elif v > ha[j]:
                a[o + j] = ha[j]


def sumsq(M, rows, cols):
    a = M.a
    s = 0.0
    for i in range(rows):
        o = i * M.cols
        for j in range(o, o + cols):
            s += a[j] * a[j]
    return s


def all_finite(M, rows, cols):
    a = M.a
    for i in range(rows):
        o = i * M.cols
        for j in range(o, o + cols):
            v = a[j]
            if v != v or v == _INF or v == -_INF:
                return False
    return True


def argmax_rows(Z, m, n):
    a = Z.a
    out = []
    for r in range(m):
        o = r * Z.cols
        best = 0
        bv = a[o]
        for j in range(1, n):
            if a[o + j] > bv:
                bv = a[o + j]
                best = j
        out.append(best)
    return out


def int8_matrix(data, rows, cols):
    # data: bytes-like of rows*cols signed bytes (front-end weights stay int8 in RAM)
    return array("b", bytearray(data))


def qlinear(x, Wq, scales, bias, y, n_in, n_out, relu):
    # one sample: y[0,i] = scales[i] * sum_j Wq[i,j] * x[0,j] + bias[i]
    xa = x.a
    ya = y.a
    for i in range(n_out):
        o = i * n_in
        s = 0.0
        for j in range(n_in):
            s += Wq[o + j] * xa[j]
        s = s * scales[i] + bias[i]
        if relu and s < 0.0:
            s = 0.0
        ya[i] = s
