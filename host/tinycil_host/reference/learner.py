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
MIN_SAMPLES = 3
MAX_SAMPLES = 200
BOARD_MAX_SAMPLES = 64   # the device's default max_samples: the samples one learn_class call can take
MAX_ABS = 1000.0
MAX_LABEL_BYTES = 40

# keyword -> default, in the order of the file's HYPR chunk (FORMAT.md, HYPR)
HYPER = (
    ("lr", 0.05), ("momentum", 0.9), ("epochs", 10), ("batch", 16),
    ("distill_iters", 40), ("embed_dim", 32), ("distill_lr", 0.3), ("distill_momentum", 0.5),
    ("val_every", 5), ("train_on_real", 1), ("max_per_class", 10), ("replay_noise", 0.0),
)


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
                 input_offset=None, input_scale=None, frontend=None, **hyper):
        frontend = list(frontend or [])
        if n_features is None:
            n_features = frontend[-1].n_out if frontend else n_inputs
        if not 1 <= min_hidden <= max_hidden:
            raise ValueError("min_hidden must be between 1 and max_hidden")
        if not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        self.hp = {k: hyper.pop(k, v) for k, v in HYPER}
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
        """Learn a new class from 3..200 samples (rows of n_inputs numbers); returns the report."""
        log = (lambda s: print("tinycil:", s)) if verbose else (lambda s: None)
        self._check_label(label)
        if target is None:
            target = self.target
        elif not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        if seed is not None:
            self.rng = Rng(seed)
        if len(self.classes) >= self.net.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.net.caps[-1])
        quota = self.replay.quota(len(self.classes) + 1)
        if quota < 1:
            raise ValueError("memory_bytes=%d holds %d samples: not one per class for %d classes"
                             % (self.replay.budget, self.replay.capacity, len(self.classes) + 1))
        X = self._validated(samples)
        snapshot = self._snapshot()
        lr0 = self.hp["lr"]
        for attempt in range(2):
            try:
                report = self._cycle(label, X, quota, float(target), log)
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
            except BaseException:
                self._restore(snapshot)
                raise

    # ---- the cycle ----
    def _cycle(self, label, X, quota, target, log):
        hp = self.hp
        n = len(X)
        c = len(self.classes)
        train, val = split_rows(n, hp["val_every"])
        check_rows = X[val if val else train]
        hidden_before = self.net.hidden[0]

        # 1. distil
        k = min(quota, len(train))
        S, d_first, d_last = distill_class(X[train], k, self.rng, hp)
        log("distil %r: %d samples -> %d synthetic, matching loss %.4f -> %.4f" % (label, len(train), k, d_first, d_last))
        # 2. make room, store, new output unit
        self.replay.shrink_to(quota)
        self.replay.add(c, S)
        self.net.add_class(self.rng)
        self.classes.append(label)
        # 3. train, 4. check, 5. grow while needed
        Xt, yt, wt, noise = self._training_rows(X[train])
        loss = self._train(Xt, yt, wt, log, noise)
        acc = self._accuracy(check_rows)
        log("check: accuracy %.3f (target %.3f)" % (acc, target))
        stalled = False
        while acc < target and self.net.hidden[0] < self.max_hidden:
            w = min(self.net.hidden[0] + self.grow_step, self.max_hidden)
            log("grow: hidden %d -> %d" % (self.net.hidden[0], w))
            self.net.set_hidden(w, self.rng)
            loss = self._train(Xt, yt, wt, log, noise)
            before, acc = acc, self._accuracy(check_rows)
            log("check: accuracy %.3f (target %.3f)" % (acc, target))
            if acc <= before:  # FORMAT.md 7.6: a widening that does not raise the check ends growth
                log("grow: the widening did not raise the check; growth stops")
                stalled = True
                break
        # FORMAT.md 7.7: held-out rows fill what the quota leaves, after the distilled ones
        kept = min(quota - k, len(val))
        if kept > 0:
            self.replay.add(c, X[val[:kept]])
        size = self.save() if self.path is not None else 0
        return {
            "label": label, "accuracy": acc, "target": target, "met_target": acc >= target,
            "hidden_before": hidden_before, "hidden": list(self.net.hidden),
            "grew": self.net.hidden[0] > hidden_before, "growth_stalled": stalled, "train_loss": loss,
            "distill_loss": (d_first, d_last), "samples": n, "validation_samples": len(val),
            "synthetic_samples": k, "held_out_kept": kept, "samples_per_class": quota,
            "flops_per_inference": self.net.flops() + self.frontend_flops(), "params": self.net.params(),
            "memory_bytes_used": self.replay.bytes_used(), "file_bytes": size,
        }

    def _training_rows(self, X_new):
        """Every replay sample (dequantized), m times over (FORMAT.md 7.4), then the new class's
        real rows; weights 1/class count; and fit's noise (None without replay_noise)."""
        hp = self.hp
        cls = self.replay.cls.astype(np.int64)
        n_real = len(X_new) if hp["train_on_real"] else 0
        m = replay_repeats(np.bincount(cls), n_real, hp["replay_noise"])
        X = [np.tile(self.replay.values(), (m, 1))]
        y = [np.tile(cls, m)]
        noise = None
        if hp["replay_noise"] > 0:
            a = noise_amplitude(X_new, hp["replay_noise"])
            noise = (m * self.replay.n, noise_table(self.n_features, self.rng), a)
        if hp["train_on_real"]:
            X.append(X_new)
            y.append(np.full(len(X_new), len(self.classes) - 1))
        X = np.concatenate(X).astype(F32)
        y = np.concatenate(y)
        counts = np.bincount(y, minlength=len(self.classes))
        return X, y, 1.0 / counts[y], noise

    def _train(self, X, y, w, log, noise=None):
        epochs = self.hp["epochs"]
        every = max(1, epochs // 4)

        def progress(e, total, loss):
            if e % every == 0 or e == total:
                log("train: epoch %d/%d loss %.4f (hidden %d)" % (e, total, loss, self.net.hidden[0]))
        return self.net.fit(X, y, w, epochs, self.hp["lr"], self.hp["momentum"], self.rng, progress, noise)

    def _accuracy(self, new_rows):
        """The check: min(new class's accuracy on new_rows, older classes' balanced accuracy on replay).

        The minimum keeps a poorly learned new class from hiding behind many well-kept old ones.
        """
        c = len(self.classes) - 1
        new = float((self.net.predict(new_rows) == c).mean()) if len(new_rows) else 1.0
        old_rows = self.replay.cls != c
        if not old_rows.any():
            return new
        y = self.replay.cls[old_rows].astype(np.int64)
        old = balanced_accuracy(self.net.predict(self.replay.values()[old_rows]), y)
        return min(new, old)

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
        if not MIN_SAMPLES <= len(X) <= MAX_SAMPLES:
            raise ValueError("samples: %d given, %d to %d are needed" % (len(X), MIN_SAMPLES, MAX_SAMPLES))
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
            "target": self.target, "rng_state": self.rng.state,
            "hyper": dict(self.hp), "classes": list(self.classes),
            "offset": self.offset.copy(), "scale": self.scale.copy(), "frontend": list(self.frontend),
            "dense": [(W.copy(), b.copy()) for W, b in zip(self.net.W, self.net.b)],
            "replay": copy.deepcopy(self.replay.samples),
        }
        return st

    @classmethod
    def from_state(cls, st, path=None):
        hyper = dict(st["hyper"])
        lrn = cls(st["n_inputs"], n_features=st["n_features"], max_hidden=st["max_hidden"],
                  min_hidden=st["min_hidden"], grow_step=st["grow_step"], max_classes=st["max_classes"],
                  n_layers=st["n_layers"], memory_bytes=st["memory_bytes"], target=st["target"],
                  path=path, input_offset=st["offset"], input_scale=st["scale"],
                  frontend=st["frontend"], **hyper)
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
        self.rng.state = st["rng_state"] or 1

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
