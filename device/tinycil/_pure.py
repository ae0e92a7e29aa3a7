# Pure-MicroPython array kernels: the fallback when ulab is not compiled in. The contract
# every backend follows is stubs/tinycil/_backend.pyi; _ulab.py implements the same.
# A matrix is a list of row arrays (array('f'), float32 storage) with a fixed capacity
# (rows x cols): small blocks fit into a fragmented heap where one large block would not.
# Kernels work on the top-left active block, so nothing is reallocated as the network grows.
# An int8 matrix (the row pool, a random embedding) is one flat array('b'), row-major.
from array import array
from math import exp, log

from ._int8 import relu_dots, rows_times
from .alloc import zeroed
from .limits import CHUNK
from .replay import quantize_into

try:
    from ._viper import nonzero_f32 as _nonzero_f32
except (ImportError, SyntaxError, ValueError):  # a port without the native emitter
    _nonzero_f32 = None

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
        r: list = [None] * rows  # sized at once: a growing list would leave its old copies as holes
        if rows == 1:  # nothing to share a zero row with: the input row alone is 3 KB at 784 inputs
            r[0] = zeroed("f", cols)
        else:
            z = _zero_row(cols)
            for i in range(rows):
                r[i] = array("f", z)
        self.r = r


def zeros(rows, cols):
    return Mat(rows, cols)


def get(M, i, j):
    return M.r[i][j]


def put(M, i, j, v):
    M.r[i][j] = v


def float_row(n):
    # (a float array of n values, a 1-row matrix over it): the array is the matrix's row
    M = Mat(1, n)
    return M.r[0], M


def row(M, i, n):
    a = M.r[i]
    return [a[j] for j in range(n)]


def scale_row(x, off, sc, M, n):
    # no fast path here: False sends the caller to its checked loop over the values
    return False


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


def round_f32(M, r0, r1, cols):
    # rows are array('f'): already float32
    pass


_nz = {}


def _nonzero(x, n):
    # the indices of the nonzero values of x[0..n-1], as a view to iterate: a zero adds
    # nothing to a dot product, and inputs are often zero (48 % of digits' pixels, about half
    # of every ReLU layer's outputs), so the kernels below skip them. The sums are the same.
    # A view of the cached array's first k slots: iterated, it gives the indices themselves.
    c = _nz.get(n)
    if c is None:
        nz = zeroed("H", n)
        c = _nz[n] = (nz, memoryview(nz))
    nz, view = c
    if _nonzero_f32 is not None:  # machine code: the same indices at a fraction of the cost
        return view[:_nonzero_f32(x, n, nz)]  # pyright: ignore[reportArgumentType] (an array is a ptr16)
    k = 0
    for j in range(n):
        if x[j] != 0.0:
            nz[k] = j
            k += 1
    return view[:k]


def _pairs(x, n):
    # (index, value) of each nonzero x[j], j < n: every x[j] read from a float array is a new
    # float object, so a row read once here saves one per multiply-add in the loops below
    return [(j, x[j]) for j in _nonzero(x, n)]


def linear(X, W, b, Y, m, n_in, n_out, relu):
    # Y[:m,:n_out] = X[:m,:n_in] @ W[:n_out,:n_in].T + b[0,:n_out]
    ba = b.r[0] if b is not None else None
    wr = W.r
    for r in range(m):
        y = Y.r[r]
        xs = _pairs(X.r[r], n_in)
        for i in range(n_out):
            w = wr[i]
            s = ba[i] if ba is not None else 0.0
            for j, v in xs:
                s += w[j] * v
            if relu and s < 0.0:
                s = 0.0
            y[i] = s


def sgd_linear(W, V, b, Vb, X, dY, m, n_in, n_out, lr, mu):
    # one dense layer's SGD step with its gradient G = dY.T @ X folded in (no gradient matrix
    # is stored): with momentum buffers V, Vb: V = mu*V - lr*G, W += V; without: W -= lr*G.
    # The bias likewise with the column sums of dY.
    if V is None:
        bb = b.r[0]
        for r in range(m):
            dy = dY.r[r]
            xs = _pairs(X.r[r], n_in)
            for i in range(n_out):
                d = lr * dy[i]
                if d == 0.0:
                    continue
                bb[i] -= d
                w = W.r[i]
                for j, v in xs:
                    w[j] -= d * v
        return
    vb = Vb.r[0]
    for i in range(n_out):
        v = V.r[i]
        for j in range(n_in):
            v[j] *= mu
        vb[i] *= mu
    for r in range(m):
        dy = dY.r[r]
        xs = _pairs(X.r[r], n_in)
        for i in range(n_out):
            d = lr * dy[i]
            if d == 0.0:
                continue
            vb[i] -= d
            vr = V.r[i]
            for j, v in xs:
                vr[j] -= d * v
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


