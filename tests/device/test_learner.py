# learn_class end to end on small data: the report, predictions, the replay
# budget policy, and bad input that must change nothing.
import tinycil
from tinycil.rng import Rng
from util import check, file_bytes, raises, rmtree

N_IN = 8


def _blob(seed, n, centre):
    r = Rng(seed)
    return [[centre[j % len(centre)] + 0.2 * r.uniform() for j in range(N_IN)] for _ in range(n)]


CENTRES = ([0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.5, -0.5], [-0.5, 0.5])


def _new(ctx, path, **kw):
    rmtree(path)
    # input_scale given: these tests look at the rows as given (test_input_scaling_is_learned
    # covers a learner that learns its own)
    opts = dict(max_hidden=8, min_hidden=2, grow_step=2, memory_bytes=240, epochs=10,
                distill_iters=10, backend=ctx["backend"], input_scale=1.0)
    opts.update(kw)
    return tinycil.new(N_IN, path=path, **opts)


def test_learn_predict_report(ctx):
    path = ctx["tmp"] + "/learn"
    l = _new(ctx, path)
    for i, c in enumerate(CENTRES[:3]):
        rep = l.learn_class("c%d" % i, _blob(i, 15, c), verbose=False)
        for key in ("accuracy", "grew", "hidden", "flops_per_inference", "seconds", "memory_bytes_used"):
            check(key in rep, "report lacks %s" % key)
    check(l.classes == ["c0", "c1", "c2"], "classes %r" % l.classes)
    for i, c in enumerate(CENTRES[:3]):
        hits = sum(1 for x in _blob(100 + i, 10, c) if l.predict(x) == "c%d" % i)
        check(hits >= 9, "class c%d: %d/10" % (i, hits))
    s = l.scores(_blob(7, 1, CENTRES[0])[0])
    check(len(s) == 3 and abs(sum(s) - 1.0) < 1e-5, "scores %r" % s)
    info = l.info()
    check(info["backend"] == ctx["backend"] and info["classes"] == l.classes, "info %r" % info)
    check(info["memory_bytes_used"] <= info["memory_bytes_budget"], "over budget")
    rmtree(path)


def test_growth_stops_when_a_widening_does_not_raise_the_check(ctx):
    # the check is replaced by a scripted sequence (FORMAT.md 7.6)
    # (grow_undo, checks, widths): with grow_undo the stalled widening is dropped and checked again
    for undo, checks, hidden, stalled in ((0, [0.5, 0.6, 0.7, 0.8], [8], False), (0, [0.5, 0.5], [4], True),
                                          (0, [0.5, 0.7, 0.6], [6], True), (1, [0.5, 0.5, 0.45], [2], True),
                                          (1, [0.5, 0.7, 0.6, 0.65], [4], True)):
        path = ctx["tmp"] + "/stall"
        l = _new(ctx, path, target=0.99, grow_undo=undo)
        seq = iter(checks)
        l.check = lambda v0, n_val, n_train: next(seq)
        rep = l.learn_class("a", _blob(1, 15, CENTRES[0]), verbose=False)
        check(rep["hidden"] == hidden and rep["growth_stalled"] is stalled and rep["accuracy"] == checks[-1]
              and next(seq, None) is None, "checks %r: report %r" % (checks, rep))
        m = tinycil.load(path, backend=ctx["backend"], verbose=False)
        check(m.net.hidden == hidden and m.hp["grow_undo"] == undo, "saved %r %r" % (m.net.hidden, m.hp))
        rmtree(path)
    check("grow_undo" in str(raises(ValueError, tinycil.new, N_IN, path=None, grow_undo=2)), "bad value")


