"""The methods `tinycil bench` compares, behind one small interface.

Every method sees the same stream: `start(base)` with the two base classes (prepared on the
host), then `learn(c, X)` once per new class with that class's raw samples, and `predict(X)`
on raw test rows. All of them work in the same feature space (the prepared learner's input
scaling and frozen front-end) and store replay samples the same way the board does: int8
values plus one float32 scale per sample (FORMAT.md "int8 quantization"), so "equal bytes"
means an equal number of stored samples.

- `LearnerMethod`: the NumPy reference learner (`reference.Learner`) driven through
  `learn_class`: ours (distilled replay + growth), fixed (min_hidden = max_hidden),
  herding exemplars (distill_iters = 0: FORMAT.md section 5 starts from herding-chosen real
  samples), random exemplars (`RandomExemplarLearner`, below).
- `NaiveMethod`: the reference network fine-tuned on each new class alone (no replay).
- `JointMethod`: the reference network trained on every real training sample seen so far.
- `KNNMethod`, `NCMMethod`: k-nearest-neighbour / nearest-class-mean over stored samples at
  the same bytes: what a board runs today without training (emlearn-micropython's kNN).

FLOPs: 2 per multiply-add (METHOD.md); a distance costs 3 FLOPs per feature (difference,
multiply, add).
"""
import copy

import numpy as np

from ..reference import Learner, mlp_flops, mlp_params, sample_bytes, split_rows
from ..reference import learner as reference_learner
from ..store import Samples, quantize_rows  # the one int8 rule (FORMAT.md), as the board computes it
from .settings import KNN_K, LEARNER_METHODS

F32 = np.float32


def dequantize(scale, q):
    return q.astype(F32) * scale[:, None]


