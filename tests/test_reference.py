"""The NumPy reference: its maths checked on its own (parity with the board is test_parity)."""
import numpy as np
import pytest

from tinycil_host import datasets, store
from tinycil_host.reference import Learner, Net, Replay, Rng, distill, herding_order


@pytest.fixture(scope="module")
def digits():
    return datasets.load("digits")


def test_rng_follows_the_spec():
    r = Rng(1)
    # x=1: x ^= x<<13 -> 8193; x ^= x>>17 -> 8193; x ^= x<<5 -> 270369
    assert r.next_u32() == 270369
    assert Rng(0).state == 0x9E3779B9
    u = [Rng(7).uniform() for _ in range(3)]
    draws = [r.uniform() for _ in range(2000)]
    assert min(draws) >= -1.0 and max(draws) < 1.0
    assert all(np.float32(d) == d for d in draws)  # exact in float32
    items = list(range(10))
    Rng(3).shuffle(items)
    assert sorted(items) == list(range(10)) and items != list(range(10))
    assert u == [Rng(7).uniform()] * 3  # same seed, same first draw


def _small_net(n_layers, seed=2):
    rng = Rng(seed)
    net = Net(5, 6, 4, n_layers=n_layers, batch=8)
    net.set_hidden(4, rng)
    for _ in range(3):
        net.add_class(rng)
    for l in range(len(net.b)):  # non-zero biases so their gradients matter too
        net.b[l][:] = rng.matrix(1, len(net.b[l]), 0.3)[0]
    return net


@pytest.mark.parametrize("n_layers", [1, 2])
def test_gradients_match_finite_differences(n_layers):
    net = _small_net(n_layers)
    rng = Rng(9)
    X = rng.matrix(8, 5, 1.0)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    w = np.array([1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 3.0, 1.0])
    _, gW, gb = net.gradients(X, y, w)
    eps = 1e-2
    for params, grads in ((net.W, gW), (net.b, gb)):
        for P, G in zip(params, grads):
            num = np.zeros_like(G)
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + eps
                lp = net.gradients(X, y, w)[0]
                P[idx] = old - eps
                lm = net.gradients(X, y, w)[0]
                P[idx] = old
                num[idx] = (lp - lm) / (2 * eps)
            assert np.abs(num - G).max() <= 2e-3 * max(1.0, np.abs(G).max()), (num, G)


def test_sgd_step_lowers_the_loss():
    net = _small_net(1)
    X = Rng(4).matrix(8, 5, 1.0)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    w = np.ones(8)
    first = net.step(X, y, w, 0.1, 0.0)
    for _ in range(20):
        last = net.step(X, y, w, 0.1, 0.0)
    assert last < first


@pytest.mark.parametrize("n_layers", [1, 2])
def test_widening_preserves_outputs_exactly(n_layers):
    net = _small_net(n_layers)
    X = Rng(5).matrix(20, 5, 2.0)
    before = net.forward(X)
    net.set_hidden(6, Rng(6))
    assert net.hidden == [6] * n_layers
    assert np.array_equal(net.forward(X), before)
    # and the new units are live: their incoming weights are not zero
    assert np.abs(net.W[0][4:]).max() > 0
    net.add_class(Rng(8))
    assert np.array_equal(net.forward(X)[:, :3], before)


def test_herding_picks_the_row_nearest_the_mean_first():
    T = np.array([[0, 0], [10, 10], [4, 6], [6, 4], [5, 5]], np.float32)
    order = herding_order(T, 3)
    assert order[0] == 4
    assert len(set(order)) == 3


def _matching_loss(T, S, seeds):
    # the distillation objective averaged over fixed random embeddings
    total = 0.0
    for s in seeds:
        E = Rng(s).matrix(32, T.shape[1], np.sqrt(6.0 / T.shape[1]))
        d = np.maximum(S @ E.T, 0).mean(0) - np.maximum(T @ E.T, 0).mean(0)
        total += float((d ** 2).sum())
    return total / len(seeds)


def test_distillation_lowers_its_loss(digits):
    T = digits.X_train[digits.y_train == 3][:60] / 8.0 - 1.0
    S0 = np.asarray(T[:5], np.float32)  # not herding: a poor start leaves room to improve
    S, first, last = distill(T, S0, Rng(1), iters=60, embed_dim=32, lr=0.3, mu=0.5)  # the default lr
    seeds = range(100, 120)
    assert _matching_loss(T, S, seeds) < 0.7 * _matching_loss(T, S0, seeds)
    assert last < first


