"""Twin of device/tinycil/learner.py: the board's Learner and its learn_class cycle
(FORMAT.md section 7), on the host."""
import numpy as np

from .. import store
from .distill import distill_class
from .net import Net
from .noise import noise_amplitude, noise_table, replay_repeats
from .replay import Replay, sample_bytes
from .rng import Rng
from .samples import check_label, learned_scaling, split_rows, validated
from .state import apply, to_state
from ..limits import FAR_BELOW, HYPER, MAX_SAMPLES

F32 = np.float32

BOARD_MAX_SAMPLES = MAX_SAMPLES   # the device's default max_samples (kept for older callers)


class Learner:
    """The board's Learner, on the host. Same constructor options as the device."""

    def __init__(self, n_inputs, n_features=None, max_hidden=32, min_hidden=8, grow_step=8,
                 max_classes=16, n_layers=1, memory_bytes=6400, target=0.95, path=None, seed=1,
                 input_offset=None, input_scale=None, frontend=None, max_samples=MAX_SAMPLES, **hyper):
        frontend = list(frontend or [])
        if n_features is None:
            n_features = frontend[-1].n_out if frontend else n_inputs
        if not 0 <= min_hidden <= max_hidden:  # 0: the nearest-mean head alone until growth
            raise ValueError("min_hidden must be between 0 and max_hidden")
        if not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        self.hp = {k: hyper.pop(k, v) for k, v in HYPER}
        if self.hp["grow_undo"] not in (0, 1):
            raise ValueError("grow_undo must be 0 (keep a widening that did not raise the check) or 1 (drop it)")
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
        self.calls = 0       # the learn_class calls ncm_var is the mean over
        self._c = 0          # the class the call in progress learns
        # no scaling given and no front-end: the first learn_class learns it (FORMAT.md 7.0)
        self.scale_pending = input_offset is None and input_scale is None and not frontend
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
        self.net.ncm_separate = self.hp["ncm_separate"] == 1
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
        """Learn a class from MIN_SAMPLES..max_samples samples (rows of n_inputs numbers): a new
        one, or more samples of one the learner knows (FORMAT.md 7)."""
        log = (lambda s: print("tinycil:", s)) if verbose else (lambda s: None)
        check_label(label)
        if target is None:
            target = self.target
        elif not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        update = label in self.classes
        C = len(self.classes) + (0 if update else 1)
        if C > self.net.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.net.caps[-1])
        quota = self.replay.quota(C)
        if quota < 1:
            raise ValueError("memory_bytes=%d holds %d samples: not one per class for %d classes"
                             % (self.replay.budget, self.replay.capacity, C))
        snapshot = self._snapshot()
        if self.scale_pending:   # FORMAT.md 7.0: the first call's samples set the input scaling
            self.offset, self.scale = learned_scaling(samples, self.n_inputs)
        try:
            X, n_train = self.split(samples)
        except BaseException:
            self._restore(snapshot)
            raise
        if seed is not None:
            self.rng = Rng(seed)
        lr0 = self.hp["lr"]
        for attempt in range(2):
            try:
                report = self._cycle(label, update, X, n_train, quota, float(target), log)
                report["lr_halved"] = attempt == 1
                return report
            except ArithmeticError as e:
                self._restore(snapshot)
                if self.scale_pending:  # the retry starts from the scaling the call learned
                    self.offset, self.scale = learned_scaling(samples, self.n_inputs)
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

    def forget(self, label):
        """Remove a class: its mean, replay samples and output unit (FORMAT.md 7.9)."""
        from .forget import forget
        return forget(self, label)

    # ---- the cycle (FORMAT.md 7) ----
    def _cycle(self, label, update, X, n_train, quota, target, log):
        n = len(X)
        c = self._c = self.classes.index(label) if update else len(self.classes)
        hidden_before = self.net.hidden[0]
        T = X[:n_train]
        # 2. distil, 3. make room (an update distils its old distilled rows with the new ones)
        k, d_first, d_last = self.store_class(label, T, quota, update)
        log("distil %r: %d samples -> mean + %d synthetic, matching loss %.4f -> %.4f"
            % (label, n_train, k, d_first, d_last))
        # 4. train, 5. check, 6. grow
        check_rows = X[n_train:] if n > n_train else T
        loss = self.train(T, log)
        acc = self.check(check_rows)
        log("check: accuracy %.3f (target %.3f)" % (acc, target))
        acc, loss, stalled = self.grow(acc, loss, target, lambda: self.train(T, log, True),
                                       lambda: self.check(check_rows), log)
        far = acc < target - FAR_BELOW
        if far:
            log("warning: the check ended at %.3f, far below the target %.3f: the class is not learned" % (acc, target))
        # 7. held-out rows fill what the quota leaves, after the distilled ones, as stored
        kept = min(quota - 1 - k, n - n_train)
        if kept > 0:
            self.replay.add_rows(c, self._Xq[0][n_train:n_train + kept], self._Xq[1][n_train:n_train + kept])
        # 8. save
        size = self.save() if self.path is not None else 0
        return {
            "label": label, "updated": update, "accuracy": acc, "target": target, "met_target": acc >= target,
            "far_below_target": far, "hidden_before": hidden_before, "hidden": list(self.net.hidden),
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
        F = validated(self, samples)
        n = len(F)
        train, val = split_rows(n, self.hp["val_every"])
        scale, q = store.quantize_rows(F[train + val])
        self._Xq = (scale, q)
        return store.dequantize_rows(scale, q), len(train)

    def store_class(self, label, T, quota, update=False):
        """2-3. A class from its training rows T: distilled into quota - 1 rows beside its mean
        (an update: T and its old distilled rows; its mean the mean of both means' samples), room
        made, an output unit added for a new class. Returns (distilled rows, first and last
        matching loss)."""
        if update:
            c = self.classes.index(label)
            old = self.replay.values()[self.replay.cls == c]
            T_all = np.concatenate([T, old]).astype(F32)
        else:
            c, T_all = len(self.classes), T
        k = min(quota - 1, len(T_all))
        S, first, last = self.distil(T_all, k)
        self._make_room(label, c, update, T, quota, S)
        return k, first, last

    def distil(self, T, k):
        """2. Herding picks k of the training rows T, distribution matching refines them."""
        return distill_class(T, k, self.rng, self.hp)

    def _make_room(self, label, c, update, T, quota, S):
        """3. Every class keeps its mean and quota - 1 replay samples; the class's mean and its
        distilled rows join; a new class gets an output unit; the nearest-mean head follows."""
        mean, var = mean_and_var(T)
        self._var_new = var
        rp = self.replay
        if update:
            rp.drop_rows(c)
            n_old = int(rp.counts[c])
            tot = n_old + len(T)
            old = rp.mean_values()[c].astype(np.float64)
            mean = ((old * n_old + mean.astype(np.float64) * len(T)) / tot).astype(F32)
            rp.set_mean(c, mean, tot)
        else:
            rp.shrink_to(quota)
            rp.set_mean(c, mean, len(T))
        rp.add(c, S)
        if not update:
            self.net.add_class(self.rng)
            self.classes.append(label)
        self.scale_pending = False
        self.calls += 1
        self.ncm_var = float(F32(self.ncm_var + (var - self.ncm_var) / self.calls))
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
        """5. min(the learned class's accuracy on new_rows, the other classes' balanced accuracy on
        their means and replay samples). The minimum keeps a poorly learned class from hiding
        behind many well-kept others."""
        c = self._c
        new = float((self.net.predict(new_rows) == c).mean()) if len(new_rows) else 1.0
        others = [i for i in range(len(self.classes)) if i != c]
        if not others:
            return new
        old_rows = self.replay.cls != c
        X = np.concatenate([self.replay.mean_values()[others], self.replay.values()[old_rows]])
        y = np.concatenate([np.array(others, np.int64), self.replay.cls[old_rows].astype(np.int64)])
        return min(new, balanced_accuracy(self.net.predict(X), y))

    def grow(self, acc, loss, target, retrain, recheck, log):
        """6. Widen, retrain(), recheck() while the target is missed and width is left; a widening
        that does not raise the check ends growth (with grow_undo its units are dropped again and
        the narrower net rechecked, FORMAT.md 7.6). Returns (accuracy, loss, stalled).
        learn_class retrains on the replay set and the new rows; prepare's size search on the base
        classes' rows, checked on their validation split."""
        while acc < target and self.net.hidden[0] < self.max_hidden:
            narrower = self.net.hidden[0]
            w = min(narrower + self.grow_step, self.max_hidden)
            log("grow: hidden %d -> %d" % (narrower, w))
            self.net.set_hidden(w, self.rng)
            loss = retrain()
            before, acc = acc, recheck()
            log("check: accuracy %.3f (target %.3f)" % (acc, target))
            if acc <= before:
                log("grow: the widening did not raise the check; growth stops")
                if self.hp["grow_undo"]:
                    self.net.narrow(narrower)
                    acc = recheck()
                    log("grow: its units dropped, hidden %d; check %.3f" % (narrower, acc))
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
            y.append(np.full(len(T), self._c))
        X = np.concatenate(X).astype(F32)
        y = np.concatenate(y)
        rows = np.bincount(y, minlength=C)
        return X, y, 1.0 / rows[y], noise

    # ---- state ----
    def state(self):
        """The plain state dict of tinycil_host.store (what the file holds)."""
        return to_state(self)

    @classmethod
    def from_state(cls, st, path=None, max_samples=MAX_SAMPLES):
        hyper = dict(st["hyper"])
        lrn = cls(st["n_inputs"], n_features=st["n_features"], max_hidden=st["max_hidden"],
                  min_hidden=st["min_hidden"], grow_step=st["grow_step"], max_classes=st["max_classes"],
                  n_layers=st["n_layers"], memory_bytes=st["memory_bytes"], target=st["target"],
                  path=path, input_offset=st["offset"], input_scale=st["scale"],
                  frontend=st["frontend"], max_samples=max_samples, **hyper)
        apply(lrn, st)
        return lrn

    def _snapshot(self):
        return self.state()

    def _restore(self, st):
        apply(self, st)

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
