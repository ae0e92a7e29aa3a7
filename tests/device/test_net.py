# The growable network: exact function preservation when widening, gradients
# that match finite differences, and training that lowers the loss.
import tinycil.backend
from tinycil.net import Net, xent_grad
from tinycil.rng import Rng
from util import approx, check


def _setup(ctx, n_layers=1):
    B = tinycil.backend.get(ctx["backend"])
    rng = Rng(11)
    net = Net(B, 6, 12, 5, n_layers, 4)
    net.set_hidden(4, rng)
    for _ in range(3):
        net.add_class(rng)
    X = B.zeros(4, 6)
    B.fill_uniform(X, 0, 4, 0, 6, rng, 1.0)
    return B, rng, net, X


def _logits(B, net, X, m):
    Z = net.forward(X, m)
    return [B.row(Z, r, net.n_classes) for r in range(m)]


def test_widening_preserves_outputs_exactly(ctx):
    for n_layers in (1, 2):
        B, rng, net, X = _setup(ctx, n_layers)
        net.step(X, [0, 1, 2, 1], [1.0] * 4, 4, 0.1, 0.9)  # trained, not just initialised
        before = _logits(B, net, X, 4)
        net.set_hidden(9, rng)
        check(net.hidden == [9] * n_layers, "widths %r" % (net.hidden,))
        after = _logits(B, net, X, 4)
        check(before == after, "widening changed the outputs (%d layers)" % n_layers)


def test_flops_and_params(ctx):
    B, rng, net, X = _setup(ctx)
    check(net.flops() == 2 * (6 * 4 + 4 * 3), "flops")
    check(net.params() == 6 * 4 + 4 + 4 * 3 + 3, "params")


def test_gradient_matches_finite_differences(ctx):
    B, rng, net, X = _setup(ctx)
    labels, weights = [0, 2, 1, 2], [1.0, 2.0, 1.0, 1.0]

    def loss():
        Z = net.forward(X, 4)
        return xent_grad(B, Z, labels, weights, 4, 3, [0.0] * 4)

    # a step with lr=1, mu=0 from zero momentum moves W by exactly -grad: recover the
    # analytic gradient, then put every weight back
    saved = [([B.row(net.W[l], i, net.sizes[l]) for i in range(net.sizes[l + 1])],
              B.row(net.b[l], 0, net.sizes[l + 1])) for l in range(2)]
    W = net.W[0]
    net.reset_momentum()
    net.step(X, labels, weights, 4, 1.0, 0.0)
    grad = [[saved[0][0][i][j] - B.get(W, i, j) for j in range(6)] for i in range(4)]
    for l in range(2):
        for i, row in enumerate(saved[l][0]):
            B.set_row(net.W[l], i, row, len(row))
        B.set_row(net.b[l], 0, saved[l][1], len(saved[l][1]))
    eps = 1e-2  # float32 storage: a larger step keeps rounding noise below the tolerance
    for (i, j) in ((0, 0), (1, 3), (3, 5), (2, 2)):
        w = B.get(W, i, j)
        B.put(W, i, j, w + eps)
        lp = loss()
        B.put(W, i, j, w - eps)
        lm = loss()
        B.put(W, i, j, w)
        approx(grad[i][j], (lp - lm) / (2 * eps), 2e-2, "dL/dW[%d,%d]" % (i, j))


def _batch_rows(B, X, labels, nf):
    def rows(order, i, m, Xb, bl, bw):
        for r in range(m):
            k = order[i + r] if order is not None else i + r
            B.copy_row(X, k, Xb, r, nf)
            bl[r] = labels[k]
            bw[r] = 1.0
    return rows


def test_fit_lowers_loss(ctx):
    B, rng, net, X = _setup(ctx)
    labels = [0, 1, 2, 0]
    from array import array
    order = array("H", bytes(8))
    rows = _batch_rows(B, X, labels, 6)
    first = net.fit(rows, 4, order, 1, 0.05, 0.9, rng)
    last = net.fit(rows, 4, order, 40, 0.05, 0.9, rng)
    check(last < first * 0.5, "loss %f -> %f" % (first, last))
    pred = array("H", bytes(8))
    net.predict_into(rows, 4, pred)
    check(list(pred) == labels, "does not fit 4 samples")


def test_plain_sgd_without_momentum_buffers(ctx):
    # momentum 0: the net allocates no velocity buffers and still learns
    B = tinycil.backend.get(ctx["backend"])
    rng = Rng(11)
    net = Net(B, 6, 12, 5, 1, 4, momentum=False)
    check(net.VW is None and net.Vb is None, "velocity buffers allocated")
    net.set_hidden(4, rng)
    for _ in range(3):
        net.add_class(rng)
    X = B.zeros(4, 6)
    B.fill_uniform(X, 0, 4, 0, 6, rng, 1.0)
    from array import array
    order = array("H", bytes(8))
    rows = _batch_rows(B, X, [0, 1, 2, 0], 6)
    first = net.fit(rows, 4, order, 1, 0.3, 0.0, rng)
    last = net.fit(rows, 4, order, 60, 0.3, 0.0, rng)
    check(last < first * 0.5, "loss %f -> %f" % (first, last))


def test_divergence_is_detected_by_the_loss_not_by_overflow(ctx):
    # lr 1e6 sends the weights far away without overflowing a float64 runtime; the loss
    # (log-sum-exp, no ceiling) leaves LOSS_LIMIT and fit raises ArithmeticError
    from tinycil.limits import LOSS_LIMIT
    B, rng, net, X = _setup(ctx)
    from array import array
    order = array("H", bytes(8))
    try:
        net.fit(_batch_rows(B, X, [0, 1, 2, 0], 6), 4, order, 3, 1e6, 0.0, rng)
    except ArithmeticError as e:
        check("diverged" in str(e) or "non-finite" in str(e), "message %r" % e)
    else:
        raise AssertionError("fit at lr 1e6 did not raise (LOSS_LIMIT %g)" % LOSS_LIMIT)