def test_quantization_error_is_bounded():
    rng = np.random.default_rng(0)
    M = (rng.standard_normal((50, 40)) * rng.uniform(0.01, 100, (50, 1))).astype(np.float32)
    M[3] = 0.0
    scale, q = store.quantize_rows(M)
    back = store.dequantize_rows(scale, q)
    assert q.dtype == np.int8 and np.abs(q.astype(int)).max() == 127
    assert scale[3] == 1.0 and not q[3].any()
    assert np.all(np.abs(back - M) <= scale[:, None] * (0.5 + 1e-6))
    # round-half-up, as floor(v/scale + 0.5)
    s, qq = store.quantize_rows(np.array([[127.0, 0.5, -0.5, 1.5]], np.float32))
    assert s[0] == 1.0 and qq.tolist() == [[127, 1, 0, 2]]


def test_replay_budget_policy():
    rp = Replay(n_features=6, budget_bytes=100, max_per_class=4)  # 10 bytes a row: 10 fit
    assert rp.capacity == 10 and rp.quota(1) == 4 and rp.quota(3) == 3 and rp.quota(11) == 0
    for c in range(2):
        rp.set_mean(c, np.full(6, 50.0 * c, np.float32), 4)
        rp.add(c, np.arange(18, dtype=np.float32).reshape(3, 6) + 100 * c)  # quota 4: the mean and 3
    first = rp.values()[[0, 3]]
    rp.shrink_to(rp.quota(3))   # 3 rows each: the mean and 2 samples
    assert rp.n == 4 and [rp.count(c) for c in range(2)] == [3, 3]
    assert np.array_equal(rp.values()[[0, 2]], first)  # prefixes kept, in order
    assert rp.bytes_used() == 60
    with pytest.raises(ValueError):
        rp.add(2, np.zeros((7, 6), np.float32))


def test_held_out_rows_fill_the_quota():
    # FORMAT.md 7.7, the same scenario as the device's test_learner: 240 bytes = 20 rows
    rng = np.random.default_rng(3)
    lrn = Learner(8, max_hidden=8, min_hidden=2, grow_step=2, memory_bytes=240, epochs=10, distill_iters=10,
                  input_scale=1.0)
    X = rng.uniform(0, 0.2, (10, 8)).astype(np.float32) + np.float32(1.0)
    rep = lrn.learn_class("a", X, verbose=False)
    assert (rep["synthetic_samples"], rep["held_out_kept"]) == (8, 1)
    assert lrn.info()["samples_per_class"] == [10]
    np.testing.assert_allclose(lrn.replay.values()[8], X[4], atol=0.01)
    rep = lrn.learn_class("b", rng.uniform(0, 0.2, (12, 8)).astype(np.float32), verbose=False)
    assert (rep["synthetic_samples"], rep["held_out_kept"]) == (9, 0)
    rep = lrn.learn_class("c", rng.uniform(-1, -0.8, (5, 8)).astype(np.float32), verbose=False)
    assert (rep["synthetic_samples"], rep["held_out_kept"]) == (5, 0)
    assert lrn.info()["samples_per_class"] == [6, 6, 6]


def test_learn_class_grows_to_meet_its_target_and_predicts(digits):
    # without the nearest-mean head, whose class means alone separate three digits
    lrn = Learner(64, max_hidden=9, min_hidden=1, grow_step=4, input_offset=8.0, input_scale=0.125,
                  target=1.0, distill_iters=10, epochs=20, ncm_weight=0.0)
    reps = [lrn.learn_class(str(c), digits.X_train[digits.y_train == c][:30]) for c in range(3)]
    assert any(r["grew"] for r in reps)  # one hidden unit cannot separate three digits perfectly
    for r in reps:  # grows only while the check misses the target and widening pays, never past max_hidden
        assert r["met_target"] == (r["accuracy"] >= 1.0)
        assert r["hidden"][0] in (1, 5, 9) and (r["met_target"] or r["hidden"] == [9] or r["growth_stalled"])
        assert r["hidden"][0] == r["hidden_before"] or r["met_target"] or r["hidden"] == [9] or r["growth_stalled"]
    m = digits.y_test < 3
    assert (lrn.predict_batch(digits.X_test[m]) == digits.y_test[m]).mean() > 0.85
    info = lrn.info()
    assert info["classes"] == ["0", "1", "2"] and info["memory_bytes_used"] == 30 * 68
    assert lrn.predict(digits.X_test[5]) == lrn.classes[lrn.predict_batch(digits.X_test[5:6])[0]]


