# Pure-MicroPython array kernels: the fallback when ulab is not compiled in.
# A matrix is a list of row arrays (array('f'), float32 storage) with a fixed
# capacity (rows x cols): small blocks fit into a fragmented heap where one large
# block would not. Kernels work on the top-left active block, so nothing is
# reallocated when the network grows. _ulab.py implements the same functions.
from array import array
from math import exp, log

NAME = "pure"
_INF = float("inf")


_zero_rows = {}


def _zero_row(cols):
    # rows are raw copies of one cached zero `bytes`: MicroPython copies bytes and
    # bytearray initialisers directly, but iterates any other (an array source makes a
    # float object per value), and a temporary bytearray per row would leave a hole
    # beside every row. Either way the rows would end up strewn across the heap.
    z = _zero_rows.get(cols)
    if z is None:
        z = bytes(4 * cols)
        _zero_rows[cols] = z
    return z


class Mat:
    def __init__(self, rows, cols):
        self.rows = rows
        self.cols = cols
        z = _zero_row(cols)
        r: list = [None] * rows  # sized at once: a growing list would leave its old copies as holes
        for i in range(rows):
            r[i] = array("f", z)
        self.r = r


def zeros(rows, cols):
    return Mat(rows, cols)


def get(M, i, j):
    return M.r[i][j]


def put(M, i, j, v):
    M.r[i][j] = v


def row(M, i, n):
    a = M.r[i]
    return [a[j] for j in range(n)]


def get_row(M, i, out, n):
    # row i of M into out[0..n-1] (an array the caller owns: nothing is allocated)
    a = M.r[i]
    for j in range(n):
        out[j] = a[j]


def set_row(M, i, values, n):
    a = M.r[i]
    for j in range(n):
        a[j] = values[j]


def copy_row(src, si, dst, di, n):
    s = src.r[si]
    d = dst.r[di]
    for j in range(n):
        d[j] = s[j]


def fill(M, rows, cols, v):
    for i in range(rows):
        a = M.r[i]
        for j in range(cols):
            a[j] = v


def fill_uniform(M, r0, r1, c0, c1, rng, scale):
    # rows r0..r1-1, columns c0..c1-1, row by row, each U(-1,1)*scale
    for i in range(r0, r1):
        a = M.r[i]
        for j in range(c0, c1):
            a[j] = rng.uniform() * scale


def linear(X, W, b, Y, m, n_in, n_out, relu):
    # Y[:m,:n_out] = X[:m,:n_in] @ W[:n_out,:n_in].T + b[0,:n_out]
    ba = b.r[0] if b is not None else None
    wr = W.r
    for r in range(m):
        x = X.r[r]
        y = Y.r[r]
        for i in range(n_out):
            w = wr[i]
            s = ba[i] if ba is not None else 0.0
            for j in range(n_in):
                s += w[j] * x[j]
            if relu and s < 0.0:
                s = 0.0
            y[i] = s


def sgd_linear(W, V, b, Vb, X, dY, m, n_in, n_out, lr, mu):
    # the momentum step of one dense layer with its gradient folded in, so no gradient
    # matrix is stored:  V = mu*V - lr*(dY.T @ X); W += V; the same for the bias with
    # the column sums of dY
    vb = Vb.r[0]
    for i in range(n_out):
        v = V.r[i]
        for j in range(n_in):
            v[j] *= mu
        vb[i] *= mu
    for r in range(m):
        x = X.r[r]
        dy = dY.r[r]
        for i in range(n_out):
            d = lr * dy[i]
            if d == 0.0:
                continue
            vb[i] -= d
            v = V.r[i]
            for j in range(n_in):
                v[j] -= d * x[j]
    bb = b.r[0]
    for i in range(n_out):
        w = W.r[i]
        v = V.r[i]
        for j in range(n_in):
            w[j] += v[j]
        bb[i] += vb[i]


def relu_mask(dH, H, m, n):
    for r in range(m):
        d = dH.r[r]
        h = H.r[r]
        for j in range(n):
            if h[j] <= 0.0:
                d[j] = 0.0


def softmax_rows(Z, m, n, lse=None):
    # rows of Z to their softmax in place; lse[r] = log(sum(exp(Z[r]))) of the logits when given
    for r in range(m):
        a = Z.r[r]
        mx = a[0]
        for j in range(1, n):
            if a[j] > mx:
                mx = a[j]
        s = 0.0
        for j in range(n):
            e = exp(a[j] - mx)
            a[j] = e
            s += e
        for j in range(n):
            a[j] /= s
        if lse is not None:
            lse[r] = mx + log(s)


def round_f32(M, r0, r1, cols):
    # rows are array('f'): already float32
    pass


def scale_row(M, i, n, a):
    r = M.r[i]
    for j in range(n):
        r[j] *= a


