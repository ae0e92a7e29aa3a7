# Each kernel of the selected backend against a plain nested-loop computation.
import tinycil.backend
from tinycil.net import xent_grad
from tinycil.rng import Rng
from util import approx, check

TOL = 1e-5  # float32 storage of values O(1): a few ulps


def _mat(B, rows, cols, rng):
    M = B.zeros(rows + 1, cols + 2)  # capacity larger than the active block
    B.fill_uniform(M, 0, rows, 0, cols, rng, 1.0)
    return M


def _get(B, M, r, c):
    return [[B.get(M, i, j) for j in range(c)] for i in range(r)]


def test_linear_and_backward(ctx):
    B = tinycil.backend.get(ctx["backend"])
    rng = Rng(3)
    m, n_in, n_out = 3, 5, 4
    X = _mat(B, m, n_in, rng)
    W = _mat(B, n_out, n_in, rng)
    b = _mat(B, 1, n_out, rng)
    Y = B.zeros(m + 1, n_out + 1)
    B.linear(X, W, b, Y, m, n_in, n_out, False)
    x, w, bb = _get(B, X, m, n_in), _get(B, W, n_out, n_in), _get(B, b, 1, n_out)[0]
    for r in range(m):
        for i in range(n_out):
            want = bb[i] + sum(w[i][j] * x[r][j] for j in range(n_in))
            approx(B.get(Y, r, i), want, TOL, "linear")
    B.linear(X, W, b, Y, m, n_in, n_out, True)
    for r in range(m):
        for i in range(n_out):
            check(B.get(Y, r, i) >= 0.0, "relu left a negative")
    dY = _mat(B, m, n_out, rng)
    dy = _get(B, dY, m, n_out)
    dX = _mat(B, m + 1, n_in + 1, rng)  # matmul_acc adds to what is there
    dx0 = _get(B, dX, m, n_in)
    B.matmul_acc(dY, W, dX, m, n_in, n_out)
    for r in range(m):
        for j in range(n_in):
            approx(B.get(dX, r, j), dx0[r][j] + sum(dy[r][i] * w[i][j] for i in range(n_out)), TOL, "matmul_acc")


def _pool(B, rows, nf, seed):
    from tinycil.replay import Rows
    P = Rows(B, nf, rows)
    r = Rng(seed)
    for i in range(rows):
        P.put(i, [r.uniform() * (i + 1) for _ in range(nf)])
    return P


def _deq(P, i):
    out = [0.0] * P.n_feat
    P.values(i, out)
    return out


def test_int8_row_kernels(ctx):
    # the pool's rows: gather, the nearest-mean head's logits, the per-feature range
    from array import array
    B = tinycil.backend.get(ctx["backend"])
    nf = 5
    P = _pool(B, 6, nf, 4)
    X = B.zeros(4, nf + 1)
    idx, sc = array("H", [9, 4, 0, 2]), array("f", [0.0, 0.0, 0.0, 0.0])
    for i in (1, 2, 3):
        sc[i] = P.scale[idx[i]]
    B.gather_rows(X, 1, P.view, idx, sc, 1, 3, nf)  # rows 1..3 of X from idx[1..3]
    for r, k in ((1, 4), (2, 0), (3, 2)):
        want = _deq(P, k)
        for j in range(nf):
            approx(B.get(X, r, j), want[j], TOL, "gather_rows")
    a, b = B.zeros(1, 4), B.zeros(1, 4)
    for c in range(3):
        B.put(a, 0, c, 0.5 + c)
        B.put(b, 0, c, -1.0 * c)
    Y = B.zeros(4, 4)
    B.fill(Y, 4, 3, 1.0)
    B.linear_q(X, P.view, 3, a, b, Y, 4, nf, 3)
    for r in range(4):
        x = [B.get(X, r, j) for j in range(nf)]
        for c in range(3):
            q = [P.q[(3 + c) * nf + j] for j in range(nf)]
            approx(B.get(Y, r, c), 1.0 + (0.5 + c) * sum(x[j] * q[j] for j in range(nf)) - c, TOL, "linear_q")
    lo, hi = B.zeros(1, nf), B.zeros(1, nf)
    B.col_range_q(P.view, 1, 4, nf, P.scale, lo, hi)
    for j in range(nf):
        vals = [_deq(P, i)[j] for i in range(1, 5)]
        approx(B.get(lo, 0, j), min(vals), TOL, "col_range_q lo")
        approx(B.get(hi, 0, j), max(vals), TOL, "col_range_q hi")