@pytest.mark.parametrize("undo, checks, hidden, stalled", [
    (0, [0.5, 0.6, 0.7, 0.8], [8], False),   # every widening raises the check: up to max_hidden
    (0, [0.5, 0.5], [4], True),              # the first widening buys nothing: growth stops there
    (0, [0.5, 0.7, 0.6], [6], True),         # the second one loses: stops after it (widening kept)
    (1, [0.5, 0.6, 0.7, 0.8], [8], False),   # grow_undo: nothing to undo
    (1, [0.5, 0.5, 0.45], [2], True),        # the first widening is dropped; the last check is the narrower net's
    (1, [0.5, 0.7, 0.6, 0.65], [4], True),   # the second one is dropped, the first kept
])
def test_growth_stops_when_a_widening_does_not_raise_the_check(digits, monkeypatch, undo, checks, hidden, stalled):
    lrn = Learner(64, max_hidden=8, min_hidden=2, grow_step=2, input_offset=8.0, input_scale=0.125,
                  target=0.99, distill_iters=2, epochs=2, grow_undo=undo)
    seq = iter(checks)
    monkeypatch.setattr(lrn, "check", lambda rows: next(seq))
    r = lrn.learn_class("0", digits.X_train[digits.y_train == 0][:20])
    assert r["hidden"] == hidden and r["growth_stalled"] is stalled and r["accuracy"] == checks[-1]
    assert next(seq, None) is None and [W.shape[0] for W in lrn.net.W[:-1]] == hidden
    assert store.decode(lrn.to_bytes())["hidden"] == hidden[0]


def test_divergence_retries_once_at_half_the_learning_rate(digits, monkeypatch):
    X = digits.X_train[digits.y_train == 0][:20]
    lrn = Learner(64, input_offset=8.0, input_scale=0.125, epochs=2, distill_iters=2, lr=0.05)
    fit = lrn.net.fit
    calls = []

    def once(*a, **k):  # the first fit diverges, later ones train
        calls.append(a[4])
        if len(calls) == 1:
            raise ArithmeticError("training diverged (scripted)")
        return fit(*a, **k)
    monkeypatch.setattr(lrn.net, "fit", once)
    r = lrn.learn_class("0", X)
    lr = float(np.float32(0.05))  # hyperparameters are float32 values, as the file stores them
    assert r["lr_halved"] and calls[:2] == [lr, lr / 2] and lrn.hp["lr"] == lr / 2 and lrn.classes == ["0"]
    before = lrn.to_bytes()

    def always(*a, **k):
        raise ArithmeticError("training diverged (scripted)")
    monkeypatch.setattr(lrn.net, "fit", always)
    with pytest.raises(ValueError, match="diverged"):
        lrn.learn_class("1", digits.X_train[digits.y_train == 1][:20])
    assert lrn.to_bytes() == before and lrn.hp["lr"] == lr / 2  # as before the failed call


def test_failed_learn_class_leaves_the_learner_intact(digits):
    lrn = Learner(64, input_offset=8.0, input_scale=0.125, epochs=4, distill_iters=5)
    lrn.learn_class("0", digits.X_train[digits.y_train == 0][:20])
    before = lrn.to_bytes()
    bad = digits.X_train[digits.y_train == 1][:20].copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        lrn.learn_class("1", bad)
    with pytest.raises(ValueError, match="label must be 1 to"):
        lrn.learn_class("x" * 100, digits.X_train[:5])
    lr = lrn.hp["lr"]
    lrn.hp["lr"] = 1e30  # diverges
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="diverged|non-finite"):
        lrn.learn_class("1", digits.X_train[digits.y_train == 1][:20])
    lrn.hp["lr"] = lr
    assert lrn.to_bytes() == before


def test_state_round_trips_through_the_file_format(digits, tmp_path):
    lrn = Learner(64, input_offset=8.0, input_scale=0.125, epochs=3, distill_iters=5, seed=4)
    for c in range(2):
        lrn.learn_class(str(c), digits.X_train[digits.y_train == c][:15])
    lrn.save(tmp_path / "l")
    back = Learner.load(tmp_path / "l")
    assert back.to_bytes() == lrn.to_bytes()
    assert np.array_equal(back.scores_batch(digits.X_test[:30]), lrn.scores_batch(digits.X_test[:30]))
    assert back.rng.state == lrn.rng.state