def test_divergence_retries_once_at_half_the_learning_rate(ctx):
    path = ctx["tmp"] + "/retry"
    l = _new(ctx, path, lr=0.05)
    fit = l.net.fit
    calls = []

    def once(batch_rows, n, order, epochs, lr, *rest):  # the first fit diverges
        calls.append(lr)
        if len(calls) == 1:
            raise ArithmeticError("training diverged (scripted)")
        return fit(batch_rows, n, order, epochs, lr, *rest)
    l.net.fit = once
    rep = l.learn_class("a", _blob(1, 15, CENTRES[0]), verbose=False)
    near = lambda a, b: abs(a - b) < 1e-8  # noqa: E731 (hyperparameters are float32 values)
    check(rep["lr_halved"] and near(calls[0], 0.05) and calls[1] == calls[0] / 2 and l.hp["lr"] == calls[1],
          "retry %r %r" % (calls, rep))
    check(abs(tinycil.load(path, verbose=False).hp["lr"] - 0.025) < 1e-6, "the halved rate is saved")
    before = file_bytes(path + "/learner.bin")

    def always(*a):
        raise ArithmeticError("training diverged (scripted)")
    l.net.fit = always
    e = raises(ValueError, l.learn_class, "b", _blob(2, 15, CENTRES[1]), verbose=False)
    check("diverged" in str(e) and l.classes == ["a"] and l.hp["lr"] == calls[1], "second failure: %s" % e)
    check(file_bytes(path + "/learner.bin") == before, "file changed by a failed call")
    rmtree(path)


def test_budget_shrinks_old_classes_but_keeps_every_class(ctx):
    path = ctx["tmp"] + "/budget"
    # 240 bytes / (8 + 4) = 20 samples: 10 per class for 2, 6 for 3, 5 for 4, 4 for 5 ...
    l = _new(ctx, path)
    for i, c in enumerate(CENTRES):
        l.learn_class("c%d" % i, _blob(i, 12, c), verbose=False)
        per = l.info()["samples_per_class"]
        check(len(per) == i + 1 and min(per) >= 1, "a class lost its samples: %r" % per)
        check(l.info()["memory_bytes_used"] <= 240, "over budget")
    check(l.info()["samples_per_class"] == [3] * 6, "per class %r" % l.info()["samples_per_class"])
    tiny = _new(ctx, path + "2", memory_bytes=36)  # 3 samples: a 4th class cannot fit
    for i in range(3):
        tiny.learn_class("c%d" % i, _blob(i, 6, CENTRES[i]), verbose=False)
    before = file_bytes(path + "2/learner.bin")
    e = raises(ValueError, tiny.learn_class, "c3", _blob(3, 6, CENTRES[3]), verbose=False)
    check("memory_bytes" in str(e), "message %r" % e)
    check(file_bytes(path + "2/learner.bin") == before and tiny.classes == ["c0", "c1", "c2"], "changed")
    rmtree(path)
    rmtree(path + "2")


def test_held_out_rows_fill_the_quota(ctx):
    # FORMAT.md 7.7. 240 bytes = 20 rows. 10 samples give 8 training rows and 2 held out; the
    # quota of 10 is the class's mean, 8 distilled rows and 1 held-out row, stored last as it was.
    path = ctx["tmp"] + "/keep"
    l = _new(ctx, path)
    X = _blob(3, 10, CENTRES[0])
    rep = l.learn_class("a", X, verbose=False)
    check(rep["synthetic_samples"] == 8 and rep["held_out_kept"] == 1, "report %r" % rep)
    check(l.info()["samples_per_class"] == [10], "per class %r" % l.info()["samples_per_class"])
    out = [0.0] * N_IN
    l.replay.values(8, out)
    err = max(abs(out[j] - X[4][j]) for j in range(N_IN))
    check(err <= 0.01, "slot 8 is not held-out sample 4 (error %g)" % err)
    # no room left (12 samples: 10 training rows fill the 9 places after the mean) ...
    rep = l.learn_class("b", _blob(4, 12, CENTRES[1]), verbose=False)
    check(rep["synthetic_samples"] == 9 and rep["held_out_kept"] == 0, "report %r" % rep)
    # ... and nothing held out (5 samples: below 2 * val_every)
    rep = l.learn_class("c", _blob(5, 5, CENTRES[2]), verbose=False)
    check(rep["synthetic_samples"] == 5 and rep["held_out_kept"] == 0, "report %r" % rep)
    check(l.info()["samples_per_class"] == [6, 6, 6], "per class %r" % l.info()["samples_per_class"])
    rmtree(path)