# ---- analytic FLOPs of the learner's work (FORMAT.md sections 4-7) -----------------
def fit_flops(sizes, n_rows, epochs, batch, ncm=False, momentum=False):
    """One `fit`: forward (F, the nearest-mean head's fixed logits included when it trains with the net) + weight
    gradients (F) + input gradients of every layer but the first (F - 2*n0*n1) per row,
    softmax/xent ~5 per output, and the update once per mini-batch (W -= lr G: 2 FLOPs per
    parameter; with momentum V = mu V - lr G; W += V: 4)."""
    F = mlp_flops(sizes)
    per_row = 3 * F - 2 * sizes[0] * sizes[1] + 5 * sizes[-1] + (2 * sizes[0] * sizes[-1] if ncm else 0)
    batches = -(-n_rows // batch) if n_rows else 0
    return epochs * (n_rows * per_row + batches * (4 if momentum else 2) * mlp_params(sizes))


def distill_flops(n_real, k, n_features, embed_dim, iters):
    """Herding (k picks over n rows, 3 FLOPs per feature per candidate) + distribution matching
    (embed real and synthetic rows, backward to the synthetic rows, momentum step)."""
    herd = k * n_real * 3 * n_features + n_real * n_features
    per_iter = 2 * (n_real + k) * n_features * embed_dim + 2 * k * n_features * embed_dim + 4 * k * n_features
    return herd + iters * per_iter


class Method:
    """One benchmarked method. Subclasses fill `train_flops` as they work."""
    name = "?"
    uses_memory = True

    def __init__(self, base):
        self.base = base            # protocol.Base: features(), class ids, budget, hyper
        self.train_flops = 0
        self.classes = []           # data-set class ids, in the order learned

    def start(self):
        raise NotImplementedError

    def learn(self, c, X):
        raise NotImplementedError

    def predict(self, X):
        raise NotImplementedError

    def stats(self):
        """inference FLOPs (trainable part), params, replay bytes, hidden widths."""
        raise NotImplementedError


# ---- classifiers over stored samples ---------------------------------------------
class StoredFeaturesMethod(Method):
    """A method that keeps something per class computed from its front-end features."""

    def _add(self, c, F):
        raise NotImplementedError

    def start(self):
        for c in self.base.base_classes:
            self.learn(c, self.base.base_X[c])

    def learn(self, c, X):
        F = self.base.features(X)
        self.train_flops += self.base.frontend_flops * len(F)
        self._add(c, F)


class KNNMethod(StoredFeaturesMethod):
    """k nearest neighbours over int8 samples in the learner's feature space; every class keeps
    the first `capacity // C` of the samples it was given (a user's samples come in random
    order, so these are random exemplars)."""
    name = "knn"

    def __init__(self, base, k=1):
        super().__init__(base)
        self.k = k
        self.store = {}             # class id -> (scale, q), prefix-shrinkable

    def _quota(self, n_classes):
        return self.base.capacity // n_classes

    def _add(self, c, F):
        q = self._quota(len(self.classes) + 1)
        if q < 1:
            raise ValueError("budget holds %d samples: not one per class" % self.base.capacity)
        for cc in self.store:
            s, qq = self.store[cc]
            self.store[cc] = (s[:q], qq[:q])
        self.store[c] = quantize_rows(F[:q])
        self.classes.append(c)

    def _memory(self):
        S, Y = [], []
        for c in self.classes:
            s, q = self.store[c]
            S.append(dequantize(s, q))
            Y += [c] * len(q)
        return np.concatenate(S), np.array(Y)

    def predict(self, X):
        return knn_predict(self._memory(), self.base.features(X), self.k)

    def predict_all(self, X):
        """Predictions for every k of KNN_K (k is chosen afterwards on validation data)."""
        res = knn_predict_many(self._memory(), self.base.features(X), KNN_K)
        return {str(k): v for k, v in res.items()}

    def n_stored(self):
        return sum(len(self.store[c][1]) for c in self.classes)

    def stats(self):
        n, d = self.n_stored(), self.base.n_features
        return {"inference_flops": 3 * n * d, "params": n * d, "replay_bytes": n * sample_bytes(d),
                "hidden": []}


def knn_predict(memory, F, k):
    return knn_predict_many(memory, F, (k,))[k]


def knn_predict_many(memory, F, ks):
    """{k: predictions} for several k from one distance computation; a tie in the vote goes to
    the tied class whose member is nearest."""
    S, Y = memory
    d2 = (F * F).sum(1)[:, None] - 2 * F @ S.T + (S * S).sum(1)[None, :]
    kmax = min(max(ks), len(Y))
    if kmax < len(Y):
        part = np.argpartition(d2, kmax - 1, axis=1)[:, :kmax]
    else:
        part = np.tile(np.arange(len(Y)), (len(F), 1))
    nn = np.take_along_axis(part, np.argsort(np.take_along_axis(d2, part, 1), axis=1, kind="stable"), 1)
    out = {}
    for k in ks:
        k2 = min(k, len(Y))
        labels = Y[nn[:, :k2]]
        if k2 == 1:
            out[k] = labels[:, 0]
            continue
        classes = np.unique(Y)
        votes = (labels[:, :, None] == classes[None, None, :]).sum(1)          # (n, classes)
        tied = votes == votes.max(1, keepdims=True)
        # first neighbour (nearest first) whose class is among the tied ones
        is_tied = np.take_along_axis(tied, np.searchsorted(classes, labels), 1)
        out[k] = labels[np.arange(len(F)), np.argmax(is_tied, axis=1)]
    return out


class NCMMethod(StoredFeaturesMethod):
    """Nearest class mean: one int8 mean per class over all samples the class was given
    (C samples' bytes, never more than the others' budget)."""
    name = "ncm"

    def __init__(self, base):
        super().__init__(base)
        self.means = {}

    def _add(self, c, F):
        self.train_flops += F.size
        s, q = quantize_rows(F.mean(0, keepdims=True))
        self.means[c] = dequantize(s, q)[0]
        self.classes.append(c)

    def predict(self, X):
        M = np.stack([self.means[c] for c in self.classes])
        F = self.base.features(X)
        d2 = (F * F).sum(1)[:, None] - 2 * F @ M.T + (M * M).sum(1)[None, :]
        return np.array(self.classes)[np.argmin(d2, axis=1)]

    def stats(self):
        n, d = len(self.classes), self.base.n_features
        return {"inference_flops": 3 * n * d, "params": n * d, "replay_bytes": n * sample_bytes(d),
                "hidden": []}


# ---- the reference learner (ours, fixed, herding, random exemplars) --------------------
class RandomExemplarLearner(Learner):
    """The reference learner with its distillation step replaced by a random pick of k of the
    class's training rows (drawn with the learner's own xorshift generator, as a board
    would): random exemplars at exactly the bytes of the distilled set.

    reference.Learner has no selection hook, so `_cycle` swaps the `distill_class` that
    reference/learner.py calls for the duration of the call (single-threaded)."""
    selection = "random"

    @classmethod
    def from_learner(cls, lrn, X_base, y_base):
        """A copy of prepared learner `lrn` whose base-class replay samples are random rows
        of the base classes' training data (y_base: 0..C-1 in lrn.classes order)."""
        obj = cls.from_state(lrn.state())
        quota = obj.replay.quota(len(obj.classes))
        F = obj.features(X_base)
        obj.replay.samples = Samples(np.zeros(0), np.zeros(0), np.zeros((0, obj.n_features)))
        for c in range(len(obj.classes)):
            T = F[np.asarray(y_base) == c]
            idx = list(range(len(T)))
            obj.rng.shuffle(idx)
            obj.replay.add(c, T[idx[:min(quota, len(T))]])
        return obj

    def _cycle(self, *a, **kw):
        saved = reference_learner.distill_class
        reference_learner.distill_class = self._random_pick
        try:
            return super()._cycle(*a, **kw)
        finally:
            reference_learner.distill_class = saved

    @staticmethod
    def _random_pick(T, k, rng, hp, log=None):
        idx = list(range(len(T)))
        rng.shuffle(idx)
        return np.asarray(T, dtype=F32)[idx[:k]].copy(), 0.0, 0.0


class _Counting:
    """Adds the FLOPs of the network's fit/predict calls while `on` is set."""

    def _install(self, net):
        self.on = False
        fit0, pred0 = net.fit, net.predict
        me = self

        def fit(X, labels, weights, epochs, lr, mu, rng, log=None, noise=None, stored=None):
            if me.on:
                me.train_flops += fit_flops(list(net.sizes), len(X), epochs, net.batch,
                                            net.ncm is not None and not net.ncm_separate, mu > 0)
                if noise is not None:  # a multiply-add per value of every noisy row, every epoch
                    me.train_flops += 2 * net.sizes[0] * noise[0] * epochs
            return fit0(X, labels, weights, epochs, lr, mu, rng, log, noise, stored)

        def predict(X):
            if me.on:
                me.train_flops += len(X) * net.flops()
            return pred0(X)
        net.fit = fit
        net.predict = predict


class LearnerMethod(Method, _Counting):
    """ours / fixed / herding / random: a prepared reference learner and its learn_class."""

    def __init__(self, base, variant):
        super().__init__(base)
        self.name = variant
        self.variant = variant
        self.reports = []

    def start(self):
        self.l = copy.deepcopy(self.base.prepared[self.variant])
        self.classes = list(self.base.base_classes)
        self._install(self.l.net)

    def learn(self, c, X):
        l = self.l
        self.on = True
        try:
            r = l.learn_class(self.base.class_names[c], X)
        finally:
            self.on = False
        hp = l.hp
        n_tr = r["samples"] - r["validation_samples"]
        if getattr(l, "selection", None) != "random":
            self.train_flops += distill_flops(n_tr, r["synthetic_samples"], l.n_features, hp["embed_dim"],
                                              hp["distill_iters"])
        self.train_flops += self.base.frontend_flops * len(X)
        self.reports.append({k: r[k] for k in ("accuracy", "met_target", "hidden", "grew", "synthetic_samples")})
        self.classes.append(c)

    def predict(self, X):
        return np.array(self.classes)[self.l.predict_batch(X)]

    def stats(self):
        l = self.l
        return {"inference_flops": l.net.flops(), "params": l.net.params(),
                "replay_bytes": l.replay.bytes_used(), "hidden": list(l.net.hidden),
                "notes": {"target": l.target, "reports": self.reports}}


class NaiveMethod(Method, _Counting):
    """Naive fine-tuning (lower bound): the fixed base network, one new output unit per class,
    trained on the new class's rows only; nothing stored."""
    name = "naive"
    keep_all = False

    def __init__(self, base, hyper):
        super().__init__(base)
        self.hyper = hyper

    def start(self):
        self.l = copy.deepcopy(self.base.prepared["fixed"])
        self.l.net.ncm = None  # it stores nothing, so no class means either
        self.classes = list(self.base.base_classes)
        self.rows = []   # (features, class index) kept by joint training
        if self.keep_all:
            for i, c in enumerate(self.base.base_classes):
                self.rows.append((self.l.features(self.base.base_X[c]), i))
        self._install(self.l.net)

    def learn(self, c, X):
        l = self.l
        hp = l.hp
        F = l.features(np.asarray(X)[split_rows(len(X), hp["val_every"])[0]])
        self.train_flops += self.base.frontend_flops * len(X)
        l.net.add_class(l.rng)
        self.classes.append(c)
        ci = len(self.classes) - 1
        if self.keep_all:
            self.rows.append((F, ci))
            Xt = np.concatenate([f for f, _ in self.rows])
            yt = np.concatenate([np.full(len(f), k) for f, k in self.rows])
        else:
            Xt, yt = F, np.full(len(F), ci)
        counts = np.bincount(yt, minlength=ci + 1)
        self.on = True
        try:
            self._fit(Xt, yt, 1.0 / counts[yt])
        finally:
            self.on = False

    def _fit(self, X, y, w):
        # the board's rule (FORMAT.md 7): a divergence is retried once, from the weights
        # before the fit, at half the learning rate, which is kept
        l = self.l
        hp = l.hp
        keep = copy.deepcopy((l.net.W, l.net.b, l.rng.state))
        try:
            l.net.fit(X, y, w, hp["epochs"], hp["lr"], hp["momentum"], l.rng)
        except ArithmeticError:
            l.net.W, l.net.b, l.rng.state = keep
            hp["lr"] = hp["lr"] / 2
            l.net.fit(X, y, w, hp["epochs"], hp["lr"], hp["momentum"], l.rng)

    def predict(self, X):
        return np.array(self.classes)[self.l.net.predict(self.l.features(X))]

    def stats(self):
        n = sum(len(f) for f, _ in self.rows)
        return {"inference_flops": self.l.net.flops(), "params": self.l.net.params(),
                "replay_bytes": n * self.l.n_features * 4, "hidden": list(self.l.net.hidden)}


class JointMethod(NaiveMethod):
    """Joint training (upper bound): the fixed base network retrained at every step on every
    real training row seen so far (float32 features), class-balanced, same epochs."""
    name = "joint"
    keep_all = True


def make_method(name, base, hyper):
    """The method called `name` (settings.METHODS) on this base."""
    if name in LEARNER_METHODS:
        return LearnerMethod(base, name)
    if name == "knn":
        return KNNMethod(base)
    if name == "ncm":
        return NCMMethod(base)
    if name == "naive":
        return NaiveMethod(base, hyper)
    if name == "joint":
        return JointMethod(base, hyper)
    raise ValueError(name)