def test_replay_noise_rows_and_amplitude():
    from tinycil_host.reference import noise
    assert noise.replay_repeats([1, 1, 1], 40, 0.5) == noise.MAX_REPEATS == 4
    assert noise.replay_repeats([10, 10, 10], 40, 0.5) == 4 and noise.replay_repeats([15, 2], 40, 0.5) == 2
    assert noise.replay_repeats([60, 60], 40, 0.5) == 1 and noise.replay_repeats([1, 1], 40, 0.0) == 1
    # rows of +-1 around any centre: every feature's variance is 1, so a = factor * sqrt(3)
    from tinycil_host.reference.learner import mean_and_var
    T = np.array([[3.0, -1.0], [5.0, 1.0]] * 4, dtype=np.float32)
    assert abs(noise.noise_amplitude(mean_and_var(T)[1], 0.5) - 0.5 * np.sqrt(3.0)) < 1e-6
    # only rows below n_noisy change, each by a * a window of the table, one draw per noisy row
    rng, twin = Rng(4), Rng(4)
    table = noise.noise_table(3, rng)
    twin_table = noise.noise_table(3, twin)
    assert len(table) == noise.NOISE_WINDOWS + 2 and np.array_equal(table, twin_table)
    Xb = np.zeros((4, 3), dtype=np.float32)
    noise.add_noise(Xb, [5, 1, 2, 0], (2, table, 2.0), rng)
    assert not Xb[0].any() and not Xb[2].any()
    for r in (1, 3):
        o = twin.below(noise.NOISE_WINDOWS)
        assert np.allclose(Xb[r], 2.0 * table[o:o + 3])
    assert rng.state == twin.state


def test_replay_noise_changes_training_and_off_is_the_old_learner(digits):
    X = {c: digits.X_train[digits.y_train == c][:30] for c in range(3)}

    def run(**kw):
        lrn = Learner(64, max_hidden=8, memory_bytes=6 * 68, input_offset=8.0, input_scale=0.125, epochs=5,
                      distill_iters=5, **kw)
        reps = [lrn.learn_class(str(c), X[c]) for c in range(3)]
        return lrn, reps
    a, _ = run(replay_noise=0.0)
    b, _ = run(replay_noise=0.0)
    c, _ = run(replay_noise=0.5)
    assert all(np.array_equal(u, v) for u, v in zip(a.net.W, b.net.W))
    assert not all(np.array_equal(u, v) for u, v in zip(a.net.W, c.net.W))
    assert a.rng.state != c.rng.state   # the noise draws from the learner's generator


def test_the_nearest_mean_head_adds_the_class_means_logits(digits):
    """FORMAT.md 4: logits += beta (2 mu_c . x - |mu_c|^2), beta = ncm_weight / (2 ncm_var), the
    means stored int8 (one row of each class's quota) and ncm_var the mean of the classes' variances."""
    from tinycil_host.reference.learner import mean_and_var
    X = {c: (digits.X_train[digits.y_train == c][:25] - 8.0) / 8.0 for c in range(3)}
    on = Learner(64, epochs=3, distill_iters=5, ncm_weight=0.5, input_scale=1.0)
    off = Learner(64, epochs=3, distill_iters=5, ncm_weight=0.0, input_scale=1.0)
    for c in range(3):
        on.learn_class(str(c), X[c])
        off.learn_class(str(c), X[c])
    train = [i for i in range(25) if i % 5 != 4]
    var = np.mean([mean_and_var(store.dequantize_rows(*store.quantize_rows(on.features(X[c][train]))))[1]
                   for c in range(3)])  # the call's rows as the learner holds them: int8
    assert abs(on.ncm_var - var) < 1e-6 * var
    beta = np.float32(0.5) / (2 * on.ncm_var)
    mu = on.replay.mean_values()
    F = digits.X_test[:20].astype(np.float32) / 8.0 - 1.0
    head = 2 * beta * F @ mu.T - beta * (mu.astype(np.float64) ** 2).sum(1)
    net_only = Learner.from_state(on.state())
    net_only.net.ncm = None
    np.testing.assert_allclose(on.net.forward(F) - net_only.net.forward(F), head, rtol=1e-4, atol=1e-3)
    assert off.net.ncm is None and on.info()["flops_per_inference"] == off.info()["flops_per_inference"] + 2 * 64 * 3