def test_samples_may_be_a_generator(ctx):
    # learn_class reads its samples once: a generator works, and gives what a list gives
    a = _new(ctx, ctx["tmp"] + "/gen_a")
    b = _new(ctx, ctx["tmp"] + "/gen_b")
    rows = _blob(1, 12, CENTRES[0])
    ra = a.learn_class("a", rows, verbose=False)
    rb = b.learn_class("a", (r for r in rows), verbose=False)
    check(ra["accuracy"] == rb["accuracy"] and a.scores(rows[0]) == b.scores(rows[0]), "generator differs")
    e = raises(ValueError, b.learn_class, "b", (r for r in _blob(2, 100, CENTRES[1])), verbose=False)
    check("max_samples" in str(e) and b.classes == ["a"], "too many from a generator: %s" % e)
    rmtree(ctx["tmp"] + "/gen_a")
    rmtree(ctx["tmp"] + "/gen_b")


def test_bad_input_changes_nothing(ctx):
    path = ctx["tmp"] + "/bad"
    l = _new(ctx, path)
    l.learn_class("a", _blob(1, 10, CENTRES[0]), verbose=False)
    l.learn_class("b", _blob(2, 10, CENTRES[1]), verbose=False)
    before = file_bytes(path + "/learner.bin")
    probe = _blob(3, 1, CENTRES[2])[0]
    s0 = l.scores(probe)
    good = _blob(4, 6, CENTRES[2])
    nan = [list(r) for r in good]
    nan[2][3] = float("nan")
    cases = [
        (TypeError, 5, good), (ValueError, "", good), (ValueError, "a", good[:2]),
        (ValueError, "new", good[:2]), (ValueError, "new", []), (TypeError, "new", None),
        (TypeError, "new", "abc"), (ValueError, "new", good[:3] + [[1.0] * (N_IN - 1)]),
        (TypeError, "new", good[:3] + [["x"] * N_IN]), (ValueError, "new", nan),
        (TypeError, "new", good[:3] + [[[1.0]] * N_IN]), (ValueError, "new", [[1e30] * N_IN] * 4),
        (ValueError, "new", [[float("inf")] * N_IN] * 4), (TypeError, "new", [None] * 4),
    ]
    for exc, label, samples in cases:
        raises(exc, l.learn_class, label, samples, verbose=False)
    raises(ValueError, l.predict, [1.0] * (N_IN + 1))
    raises(TypeError, l.scores, None)
    raises(ValueError, l.scores, [float("nan")] * N_IN)
    check(file_bytes(path + "/learner.bin") == before, "file changed by bad input")
    check(l.classes == ["a", "b"] and l.scores(probe) == s0, "learner changed by bad input")
    rmtree(path)


def test_failed_learn_restores_previous_state(ctx):
    # divergence mid-cycle (after the state was changed) must roll back, for a
    # learner with a folder (reloaded from its file) and one without (snapshot)
    for path in (ctx["tmp"] + "/rollback", None):
        l = _new(ctx, path) if path else tinycil.new(N_IN, path=None, backend=ctx["backend"],
                                                      max_hidden=8, min_hidden=2, memory_bytes=240,
                                                      epochs=10, distill_iters=10, input_scale=1.0)
        l.learn_class("a", _blob(1, 10, CENTRES[0]), verbose=False)
        l.learn_class("b", _blob(2, 10, CENTRES[1]), verbose=False)
        probe = _blob(3, 1, CENTRES[2])[0]
        s0 = l.scores(probe)
        info0 = l.info()
        l.hp["lr"] = 1e30  # forces divergence inside training
        e = raises(ValueError, l.learn_class, "c", _blob(5, 10, CENTRES[2]), verbose=False)
        check("intact" in str(e), "message %r" % e)
        l.hp["lr"] = 0.05
        check(l.classes == ["a", "b"] and l.scores(probe) == s0, "not restored (path=%r)" % path)
        check(l.info()["samples_per_class"] == info0["samples_per_class"], "replay not restored")
        l.learn_class("c", _blob(5, 10, CENTRES[2]), verbose=False)  # and it still works
        check(l.classes == ["a", "b", "c"], "cannot learn after a rollback")
        if path:
            rmtree(path)