def test_integer_kernels(ctx):
    # _int8's dot products over int8 rows (machine code where the port has viper)
    from array import array
    from tinycil import _int8
    r = Rng(2)
    n, rows, cols = 7, 3, 4
    a = array("b", bytes(rows * n + 2))
    b = array("b", bytes(cols * n))
    r.fill_bytes(a, len(a))
    r.fill_bytes(b, len(b))
    d = array("b", bytes(rows * cols))
    r.fill_bytes(d, len(d))
    # the machine-code kernels (where the port has viper) and the bytecode ones alike
    for relu_dots, rows_times in ((_int8.relu_dots, _int8.rows_times), (_int8.relu_dots_py, _int8.rows_times_py)):
        out = array("i", bytes(4 * rows * cols))
        relu_dots(a, 2, rows, b, 0, cols, n, out)
        for i in range(rows):
            for u in range(cols):
                want = max(0, sum(a[2 + i * n + j] * b[u * n + j] for j in range(n)))
                check(out[i * cols + u] == want, "relu_dots")
        g = array("i", bytes(4 * rows * n))
        rows_times(d, rows, cols, b, n, g)
        for i in range(rows):
            for j in range(n):
                check(g[i * n + j] == sum(d[i * cols + u] * b[u * n + j] for u in range(cols)), "rows_times")
    # the pure backend's skip list of zero inputs: zeros of both signs skipped, a NaN kept
    from tinycil import _pure
    x = array("f", [0.0, -0.0, 1.5, 0.0, -2.0, float("nan"), 1e-30, 0.0, 3.0])
    check(list(_pure._nonzero(x, 8)) == [2, 4, 5, 6], "_nonzero")
    check(len(_pure._nonzero(x, 0)) == 0, "_nonzero of nothing")
    # the bytes of a draw, little-endian, as int8 (FORMAT.md 3)
    r1, r2 = Rng(2), Rng(2)
    b5 = array("b", bytes(5))
    r1.fill_bytes(b5, 5)
    x, y = r2.next_u32(), r2.next_u32()
    want = [(v >> (8 * i)) & 255 for v in (x,) for i in range(4)] + [y & 255]
    check([v & 255 for v in b5] == want and r1.state == r2.state, "fill_bytes")


def test_distribution_matching_chunk(ctx):
    # dm_chunk against the same arithmetic written out (FORMAT.md 5), and quantize_rows
    from array import array
    from tinycil.distill import Distiller
    from tinycil.replay import quantize_into
    B = tinycil.backend.get(ctx["backend"])
    nf, n, k, c = 6, 5, 2, 3
    P = _pool(B, n + 1, nf, 8)
    d = Distiller(B, nf, k, c, False, n)
    S = _mat(B, k, nf, Rng(3))
    B.quantize_rows(S, k, nf, d.Sq, d.ss)
    for i in range(k):
        q = array("b", bytes(nf))
        s = quantize_into(B.row(S, i, nf), nf, q, 0)
        check(list(q) == list(d.Sq[i * nf:(i + 1) * nf]) and s == d.ss[i], "quantize_rows")
    Rng(5).fill_bytes(d.E, c * nf)
    E = list(d.E)
    dot = lambda x, xo, u: sum(x[xo + j] * E[u * nf + j] for j in range(nf))  # noqa: E731
    mT = [sum(P.scale[1 + i] * max(0, dot(P.q, (1 + i) * nf, u)) for i in range(n)) / n for u in range(c)]
    hS = [[max(0, dot(d.Sq, r * nf, u)) for u in range(c)] for r in range(k)]
    mS = [sum(d.ss[r] * hS[r][u] for r in range(k)) / k for u in range(c)]
    diff = [mS[u] - mT[u] for u in range(c)]
    pre = 0.01
    G0 = [B.row(d.G, r, nf) for r in range(k)]
    loss = B.dm_chunk(P.q, 1, n, B.row_scales(P.scale, 1, n), d.Sq, d.ss, k, d.E, c, nf, pre, d, d.G)
    approx(loss, sum(v * v for v in diff), 1e-4, "dm_chunk loss")
    for r in range(k):
        q = array("b", bytes(c))
        s = quantize_into([diff[u] * pre if hS[r][u] > 0 else 0.0 for u in range(c)], c, q, 0)
        for j in range(nf):
            want = G0[r][j] + s * sum(q[u] * E[u * nf + j] for u in range(c))
            approx(B.get(d.G, r, j), want, 1e-4, "dm_chunk gradient")


