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
    out = B.zeros(1, n_out + 1)
    B.relu_mean(X, m, W, n_in, n_out, out)
    for i in range(n_out):
        want = sum(max(0.0, sum(w[i][j] * x[r][j] for j in range(n_in))) for r in range(m)) / m
        approx(B.get(out, 0, i), want, TOL, "relu_mean")


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
    check(B.argmax_rows(H, 3, 4) == [r.index(max(r)) for r in h], "argmax_rows")
    check(B.all_finite(H, 3, 4), "all_finite on finite values")
    B.put(H, 1, 1, float("nan"))
    check(not B.all_finite(H, 3, 4), "all_finite missed a NaN")