def test_replay_noise_repeats_the_replay_rows_and_is_saved(ctx):
    # FORMAT.md 7.4: with 1 sample per class in replay and 12 real training rows, the replay
    # rows pass 4 times (MAX_REPEATS) per epoch; without noise once
    from tinycil import noise
    check(noise.repeats([1, 1, 1], 12) == 4 and noise.repeats([5, 5], 12) == 2, "repeats")
    check(noise.repeats([13, 1], 12) == 1 and noise.repeats([1], 0) == 1, "no repeats")
    check("replay_noise" in str(raises(ValueError, tinycil.new, N_IN, path=None, replay_noise=-1)), "negative")
    path = ctx["tmp"] + "/noise"
    l = _new(ctx, path, memory_bytes=60, replay_noise=0.25)  # 5 samples: 1 per class at 3+ classes
    for i, c in enumerate(CENTRES[:4]):
        l.learn_class("c%d" % i, _blob(i, 15, c), verbose=False)
    check(l._ws is not None and len(l._ws.order) >= 4 * l.replay.n + 12, "order table %d" % len(l._ws.order))
    m = tinycil.load(path, verbose=False)
    check(m.hp["replay_noise"] == 0.25, "saved replay_noise %r" % m.hp["replay_noise"])
    hits = sum(1 for i, c in enumerate(CENTRES[:4]) for x in _blob(200 + i, 5, c) if m.predict(x) == "c%d" % i)
    check(hits >= 16, "%d/20 after learning with noise" % hits)


def test_a_separate_head_is_left_out_of_training(ctx):
    # FORMAT.md 4: with ncm_separate the network trains alone, exactly as without a head; the
    # head still joins the scores. No growth (min_hidden = max_hidden): the check, which sees
    # the head, then changes nothing.
    check("ncm_separate" in str(raises(ValueError, tinycil.new, N_IN, path=None, ncm_separate=2)), "bad value")
    runs = {}
    for w, sep in ((0.0, 0), (3.0, 1), (3.0, 0)):
        path = ctx["tmp"] + "/sep"
        l = _new(ctx, path, min_hidden=8, ncm_weight=w, ncm_separate=sep)
        for i, c in enumerate(CENTRES[:3]):
            l.learn_class("c%d" % i, _blob(i, 15, c), verbose=False)
        net = l.net
        runs[w, sep] = ([l.B.get(W, r, j) for k, W in enumerate(net.W) for r in range(net.sizes[k + 1])
                         for j in range(net.sizes[k])], l.scores(_blob(9, 1, CENTRES[2])[0]))
        if sep:
            m = tinycil.load(path, verbose=False, backend=ctx["backend"])
            check(m.hp["ncm_separate"] == 1 and m.net.ncm_separate, "ncm_separate not saved")
        rmtree(path)
    check(runs[3.0, 1][0] == runs[0.0, 0][0], "a separate head changed the trained weights")
    check(runs[3.0, 1][1] != runs[0.0, 0][1], "a separate head is not in the scores")
    check(runs[3.0, 0][0] != runs[0.0, 0][0], "a head trained with the network left the weights alone")


def test_a_learner_can_start_from_the_nearest_mean_head_alone(ctx):
    # min_hidden 0 (FORMAT.md 4): no hidden unit until a check misses its target; the width-0
    # learner predicts from its head and biases, is saved and loaded at width 0, and grows from 0
    check("min_hidden" in str(raises(ValueError, tinycil.new, N_IN, path=None, min_hidden=-1)), "negative")
    path = ctx["tmp"] + "/zero"
    l = _new(ctx, path, min_hidden=0, ncm_weight=1.0, target=0.5)
    for i, c in enumerate(CENTRES[:3]):
        rep = l.learn_class("c%d" % i, _blob(i, 15, c), verbose=False)
        check(rep["hidden"] == [0] and not rep["grew"], "c%d: report %r" % (i, rep))
    check(l.net.flops() == 2 * N_IN * 3, "width-0 FLOPs %d (the head alone)" % l.net.flops())
    hits = sum(1 for i, c in enumerate(CENTRES[:3]) for x in _blob(300 + i, 10, c) if l.predict(x) == "c%d" % i)
    check(hits >= 27, "%d/30 from the head alone" % hits)
    m = tinycil.load(path, verbose=False, backend=ctx["backend"])
    check(m.net.sizes == [N_IN, 0, 3] and m.min_hidden == 0, "loaded sizes %r" % m.net.sizes)
    seq = iter([0.4, 0.6])  # a scripted check (FORMAT.md 7.6): the first misses, the widened one meets
    m.check = lambda v0, n_val, n_train: next(seq)
    rep = m.learn_class("c3", _blob(3, 15, CENTRES[3]), verbose=False)
    check(rep["hidden_before"] == 0 and rep["hidden"] == [2] and rep["grew"], "growth from 0: %r" % rep)
    check(tinycil.load(path, verbose=False, backend=ctx["backend"]).net.sizes == [N_IN, 2, 4], "saved widened")
    rmtree(path)