def xent_delta(Z, labels, w, m, n, inv):
    # softmax rows to d loss / d logits: Z[r] = (Z[r] - onehot(labels[r])) * w[r] * inv
    for r in range(m):
        a = Z.r[r]
        a[labels[r]] -= 1.0
        s = w[r] * inv
        for j in range(n):
            a[j] *= s


def sgd(W, V, G, rows, cols, lr, mu):
    # with V: V = mu*V - lr*G ; W += V. Without (V None): W -= lr*G. In place.
    for i in range(rows):
        w = W.r[i]
        g = G.r[i]
        if V is None:
            for j in range(cols):
                w[j] -= lr * g[j]
            continue
        v = V.r[i]
        for j in range(cols):
            t = mu * v[j] - lr * g[j]
            v[j] = t
            w[j] += t


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


def argmax_rows(Z, m, n, out, o=0):
    # out[o + r] = index of the largest of row r of Z[:m,:n]
    for r in range(m):
        a = Z.r[r]
        best = 0
        bv = a[0]
        for j in range(1, n):
            if a[j] > bv:
                bv = a[j]
                best = j
        out[o + r] = best


# ---- int8 rows: the pool (replay samples, a call's samples, class means) ------------------
def pool_view(q, rows, cols):
    # the pool's flat array('b') is what the int8 kernels index (nothing to build)
    return q


def gather_rows(X, r0, P, idx, scales, i0, m, nf):
    # rows r0..r0+m-1 of X = pool rows idx[i0..i0+m-1] (int8), each times its scales[i0 + r]
    for r in range(m):
        x = X.r[r0 + r]
        o = idx[i0 + r] * nf
        s = scales[i0 + r]
        for j in range(nf):
            x[j] = P[o + j] * s


def add_window(X, r, t, o, nf, a):
    # row r of X += a * t[o:o+nf] (replay noise, FORMAT.md 7.4)
    x = X.r[r]
    for j in range(nf):
        x[j] += a * t[o + j]


def linear_q(X, P, p0, a, b, Y, m, nf, n):
    # Y[:m,:n] += a[c] * (X[r] . P[p0 + c]) + b[c]: the nearest-mean head's logits (FORMAT.md 4)
    aa = a.r[0]
    bb = b.r[0]
    for r in range(m):
        y = Y.r[r]
        xs = _pairs(X.r[r], nf)
        for c in range(n):
            o = (p0 + c) * nf
            s = 0.0
            for j, v in xs:
                s += v * P[o + j]
            y[c] += aa[c] * s + bb[c]


def col_range_q(P, p0, n, nf, sc, lo, hi):
    # lo[0,j], hi[0,j] = min and max of feature j over pool rows p0..p0+n-1 (dequantized)
    la = lo.r[0]
    ha = hi.r[0]
    for j in range(nf):
        la[j] = _INF
        ha[j] = -_INF
    for i in range(p0, p0 + n):
        s = sc[i]
        o = i * nf
        for j in range(nf):
            v = P[o + j] * s
            if v < la[j]:
                la[j] = v
            if v > ha[j]:
                ha[j] = v


# ---- herding and the class statistics over int8 rows --------------------------------------
def herding_work(nf):
    # the herding kernel's scratch: class mean, running sum, one row, in doubles like the host
    return tuple(zeroed("d", nf) for _ in range(3))