def test_softmax_xent_sgd(ctx):
    from math import exp, log
    B = tinycil.backend.get(ctx["backend"])
    rng = Rng(5)
    Z = _mat(B, 2, 3, rng)
    z = _get(B, Z, 2, 3)
    labels, weights = [2, 0], [1.0, 3.0]
    loss = xent_grad(B, Z, labels, weights, 2, 3, [0.0] * 2)
    want = 0.0
    for r in range(2):
        s = sum(exp(v) for v in z[r])
        p = [exp(v) / s for v in z[r]]
        w = weights[r] / 4.0
        want -= w * log(p[labels[r]])
        for j in range(3):
            approx(B.get(Z, r, j), (p[j] - (1.0 if j == labels[r] else 0.0)) * w, TOL, "xent grad")
    approx(loss, want, TOL, "xent loss")
    W = _mat(B, 2, 2, rng)
    V = _mat(B, 2, 2, rng)
    G = _mat(B, 2, 2, rng)
    w0, v0, g = _get(B, W, 2, 2), _get(B, V, 2, 2), _get(B, G, 2, 2)
    B.sgd(W, V, G, 2, 2, 0.1, 0.9)
    for i in range(2):
        for j in range(2):
            v = 0.9 * v0[i][j] - 0.1 * g[i][j]
            approx(B.get(V, i, j), v, TOL, "momentum")
            approx(B.get(W, i, j), w0[i][j] + v, TOL, "sgd")
    W2, G2 = _mat(B, 2, 2, rng), _mat(B, 2, 2, rng)
    w2, g2 = _get(B, W2, 2, 2), _get(B, G2, 2, 2)
    B.sgd(W2, None, G2, 2, 2, 0.1, 0.0)
    for i in range(2):
        for j in range(2):
            approx(B.get(W2, i, j), w2[i][j] - 0.1 * g2[i][j], TOL, "plain sgd")
    # the fused layer step equals computing the gradient and then stepping
    X = _mat(B, 3, 4, rng)
    dY = _mat(B, 3, 2, rng)
    W = _mat(B, 2, 4, rng)
    b = _mat(B, 1, 2, rng)
    V = _mat(B, 2, 4, rng)
    Vb = _mat(B, 1, 2, rng)
    x, dy, w0, b0, v0, vb0 = (_get(B, X, 3, 4), _get(B, dY, 3, 2), _get(B, W, 2, 4), _get(B, b, 1, 2)[0],
                              _get(B, V, 2, 4), _get(B, Vb, 1, 2)[0])
    B.sgd_linear(W, V, b, Vb, X, dY, 3, 4, 2, 0.1, 0.9)
    for i in range(2):
        vb = 0.9 * vb0[i] - 0.1 * sum(dy[r][i] for r in range(3))
        approx(B.get(b, 0, i), b0[i] + vb, TOL, "fused bias")
        for j in range(4):
            v = 0.9 * v0[i][j] - 0.1 * sum(dy[r][i] * x[r][j] for r in range(3))
            approx(B.get(V, i, j), v, TOL, "fused momentum")
            approx(B.get(W, i, j), w0[i][j] + v, TOL, "fused sgd")
    # and without momentum buffers: W -= lr * G
    W = _mat(B, 2, 4, rng)
    b = _mat(B, 1, 2, rng)
    w0, b0 = _get(B, W, 2, 4), _get(B, b, 1, 2)[0]
    B.sgd_linear(W, None, b, None, X, dY, 3, 4, 2, 0.1, 0.0)
    for i in range(2):
        approx(B.get(b, 0, i), b0[i] - 0.1 * sum(dy[r][i] for r in range(3)), TOL, "plain fused bias")
        for j in range(4):
            approx(B.get(W, i, j), w0[i][j] - 0.1 * sum(dy[r][i] * x[r][j] for r in range(3)), TOL, "plain fused sgd")


def test_small_helpers(ctx):
    B = tinycil.backend.get(ctx["backend"])
    rng = Rng(9)
    H = _mat(B, 3, 4, rng)
    h = _get(B, H, 3, 4)
    out = B.zeros(1, 5)
    B.col_mean(H, 3, 4, out)
    for j in range(4):
        approx(B.get(out, 0, j), sum(h[r][j] for r in range(3)) / 3, TOL, "col_mean")
    approx(B.sumsq(H, 3, 4), sum(v * v for r in h for v in r), TOL, "sumsq")
    idx = [0] * 4
    B.argmax_rows(H, 3, 4, idx, 1)
    check(idx[1:] == [r.index(max(r)) for r in h], "argmax_rows")
    check(B.all_finite(H, 3, 4), "all_finite on finite values")
    B.put(H, 1, 1, float("nan"))
    check(not B.all_finite(H, 3, 4), "all_finite missed a NaN")