def test_a_failed_learn_before_the_first_save_leaves_the_learner_intact(ctx):
    # from_state with a folder that holds no file yet: the undo copy is kept in RAM
    from tinycil import store
    src = _new(ctx, ctx["tmp"] + "/saved")
    for i, c in enumerate(CENTRES[:2]):
        src.learn_class("c%d" % i, _blob(i, 15, c), verbose=False)
    path = ctx["tmp"] + "/unsaved"
    rmtree(path)
    l = tinycil.from_state(store.load_state(src.path, log=None), path=path, backend=ctx["backend"])
    x = _blob(50, 1, CENTRES[1])[0]
    before = l.scores(x)

    def broken(v0, n_val, n_train):
        raise RuntimeError("check failed")
    l.check = broken
    e = raises(RuntimeError, l.learn_class, "c2", _blob(2, 15, CENTRES[2]), verbose=False)
    check("check failed" in str(e), "the cause: %s" % e)
    check(l.classes == ["c0", "c1"] and l.scores(x) == before, "restored: %r" % l.classes)
    check(not store.exists(store.join(path, store.FILE)), "nothing was saved")
    rmtree(src.path)


def test_load_sizes_the_workspace_for_max_samples(ctx):
    # a board that learns from a few samples per call loads with a smaller workspace
    path = ctx["tmp"] + "/maxs"
    l = _new(ctx, path)
    l.learn_class("c0", _blob(0, 15, CENTRES[0]), verbose=False)
    big = tinycil.load(path, verbose=False, backend=ctx["backend"])
    small = tinycil.load(path, verbose=False, backend=ctx["backend"], max_samples=12)
    check(big.max_samples == 64 and small.max_samples == 12, "max_samples %r %r" % (big.max_samples, small.max_samples))
    check(small._ws.X.rows < big._ws.X.rows, "workspace not smaller")
    e = raises(ValueError, small.learn_class, "c1", _blob(1, 15, CENTRES[1]), verbose=False)
    check("max_samples" in str(e) and small.classes == ["c0"], "too many samples: %s" % e)
    small.learn_class("c1", _blob(1, 12, CENTRES[1]), verbose=False)
    check(small.classes == ["c0", "c1"], "learned with 12 samples")
    rmtree(path)


def test_input_scaling_is_learned_from_the_first_call(ctx):
    # FORMAT.md 7.0: no input_scale given: offset = each input's mean over the first call's
    # samples, scale = 1 / their overall standard deviation; saved, and kept from then on
    path = ctx["tmp"] + "/autoscale"
    rmtree(path)
    raw = [[100.0 * v + 500.0 for v in row] for row in _blob(1, 12, CENTRES[0])]  # raw sensor units
    l = tinycil.new(N_IN, path=path, backend=ctx["backend"], max_hidden=8, min_hidden=2, memory_bytes=240,
                    epochs=10, distill_iters=10)
    check(l.scale_pending, "a learner without input_scale learns it")
    e = raises(TypeError, l.learn_class, "a", (r for r in raw), verbose=False)
    check("twice" in str(e) and l.scale_pending and l.classes == [], "a generator on the first call: %s" % e)
    l.learn_class("a", raw, verbose=False)
    n = len(raw)
    mean0 = sum(r[0] for r in raw) / n
    means = [sum(r[j] for r in raw) / n for j in range(N_IN)]
    std = (sum((r[j] - means[j]) ** 2 for r in raw for j in range(N_IN)) / (n * N_IN)) ** 0.5
    check(abs(l.offset[0] - mean0) < 1e-3 * abs(mean0) and abs(l.scale[1] - 1 / std) < 1e-3 / std,
          "offset %r scale %r (want %r, %r)" % (l.offset[0], l.scale[1], mean0, 1 / std))
    check(not l.scale_pending, "the scaling is the learner's after its first call")
    m = tinycil.load(path, backend=ctx["backend"], verbose=False)
    check(not m.scale_pending and m.offset[0] == l.offset[0] and m.scale[0] == l.scale[0], "scaling not saved")
    m.learn_class("b", (r for r in [[100.0 * v + 500.0 for v in row] for row in _blob(2, 12, CENTRES[1])]),
                  verbose=False)  # later calls stream
    hits = sum(1 for x in _blob(9, 10, CENTRES[0]) if m.predict([100.0 * v + 500.0 for v in x]) == "a")
    check(hits >= 9, "raw samples of a after learning: %d/10" % hits)
    rmtree(path)