def herding(P, p0, n, sc, nf, k, work):
    # FORMAT.md 5.1: indices (0..n-1) of k of rows p0..p0+n-1 chosen greedily so their running
    # mean tracks the rows' mean (the first index wins ties)
    mean, acc, x = work
    for j in range(nf):
        mean[j] = acc[j] = 0.0
    for i in range(n):
        s = sc[p0 + i]
        o = (p0 + i) * nf
        for j in range(nf):
            mean[j] += P[o + j] * s
    for j in range(nf):
        mean[j] /= n
    chosen = []
    for t in range(1, k + 1):
        best = -1
        best_d = 0.0
        for i in range(n):
            if i in chosen:
                continue
            s = sc[p0 + i]
            o = (p0 + i) * nf
            d = 0.0
            for j in range(nf):
                e = mean[j] - (acc[j] + P[o + j] * s) / t
                d += e * e
            if best < 0 or d < best_d:
                best = i
                best_d = d
        chosen.append(best)
        s = sc[p0 + best]
        o = (p0 + best) * nf
        for j in range(nf):
            acc[j] += P[o + j] * s
    return chosen


def mean_sq(P, p0, n, sc, nf, mean):
    # mean[j] = the mean of feature j over rows p0..p0+n-1 (summed in the runtime's float, then
    # stored: float32); returns the sum of the squares of every value
    sq = 0.0
    for j in range(nf):
        mean[j] = 0.0
    for i in range(p0, p0 + n):
        s = sc[i]
        o = i * nf
        for j in range(nf):
            v = P[o + j] * s
            mean[j] += v
            sq += v * v
    for j in range(nf):
        mean[j] /= n
    return sq


# ---- front-end weights (int8, inference only) --------------------------------------------
def int8_matrix(data, rows, cols):
    # data: rows*cols signed bytes (front-end weights stay int8 in RAM). An int8 array is
    # store_read's own copy, kept as it is; bytes are copied raw (no temporary)
    if isinstance(data, (bytes, bytearray)):
        return array("b", data)
    return data


def int8_buffer(Wq):
    # the raw bytes of an int8_matrix, for writing (an array is a buffer: no copy)
    return Wq


def int8_scratch(n):
    # n signed bytes to read front-end rows from a file into (readinto fills it in place)
    return zeroed("b", n)


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


def add_int_rows(G, gi, s, k, n):
    # G[r, j] += s[r] * gi[r n + j] for r < k, j < n (gi: integer rows, s: their scales)
    for r in range(k):
        g = G.r[r]
        a = s[r]
        o = r * n
        for j in range(n):
            v = gi[o + j]
            if v:
                g[j] += a * v


def quantize_row(M, i, n, q, o):
    # row i of M (n values) into q[o..o+n-1] by the int8 rule; returns its scale
    return quantize_into(M.r[i], n, q, o)


def quantize_rows(M, k, n, q, scales):
    # rows 0..k-1 of M (n values each) into the int8 array q (row-major) and scales, by the int8 rule
    for r in range(k):
        scales[r] = quantize_into(M.r[r], n, q, r * n)


def row_scales(sc, p0, n):
    # the real rows' scales as dm_chunk takes them (here: the array itself)
    return sc


def dm_chunk(P, p0, n, sc, Sq, ss, k, E, c, nf, pre, w, G):
    # one chunk of c units of distribution matching (FORMAT.md 5): the real rows' and the
    # synthetic rows' mean embeddings (integer dot products), their squared difference (the
    # return value, in int8 units of E), and the chunk's share of the gradient added into G.
    # w holds the distiller's integer and float buffers.
    h, mT, d, dq, ds = w.h, w.mT, w.d, w.dq, w.ds
    for j in range(c):
        mT[j] = 0.0
    for i0 in range(0, n, w.max_real):
        m = min(w.max_real, n - i0)
        relu_dots(P, (p0 + i0) * nf, m, E, 0, c, nf, h)
        for i in range(m):
            s = sc[p0 + i0 + i]
            o = i * c
            for j in range(c):
                mT[j] += s * h[o + j]
    relu_dots(Sq, 0, k, E, 0, c, nf, h)
    loss = 0.0
    for j in range(c):
        t = 0.0
        for r in range(k):
            t += ss[r] * h[r * c + j]
        d[j] = t / k - mT[j] / n
        loss += d[j] * d[j]
    for r in range(k):  # the ReLU-masked gradient rows, quantized for the integer product with E
        o = r * c
        for j in range(c):
            mT[j] = d[j] * pre if h[o + j] > 0 else 0.0  # mT is spent: it holds one row
        ds[r] = quantize_into(mT, c, dq, o)
    rows_times(dq, k, c, E, nf, w.g)
    add_int_rows(G, w.g, ds, k, nf)
    return loss
