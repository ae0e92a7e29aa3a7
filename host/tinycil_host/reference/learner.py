"""Twin of device/tinycil/learner.py: the board's Learner and its learn_class cycle
(FORMAT.md section 7), on the host."""
import copy

import numpy as np

from .. import store
from .distill import distill_class
from .net import Net
from .noise import noise_amplitude, noise_table, replay_repeats
from .replay import Replay, sample_bytes
from .rng import Rng

F32 = np.float32
from ..limits import HYPER, MAX_ABS, MAX_LABEL_BYTES, MAX_SAMPLES, MIN_SAMPLES  # noqa: E402

BOARD_MAX_SAMPLES = MAX_SAMPLES   # the device's default max_samples (kept for older callers)


def train_rows(n, val_every):
    """Training rows of a call with n samples (FORMAT.md 7.1): every val_every-th is held out
    once there are at least two of them."""
    return n - n // val_every if val_every > 1 and n >= 2 * val_every else n


def split_rows(n, val_every):
    """(training, held-out) row indices of a call with n samples (FORMAT.md 7.1)."""
    if train_rows(n, val_every) == n:
        return list(range(n)), []
    return ([i for i in range(n) if i % val_every != val_every - 1],
            [i for i in range(n) if i % val_every == val_every - 1])


class Learner:
    """The board's Learner, on the host. Same constructor options as the device."""

    def __init__(self, n_inputs, n_features=None, max_hidden=32, min_hidden=8, grow_step=8,
                 max_classes=16, n_layers=1, memory_bytes=6400, target=0.95, path=None, seed=1,
                 input_offset=None, input_scale=None, frontend=None, max_samples=MAX_SAMPLES, **hyper):
        frontend = list(frontend or [])
        if n_features is None:
            n_features = frontend[-1].n_out if frontend else n_inputs
        if not 1 <= min_hidden <= max_hidden:
            raise ValueError("min_hidden must be between 1 and max_hidden")
        if not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        self.hp = {k: hyper.pop(k, v) for k, v in HYPER}
        for k, v in HYPER:
            if isinstance(v, float):  # float32, as the file stores them (and the board holds them)
                self.hp[k] = float(F32(self.hp[k]))
        if hyper:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(hyper)))
        self.n_inputs = n_inputs
        self.n_features = n_features
        self.max_hidden = max_hidden
        self.min_hidden = min_hidden
        self.grow_step = grow_step
        self.target = float(target)
        self.path = path
        self.rng = Rng(seed)
        self.classes = []
        self.max_samples = max_samples
        self.ncm_var = 0.0   # pooled within-class variance of the features (FORMAT.md 4)
        self.offset = _vector(input_offset, 0.0, n_inputs)
        self.scale = _vector(input_scale, 1.0, n_inputs)
        self.frontend = frontend
        prev = n_inputs
        for f in frontend:
            if f.n_in != prev:
                raise ValueError("front-end layer takes %d inputs, previous gives %d" % (f.n_in, prev))
            prev = f.n_out
        if prev != n_features:
            raise ValueError("front-end gives %d features, network takes %d" % (prev, n_features))
        self.net = Net(n_features, max_hidden, max_classes, n_layers, self.hp["batch"])
        self.net.set_hidden(min_hidden, self.rng)
        self.replay = Replay(n_features, memory_bytes, self.hp["max_per_class"])
        if self.replay.capacity < 1:
            raise ValueError("memory_bytes=%d cannot hold one sample of %d bytes"
                             % (memory_bytes, sample_bytes(n_features)))

    # ---- what the network sees ----
    def scaled(self, X):
        """(X - offset) * scale in float32."""
        X = np.asarray(X, dtype=F32)
        return (X - self.offset) * self.scale

    def features(self, X):
        """Input scaling, then the frozen front-end: the rows the trainable net sees."""
        h = self.scaled(np.atleast_2d(X))
        for f in self.frontend:
            h = f(h)
        return h.astype(F32)

    def frontend_flops(self):
        return sum(2 * f.n_in * f.n_out for f in self.frontend)

    # ---- public API (as on the board) ----
    def scores_batch(self, X):
        if not self.classes:
            raise ValueError("no classes learned yet")
        Z = self.net.forward(self.features(X))
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        return P / P.sum(axis=1, keepdims=True)

    def scores(self, x):
        return self.scores_batch(np.asarray(x, dtype=F32)[None, :])[0]

    def predict_batch(self, X):
        if not self.classes:
            raise ValueError("no classes learned yet")
        return self.net.predict(self.features(X))

    def predict(self, x):
        return self.classes[int(self.predict_batch(np.asarray(x, dtype=F32)[None, :])[0])]

    def info(self):
        return {
            "n_inputs": self.n_inputs, "n_features": self.n_features,
            "hidden": list(self.net.hidden), "max_hidden": self.max_hidden,
            "classes": list(self.classes), "max_classes": self.net.caps[-1],
            "params": self.net.params(), "flops_per_inference": self.net.flops() + self.frontend_flops(),
            "memory_bytes_used": self.replay.bytes_used(), "memory_bytes_budget": self.replay.budget,
            "samples_per_class": [self.replay.count(c) for c in range(len(self.classes))],
            "target": self.target, "backend": "numpy", "path": self.path,
        }

    def learn_class(self, label, samples, target=None, verbose=False, seed=None):
        """Learn a new class from MIN_SAMPLES..max_samples samples (rows of n_inputs numbers)."""
        log = (lambda s: print("tinycil:", s)) if verbose else (lambda s: None)
        self._check_label(label)
        if target is None:
            target = self.target
        elif not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        if len(self.classes) >= self.net.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.net.caps[-1])
        quota = self.replay.quota(len(self.classes) + 1)
        if quota < 1:
            raise ValueError("memory_bytes=%d holds %d samples: not one per class for %d classes"
                             % (self.replay.budget, self.replay.capacity, len(self.classes) + 1))
        X, n_train = self.split(samples)
        if seed is not None:
            self.rng = Rng(seed)
        snapshot = self._snapshot()
        lr0 = self.hp["lr"]
        for attempt in range(2):
            try:
                report = self._cycle(label, X, n_train, quota, float(target), log)
                report["lr_halved"] = attempt == 1
                return report
            except ArithmeticError as e:
                self._restore(snapshot)
                if attempt:
                    self.hp["lr"] = lr0
                    raise ValueError("learn_class failed: %s; check the samples' scale (input_scale); the "
                                     "previous learner is intact" % e)
                # FORMAT.md 7: one retry from the state before the call at half the learning
                # rate, which the learner keeps
                self.hp["lr"] = self.hp["lr"] / 2
                log("%s: retrying at lr %g" % (e, self.hp["lr"]))
                if seed is not None:
                    self.rng = Rng(seed)
            except BaseException:
                self._restore(snapshot)
                raise

    # ---- the cycle (FORMAT.md 7) ----
    def _cycle(self, label, X, n_train, quota, target, log):
        n = len(X)
        c = len(self.classes)
        hidden_before = self.net.hidden[0]
        T = X[:n_train]
        # 2. distil, 3. make room
        k, d_first, d_last = self.store_class(label, T, quota)
        log("distil %r: %d samples -> mean + %d synthetic, matching loss %.4f -> %.4f"
            % (label, n_train, k, d_first, d_last))
        # 4. train, 5. check, 6. grow
        check_rows = X[n_train:] if n > n_train else T
        loss = self.train(T, log)
        acc = self.check(check_rows)
        log("check: accuracy %.3f (target %.3f)" % (acc, target))
        acc, loss, stalled = self.grow(acc, loss, target, lambda: self.train(T, log, True),
                                       lambda: self.check(check_rows), log)
        # 7. held-out rows fill what the quota leaves, after the distilled ones, as stored
        kept = min(quota - 1 - k, n - n_train)
        if kept > 0:
            self.replay.add_rows(c, self._Xq[0][n_train:n_train + kept], self._Xq[1][n_train:n_train + kept])
        # 8. save
        size = self.save() if self.path is not None else 0
        return {
            "label": label, "accuracy": acc, "target": target, "met_target": acc >= target,
            "hidden_before": hidden_before, "hidden": list(self.net.hidden),
            "grew": self.net.hidden[0] > hidden_before, "growth_stalled": stalled, "train_loss": loss,
            "distill_loss": (d_first, d_last), "samples": n, "validation_samples": n - n_train,
            "synthetic_samples": k, "held_out_kept": kept, "samples_per_class": quota,
            "flops_per_inference": self.net.flops() + self.frontend_flops(), "params": self.net.params(),
            "memory_bytes_used": self.replay.bytes_used(), "file_bytes": size,
        }

    def split(self, samples):
        """1. The samples checked, scaled, through the front-end and quantized (int8 rule, as the
        board stores them); training rows first, then the held-out ones, each in sample order.
        Returns (X float32 (dequantized), n_train)."""
        F = self._validated(samples)
        n = len(F)
        train, val = split_rows(n, self.hp["val_every"])
        scale, q = store.quantize_rows(F[train + val])
        self._Xq = (scale, q)
        return store.dequantize_rows(scale, q), len(train)

    def store_class(self, label, T, quota):
        """2-3. A new class from its training rows T: distilled into quota - 1 rows beside its mean,
        room made, an output unit added. Returns (distilled rows, first and last matching loss)."""
        k = min(quota - 1, len(T))
        S, first, last = self.distil(T, k)
        self._make_room(label, T, quota, S)
        return k, first, last

    def distil(self, T, k):
        """2. Herding picks k of the training rows T, distribution matching refines them."""
        return distill_class(T, k, self.rng, self.hp)

    def _make_room(self, label, T, quota, S):
        """3. Every class keeps its mean and quota - 1 replay samples; the new class's mean and its
        distilled rows join; a new output unit; the nearest-mean head follows."""
        c = len(self.classes)
        self.replay.shrink_to(quota)
        mean, var = mean_and_var(T)
        self._var_new = var
        self.replay.set_mean(c, mean, len(T))
        self.replay.add(c, S)
        self.net.add_class(self.rng)
        self.classes.append(label)
        self.ncm_var = float(F32(self.ncm_var + (var - self.ncm_var) / (c + 1)))
        self._ncm_update()

    def train(self, T, log, refit=False):
        """4. Train on every class's mean and replay samples and the new real rows T; a refit
        after a widening runs half the epochs, rounded up (FORMAT.md 7.6)."""
        Xt, yt, wt, noise = self._training_rows(T)
        stored = len(Xt) - (len(T) if self.hp["train_on_real"] else 0)
        epochs = (self.hp["epochs"] + 1) // 2 if refit else self.hp["epochs"]
        every = max(1, epochs // 4)

        def progress(e, total, loss):
            if e % every == 0 or e == total:
                log("train: epoch %d/%d loss %.4f (hidden %d)" % (e, total, loss, self.net.hidden[0]))
        return self.net.fit(Xt, yt, wt, epochs, self.hp["lr"], self.hp["momentum"], self.rng, progress, noise,
                            stored)

    def check(self, new_rows):
        """5. min(new class's accuracy on new_rows, older classes' balanced accuracy on their means
        and replay samples). The minimum keeps a poorly learned new class from hiding behind
        many well-kept old ones."""
        c = len(self.classes) - 1
        new = float((self.net.predict(new_rows) == c).mean()) if len(new_rows) else 1.0
        if c == 0:
            return new
        old_rows = self.replay.cls != c
        X = np.concatenate([self.replay.mean_values()[:c], self.replay.values()[old_rows]])
        y = np.concatenate([np.arange(c), self.replay.cls[old_rows].astype(np.int64)])
        return min(new, balanced_accuracy(self.net.predict(X), y))

    def grow(self, acc, loss, target, retrain, recheck, log):
        """6. Widen, retrain(), recheck() while the target is missed and width is left; a widening
        that does not raise the check ends growth (it is kept). Returns (accuracy, loss, stalled).
        learn_class retrains on the replay set and the new rows; prepare's size search on the base
        classes' rows, checked on their validation split."""
        while acc < target and self.net.hidden[0] < self.max_hidden:
            w = min(self.net.hidden[0] + self.grow_step, self.max_hidden)
            log("grow: hidden %d -> %d" % (self.net.hidden[0], w))
            self.net.set_hidden(w, self.rng)
            loss = retrain()
            before, acc = acc, recheck()
            log("check: accuracy %.3f (target %.3f)" % (acc, target))
            if acc <= before:
                log("grow: the widening did not raise the check; growth stops")
                return acc, loss, True
        return acc, loss, False

    def _ncm_update(self):
        """The nearest-mean head: logits a_c (q_c . x) + b_c = beta (2 mu_c . x - |mu_c|^2),
        beta = ncm_weight / (2 ncm_var), mu_c = q_c * s_c the stored mean (FORMAT.md 4)."""
        w = self.hp["ncm_weight"]
        if not w or not self.classes or self.ncm_var <= 0.0:
            self.net.ncm = None
            return
        beta = w / (2.0 * self.ncm_var)
        m = self.replay.means
        mu = m.values()[:len(self.classes)]
        sq = (mu.astype(np.float64) ** 2).sum(axis=1)
        self.net.ncm = (m.q[:len(self.classes)].astype(F32), (2.0 * beta * m.scale[:len(self.classes)]).astype(F32),
                        (-beta * sq).astype(F32))

    def _training_rows(self, T):
        """Every class's mean, its replay samples (m times over, FORMAT.md 7.4), then the new
        class's real rows T; weights 1/rows of the class; and fit's noise (None without)."""
        hp = self.hp
        C = len(self.classes)
        cls = self.replay.cls.astype(np.int64)
        n_real = len(T) if hp["train_on_real"] else 0
        counts = np.bincount(cls, minlength=C) + 1
        m = replay_repeats(counts, n_real, hp["replay_noise"])
        X = [self.replay.mean_values()[:C], np.tile(self.replay.values(), (m, 1))]
        y = [np.arange(C), np.tile(cls, m)]
        noise = None
        if hp["replay_noise"] > 0:
            a = noise_amplitude(self._var_new, hp["replay_noise"])
            noise = (C + m * self.replay.n, noise_table(self.n_features, self.rng), a)
        if hp["train_on_real"]:
            X.append(T)
            y.append(np.full(len(T), C - 1))
        X = np.concatenate(X).astype(F32)
        y = np.concatenate(y)
        rows = np.bincount(y, minlength=C)
        return X, y, 1.0 / rows[y], noise

    # ---- input checks ----
    def _check_label(self, label):
        if not isinstance(label, str):
            raise TypeError("label must be a str, got %s" % type(label).__name__)
        if not label or len(label.encode("utf-8")) > MAX_LABEL_BYTES:
            raise ValueError("label must be 1 to %d bytes of text" % MAX_LABEL_BYTES)
        if label in self.classes:
            raise ValueError("class %r is already learned; learn_class adds new classes only" % label)

    def _validated(self, samples):
        X = np.asarray(samples, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError("samples must be rows of %d numbers, got shape %s" % (self.n_inputs, X.shape))
        if not MIN_SAMPLES <= len(X) <= self.max_samples:
            raise ValueError("samples: %d given, %d to %d are needed (max_samples)"
                             % (len(X), MIN_SAMPLES, self.max_samples))
        Z = (X - self.offset) * self.scale
        if not np.isfinite(Z).all():
            raise ValueError("samples contain values that are not finite")
        if np.abs(Z).max() > MAX_ABS:
            raise ValueError("samples lie beyond +-%g after input scaling" % MAX_ABS)
        return self.features(X)

    # ---- state ----
    def state(self):
        """The plain state dict of tinycil_host.store (what the file holds)."""
        s = self.net.sizes
        st = {
            "n_inputs": self.n_inputs, "n_features": self.n_features, "max_hidden": self.max_hidden,
            "min_hidden": self.min_hidden, "grow_step": self.grow_step, "max_classes": self.net.caps[-1],
            "n_layers": len(s) - 2, "hidden": s[1], "memory_bytes": self.replay.budget,
            "target": self.target, "rng_state": self.rng.state, "flags": 0, "ncm_var": self.ncm_var,
            "hyper": dict(self.hp), "classes": list(self.classes),
            "offset": self.offset.copy(), "scale": self.scale.copy(), "frontend": list(self.frontend),
            "dense": [(W.copy(), b.copy()) for W, b in zip(self.net.W, self.net.b)],
            "replay": copy.deepcopy(self.replay.samples),
            "means": copy.deepcopy(self.replay.means), "counts": self.replay.counts.copy(),
        }
        return st

    @classmethod
    def from_state(cls, st, path=None, max_samples=MAX_SAMPLES):
        hyper = dict(st["hyper"])
        lrn = cls(st["n_inputs"], n_features=st["n_features"], max_hidden=st["max_hidden"],
                  min_hidden=st["min_hidden"], grow_step=st["grow_step"], max_classes=st["max_classes"],
                  n_layers=st["n_layers"], memory_bytes=st["memory_bytes"], target=st["target"],
                  path=path, input_offset=st["offset"], input_scale=st["scale"],
                  frontend=st["frontend"], max_samples=max_samples, **hyper)
        lrn._apply(st)
        return lrn

    def _apply(self, st):
        net = self.net
        net.sizes = [self.n_features] + [st["hidden"]] * st["n_layers"] + [len(st["classes"])]
        if st["hidden"] > self.max_hidden or len(st["classes"]) > net.caps[-1]:
            raise store.FormatError("file exceeds the learner's capacity")
        net.W = [np.array(W, dtype=F32) for W, _ in st["dense"]]
        net.b = [np.array(b, dtype=F32) for _, b in st["dense"]]
        net.reset_momentum()
        self.classes = list(st["classes"])
        rp = st["replay"]
        if len(rp.cls) > self.replay.capacity:
            raise store.FormatError("replay set larger than its budget")
        self.replay.samples = copy.deepcopy(rp)
        self.replay.means = copy.deepcopy(st["means"])
        self.replay.counts = np.array(st["counts"], np.uint32)
        self.ncm_var = float(st["ncm_var"])
        self.rng.state = st["rng_state"] or 1
        self._ncm_update()

    def _snapshot(self):
        return self.state()

    def _restore(self, st):
        self._apply(st)

    def to_bytes(self, weights="f32"):
        return store.encode(self.state(), _encoding(weights))

    def save(self, path=None, weights="f32"):
        """Write atomically to folder `path` (default: its own). Returns bytes written."""
        path = path or self.path
        if path is None:
            raise ValueError("no path: pass save(path=...) or create the learner with path=")
        return store.save(path, self.state(), _encoding(weights))

    @classmethod
    def load(cls, path):
        """A learner from a folder (learner.bin, else learner.bak) or a single file."""
        return cls.from_state(store.read(path))


def balanced_accuracy(pred, y):
    """Mean over the classes present in y of the fraction of their rows predicted right."""
    pred = np.asarray(pred)
    y = np.asarray(y)
    per = [float((pred[y == c] == c).mean()) for c in np.unique(y)]
    return sum(per) / len(per)


def _encoding(weights):
    if weights not in ("f32", "int8"):
        raise ValueError("weights must be 'f32' or 'int8'")
    return store.ENC_INT8 if weights == "int8" else store.ENC_F32


def _vector(v, default, n):
    if v is None:
        return np.full(n, default, dtype=F32)
    a = np.broadcast_to(np.asarray(v, dtype=F32), (n,)) if np.ndim(v) == 0 else np.asarray(v, dtype=F32)
    if a.shape != (n,):
        raise ValueError("needs %d values, got %d" % (n, a.size))
    return a.astype(F32).copy()


def mean_and_var(T):
    """The rows' mean (float64 sums, rounded to float32) and their mean per-feature variance:
    sum of squares / (n nf) - sum of the rounded means' squares / nf (FORMAT.md 4)."""
    T64 = np.asarray(T, dtype=F32).astype(np.float64)
    n, nf = T64.shape
    mean = (T64.sum(axis=0) / n).astype(F32)
    var = float((T64 ** 2).sum()) / (n * nf) - float((mean.astype(np.float64) ** 2).sum()) / nf
    return mean, max(0.0, var)