def test_a_known_label_updates_its_class(ctx):
    # FORMAT.md 7: more samples of a class: its mean becomes the mean of all its samples, its
    # replay share is distilled again from its old distilled rows and the new ones
    path = ctx["tmp"] + "/update"
    l = _new(ctx, path)
    l.learn_class("a", _blob(1, 10, CENTRES[0]), verbose=False)
    l.learn_class("b", _blob(2, 10, CENTRES[1]), verbose=False)
    count0 = l.replay.counts[0]
    rep = l.learn_class("a", _blob(3, 15, CENTRES[2]), verbose=False)  # class a moves towards centre 2
    check(rep["updated"] and l.classes == ["a", "b"] and l.replay.counts[0] == count0 + 12, "report %r" % rep)
    check(l.info()["samples_per_class"][0] == rep["samples_per_class"], "a's share %r" % l.info())
    mean = [0.0] * N_IN
    l.replay.values(l.replay.mean_row(0), mean)
    want = (CENTRES[0][0] * count0 + CENTRES[2][0] * 12) / (count0 + 12)
    check(abs(mean[0] - want) < 0.1, "a's mean %r, want about %r" % (mean[0], want))
    check(sum(1 for x in _blob(20, 10, CENTRES[2]) if l.predict(x) == "a") >= 9, "the new samples' region")
    check(tinycil.load(path, verbose=False).replay.counts[0] == count0 + 12, "the update is saved")
    rmtree(path)


def test_forget_removes_a_class_and_frees_its_budget(ctx):
    path = ctx["tmp"] + "/forget"
    l = _new(ctx, path)
    for i in range(3):
        l.learn_class("c%d" % i, _blob(i, 12, CENTRES[i]), verbose=False)
    used = l.info()["memory_bytes_used"]
    before = file_bytes(path + "/learner.bin")
    check("no class" in str(raises(ValueError, l.forget, "nope")), "unknown label")
    check(file_bytes(path + "/learner.bin") == before, "a refused forget changed the file")
    left = l.forget("c1")
    check(left == ["c0", "c2"] and l.classes == left and l.net.n_classes == 2, "classes %r" % left)
    check(l.info()["memory_bytes_used"] < used and len(l.info()["samples_per_class"]) == 2, "budget %r" % l.info())
    check(all(l.predict(x) == "c2" for x in _blob(30, 5, CENTRES[2])), "c2 lost its index")
    m = tinycil.load(path, verbose=False)
    check(m.classes == ["c0", "c2"] and file_bytes(path + "/learner.bak") == before, "forget not saved atomically")
    m.learn_class("c1", _blob(1, 12, CENTRES[1]), verbose=False)  # a forgotten label can come back
    check(m.classes == ["c0", "c2", "c1"], "relearned %r" % m.classes)
    rmtree(path)


def test_a_check_far_below_the_target_is_reported(ctx):
    # the same samples under two labels: the second cannot be told apart (FORMAT.md 7.5)
    l = _new(ctx, ctx["tmp"] + "/far", target=0.95)
    rows = _blob(1, 15, CENTRES[0])
    check(not l.learn_class("a", rows, verbose=False)["far_below_target"], "a learnable class")
    rep = l.learn_class("b", rows, verbose=False)
    check(rep["far_below_target"] and rep["accuracy"] < 0.95 - 0.25, "report %r" % rep)
    rmtree(ctx["tmp"] + "/far")