def sgd(W, V, G, rows, cols, lr, mu):
    # V = mu*V - lr*G ; W += V   (momentum SGD, in place)
    for i in range(rows):
        w = W.r[i]
        v = V.r[i]
        g = G.r[i]
        for j in range(cols):
            t = mu * v[j] - lr * g[j]
            v[j] = t
            w[j] += t


def relu_mean(X, m, W, n_in, n_out, out):
    # out[0,:n_out] = column means of relu(X[:m,:n_in] @ W[:n_out,:n_in].T): linear then
    # col_mean, a row at a time, so no m-row buffer is needed
    o = out.r[0]
    wr = W.r
    for i in range(n_out):
        o[i] = 0.0
    for r in range(m):
        x = X.r[r]
        for i in range(n_out):
            w = wr[i]
            s = 0.0
            for j in range(n_in):
                s += w[j] * x[j]
            if s > 0.0:
                o[i] += s
    inv = 1.0 / m
    for i in range(n_out):
        o[i] *= inv


def matmul_acc(D, W, G, m, n_in, n_out):
    # G[:m,:n_in] += D[:m,:n_out] @ W[:n_out,:n_in]: a layer's input gradient, added in place
    for r in range(m):
        g = G.r[r]
        dr = D.r[r]
        for i in range(n_out):
            d = dr[i]
            if d == 0.0:
                continue
            w = W.r[i]
            for j in range(n_in):
                g[j] += d * w[j]


def col_mean(H, m, n, out):
    o = out.r[0]
    for j in range(n):
        o[j] = 0.0
    for r in range(m):
        a = H.r[r]
        for j in range(n):
            o[j] += a[j]
    inv = 1.0 / m
    for j in range(n):
        o[j] *= inv


def axpy(Y, X, rows, cols, alpha):
    for i in range(rows):
        y = Y.r[i]
        x = X.r[i]
        for j in range(cols):
            y[j] += alpha * x[j]


def fill_rows(D, src, m, n, scale):
    # every row of D[:m,:n] = src[0,:n] * scale
    s = src.r[0]
    for r in range(m):
        d = D.r[r]
        for j in range(n):
            d[j] = s[j] * scale


def col_range(M, m, n, lo, hi):
    # lo[0,j], hi[0,j] = min and max of column j over rows 0..m-1
    la = lo.r[0]
    ha = hi.r[0]
    a = M.r[0]
    for j in range(n):
        la[j] = ha[j] = a[j]
    for r in range(1, m):
        a = M.r[r]
        for j in range(n):
            v = a[j]
            if v < la[j]:
                la[j] = v
            elif v > ha[j]:
                ha[j] = v


def clip_rows(M, m, n, lo, hi):
    la = lo.r[0]
    ha = hi.r[0]
    for r in range(m):
        a = M.r[r]
        for j in range(n):
            v = a[j]
            if v < la[j]:
                a[j] = la[j]
            elif v > ha[j]:
                a[j] = ha[j]


def sumsq(M, rows, cols):
    s = 0.0
    for i in range(rows):
        a = M.r[i]
        for j in range(cols):
            s += a[j] * a[j]
    return s


def all_finite(M, rows, cols):
    for i in range(rows):
        a = M.r[i]
        for j in range(cols):
            v = a[j]
            if v != v or v == _INF or v == -_INF:
                return False
    return True


def argmax_rows(Z, m, n):
    out = []
    for r in range(m):
        a = Z.r[r]
        best = 0
        bv = a[0]
        for j in range(1, n):
            if a[j] > bv:
                bv = a[j]
                best = j
        out.append(best)
    return out


def int8_matrix(data, rows, cols):
    # data: bytes-like of rows*cols signed bytes (front-end weights stay int8 in RAM);
    # array() copies a buffer's raw bytes, so no temporary copy is made
    return array("b", data)


def int8_buffer(Wq):
    # the raw bytes of an int8_matrix, for writing (an array is a buffer: no copy)
    return Wq


def int8_scratch(n):
    # n signed bytes to read front-end rows from a file into (readinto fills it in place)
    return array("b", bytes(n))


def int8_view(buf, rows, cols):
    # an int8_scratch as a rows x cols int8_matrix: the same flat array (qlinear indexes it)
    return buf


def qlinear(x, Wq, scales, bias, y, n_in, n_out, relu, i0=0):
    # one sample, rows 0..n_out-1 of Wq giving outputs i0..i0+n_out-1:
    # y[0,i0+i] = scales[i0+i] * sum_j Wq[i,j] * x[0,j] + bias[i0+i]
    xa = x.r[0]
    ya = y.r[0]
    for i in range(n_out):
        o = i * n_in
        s = 0.0
        for j in range(n_in):
            s += Wq[o + j] * xa[j]
        s = s * scales[i0 + i] + bias[i0 + i]
        if relu and s < 0.0:
            s = 0.0
        ya[i0 + i] = s
