# The class-incremental learner: learn_class runs the method's cycle
#   distil -> train -> check -> grow -> save
# as five named steps. A failed call (bad input, divergence, MemoryError) leaves
# the learner and its files exactly as they were.
import gc
from array import array

from . import backend as _backend
from . import store
from .distill import Distiller, herding_order
from .net import Net
from .replay import Replay, sample_bytes
from .rng import Rng

import time

# MicroPython's millisecond ticks; CPython (host-side convenience only) falls back to time()
ticks_ms = getattr(time, "ticks_ms", None) or (lambda: int(time.time() * 1000))
ticks_diff = getattr(time, "ticks_diff", None) or (lambda a, b: a - b)

DEFAULT_PATH = "/tinycil_data"
_OOM_ADVICE = ("learn_class ran out of RAM; shrink max_samples, max_hidden, batch, embed_dim or "
               "memory_bytes, or pass fewer samples; the learner is as it was before the call")
MIN_SAMPLES = 3        # fewer cannot be split into distillation and validation data
MAX_SAMPLES = 64       # default capacity of one learn_class call (option max_samples)
MAX_ABS = 1000.0       # largest feature magnitude accepted after input scaling
MAX_LABEL_BYTES = 40
_INF = float("inf")

# keyword -> default, in the order of the file's HYPR chunk
HYPER = (
    ("lr", 0.05), ("momentum", 0.9), ("epochs", 10), ("batch", 16),
    ("distill_iters", 40), ("embed_dim", 32), ("distill_lr", 0.3), ("distill_momentum", 0.5),
    ("val_every", 5), ("train_on_real", 1), ("max_per_class", 10), ("replay_noise", 0.0),
)


def _free():
    try:
        gc.collect()
        return gc.mem_free()
    except AttributeError:
        return -1


class Learner:
    def __init__(self, n_inputs, n_features=None, max_hidden=32, min_hidden=8, grow_step=8,
                 max_classes=16, n_layers=1, memory_bytes=6400, target=0.95, path: "str | None" = DEFAULT_PATH,
                 backend=None, seed=1, input_offset=None, input_scale=None, frontend=None,
                 max_samples=MAX_SAMPLES, preallocate=True, frontend_file=None, **hyper):
        self.B = _backend.get(backend)
        if n_features is None:
            n_features = frontend[-1][1] if frontend else n_inputs
        _check_int("n_inputs", n_inputs, 1, 4096)
        _check_int("n_features", n_features, 1, 4096)
        _check_int("max_hidden", max_hidden, 1, 1024)
        _check_int("min_hidden", min_hidden, 1, max_hidden)
        _check_int("grow_step", grow_step, 1, 1024)
        _check_int("max_classes", max_classes, 2, 255)
        _check_int("n_layers", n_layers, 1, 4)
        _check_int("memory_bytes", memory_bytes, 1, 1 << 30)
        _check_int("max_samples", max_samples, MIN_SAMPLES, 4096)
        if not isinstance(target, (int, float)) or not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        if path is not None:
            _check_path(path)
        self.hp = {}
        for k, v in HYPER:
            self.hp[k] = hyper.pop(k, v)
        if hyper:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(hyper)))
        rn = self.hp["replay_noise"]
        if not isinstance(rn, (int, float)) or not 0.0 <= rn <= 10.0:
            raise ValueError("replay_noise must be a number from 0 (off) to 10")
        self.n_inputs = n_inputs
        self.n_features = n_features
        self.max_hidden = max_hidden
        self.min_hidden = min_hidden
        self.grow_step = grow_step
        self.target = float(target)
        self.path = path
        self.rng = Rng(seed)
        self.classes = []
        # float32 arrays, not lists: every float in a list is its own heap object
        self.offset = _vector("input_offset", 0.0 if input_offset is None else input_offset, n_inputs)
        self.scale = _vector("input_scale", 1.0 if input_scale is None else input_scale, n_inputs)
        if memory_bytes < sample_bytes(n_features):
            raise ValueError("memory_bytes=%d cannot hold one sample of %d bytes" % (memory_bytes, sample_bytes(n_features)))
        # the replay pool is the one large block: take it while the heap is least fragmented
        self.replay = Replay(n_features, memory_bytes, self.hp["max_per_class"])
        self.net = Net(self.B, n_features, max_hidden, max_classes, n_layers, self.hp["batch"])
        self.max_samples = max_samples
        self._X = None  # learn_class's workspace: see _workspace()
        self._noise = None  # with replay_noise > 0, its noise table (part of the workspace)
        if preallocate:  # beside the net, before anything fragments the heap
            self._workspace()
        self._frontend = None
        widest = 0
        if frontend:
            from .frontend import FrontEnd
            self._frontend = FrontEnd(self.B, frontend, n_inputs, n_features, frontend_file)
            widest = self._frontend.widest()
        # the input row (and every second front-end layer's output), then the other
        # layers' outputs: only the first needs n_inputs (12 KB of floats at 3072 inputs)
        self._x = self.B.zeros(1, max(n_inputs, n_features, widest))
        self._y = self.B.zeros(1, max(n_features, widest))
        # computing only after every long-lived buffer exists: the temporary floats of
        # the initialisation then free up behind them instead of between them
        self.net.set_hidden(min_hidden, self.rng)

    # ---- public API ------------------------------------------------------------
    def learn_class(self, label, samples, target=None, verbose=True, seed=None):
        """Learn a new class from a few samples; returns a report dict (see README)."""
        try:
            return self._learn_class(label, samples, target, verbose, seed)
        except MemoryError as e:
            if "shrink" in str(e):
                raise
            # out of RAM where no message could be built: the constant needs no allocation
            raise MemoryError(_OOM_ADVICE)

    def _learn_class(self, label, samples, target, verbose, seed):
        t0 = ticks_ms()
        log = _printer(verbose)
        self._check_label(label)
        if target is None:
            target = self.target
        elif not isinstance(target, (int, float)) or not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        if len(self.classes) >= self.net.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.net.caps[-1])
        quota = self.replay.quota(len(self.classes) + 1)
        if quota < 1:
            raise ValueError("memory_bytes=%d holds %d samples: not one per class for %d classes"
                             % (self.replay.budget, self.replay.capacity, len(self.classes) + 1))
        X, n, n_train = self._take_samples(samples)  # validates all before any change
        if seed is not None and not isinstance(seed, int):
            raise TypeError("seed must be an int")
        snapshot = None if self.path is not None else self._snapshot()
        report = {}
        attempt = 0
        lr0 = self.hp["lr"]
        while not report:
            if seed is not None:
                self.rng = Rng(seed)  # after validation: a refused call leaves the generator alone
            try:
                report = self._cycle(label, X, n, n_train, quota, float(target), log)
            except MemoryError as e:
                X = None
                self._restore(snapshot, e)
                raise MemoryError("learn_class ran out of RAM (%d bytes free after cleanup); shrink max_hidden, "
                                  "batch, embed_dim, memory_bytes or pass fewer samples; the previous learner "
                                  "is intact" % _free())
            except ArithmeticError as e:
                X = None
                self._restore(snapshot, e)
                if attempt:
                    self.hp["lr"] = lr0
                    raise ValueError("learn_class failed: %s; check the samples' scale (input_scale); the "
                                     "previous learner is intact" % e)
                # FORMAT.md 7: one retry from the restored learner at half the learning rate,
                # which the learner keeps (a rate that diverged once is likely to again)
                X, n, n_train = self._take_samples(samples)  # _restore dropped the workspace
                self.hp["lr"] = self.hp["lr"] / 2
                log("%s: retrying at lr %g" % (e, self.hp["lr"]))
                attempt = 1
            except BaseException as e:
                X = None
                self._restore(snapshot, e)
                raise
        report["lr_halved"] = attempt == 1
        report["seconds"] = ticks_diff(ticks_ms(), t0) / 1000.0
        return report

    def predict(self, x):
        s = self.scores(x)
        best = 0
        for i in range(1, len(s)):
            if s[i] > s[best]:
                best = i
        return self.classes[best]

    def scores(self, x):
        """Class probabilities for one sample, in the order of self.classes."""
        if not self.classes:
            raise ValueError("no classes learned yet")
        self._feature_row(x, "x", self.net.Xb, 0)
        B = self.B
        Z = self.net.forward(self.net.Xb, 1)
        B.softmax_rows(Z, 1, self.net.n_classes)
        return B.row(Z, 0, self.net.n_classes)

    def info(self):
        return {
            "n_inputs": self.n_inputs, "n_features": self.n_features,
            "hidden": list(self.net.hidden), "max_hidden": self.max_hidden,
            "classes": list(self.classes), "max_classes": self.net.caps[-1],
            "params": self.net.params(), "flops_per_inference": self.net.flops() + self._frontend_flops(),
            "memory_bytes_used": self.replay.bytes_used(), "memory_bytes_budget": self.replay.budget,
            "samples_per_class": [self.replay.count(c) for c in range(len(self.classes))],
            "target": self.target, "backend": self.B.NAME, "path": self.path,
            "frontend_weights": ("none" if self._frontend is None else
                                 "file" if self._frontend.streamed() else "ram"),
        }

    def save(self, path=None, weights="f32"):
        """Write the learner atomically to folder `path` (default: its own). Returns bytes written."""
        if path is None:
            path = self.path
        if path is None:
            raise ValueError("no path: pass save(path=...) or create the learner with path=")
        _check_path(path)
        if weights not in ("f32", "int8"):
            raise ValueError("weights must be 'f32' or 'int8'")
        enc = store.ENC_INT8 if weights == "int8" else store.ENC_F32
        st = self._state()
        fe = self._frontend
        size = store.write(path, st, enc, release=fe.close if fe is not None else None)
        if fe is not None and "frontend_at" in st and _folder(store.join(path, store.FILE)) == _folder(fe.file or ""):
            # the front-end's file was replaced: its weights are now in the new learner.bin
            fe.point(store.join(path, store.FILE), st["frontend_at"])
        return size

    def _take_samples(self, samples):
        """The workspace (taken if it is not there) holding the checked samples: (X, n, n_train)."""
        try:
            self._workspace()
            return self._features(samples, "samples")
        except MemoryError:
            raise MemoryError("no RAM for learn_class's workspace and %s samples (%d bytes free after "
                              "cleanup); shrink max_samples, max_hidden or embed_dim, or pass fewer "
                              "samples; nothing was changed" % (_length(samples), _free()))

    def _workspace(self):
        """learn_class's buffers, allocated once and kept: a board's heap fragments, and
        buffers requested on every call fail long before the free total runs out. The
        constructor takes them (preallocate=True), so a learner's RAM is known when it is
        made; with preallocate=False (a board that only predicts) the first learn_class
        does, and after a failed call that had to drop them, the next one."""
        if self._X is not None:
            return
        nf = self.n_features
        rows = self.replay.capacity + self.max_samples
        # built in locals and kept only when all of it fits: a MemoryError frees it all
        # a class never distils more rows than one call trains on (k = min(quota, n_train))
        ve, S = self.hp["val_every"], self.max_samples
        most = max(_train_rows(S, ve), _train_rows(min(S, 2 * ve - 1), ve))
        d = Distiller(self.B, nf, min(self.hp["max_per_class"], most), self.hp["embed_dim"])
        order_rows, noise = rows, None
        if self.hp["replay_noise"] > 0:
            # the training order also holds the replay rows' repeats (FORMAT.md 7.4 and 8)
            from . import noise as nz
            order_rows = nz.order_rows(self.replay.capacity, self.max_samples, self.net.caps[-1])
            noise = nz.table(nf)
        tables = [array("H", bytearray(2 * n)) for n in (order_rows, rows, rows)]  # no list grows mid-call
        buf = array("f", bytearray(4 * nf))
        X = self.B.zeros(self.max_samples, nf)
        self._distiller = d
        self._order, self._rows, self._pred = tables
        self._buf = buf
        self._noise = noise
        self._X = X

    # ---- the cycle -------------------------------------------------------------
    def _cycle(self, label, X, n, n_train, quota, target, log):
        B = self.B
        c = len(self.classes)
        train = range(n_train)  # _features put the training rows first; ranges, not lists
        val = range(n_train, n)
        hidden_before = self.net.hidden[0]

        # 1. distil the new samples into `quota` synthetic ones
        k = min(quota, len(train))
        syn, d_first, d_last = self._distil(X, n_train, k)
        log("distil %r: %d samples -> %d synthetic, matching loss %.4f -> %.4f" % (label, len(train), k, d_first, d_last))

        # the only changes to the learner's state start here (undone by _restore)
        self.replay.shrink_to(quota)
        self.replay.add(c, B, syn, k)
        self.net.add_class(self.rng)
        self.classes.append(label)

        # 2. train on every distilled sample (+ the new real ones), class-balanced
        n_rows, class_w, noisy = self._training_rows(X, n_train)
        loss = self._train(X, n_rows, class_w, log, noisy)

        # 3. check; 4. grow while the target is missed and there is room
        acc = self._accuracy(X, val if len(val) else train)
        log("check: accuracy %.3f (target %.3f)" % (acc, target))
        stalled = False
        while acc < target and self.net.hidden[0] < self.max_hidden:
            w = min(self.net.hidden[0] + self.grow_step, self.max_hidden)
            log("grow: hidden %d -> %d" % (self.net.hidden[0], w))
            self.net.set_hidden(w, self.rng)
            loss = self._train(X, n_rows, class_w, log, noisy)
            before = acc
            acc = self._accuracy(X, val if len(val) else train)
            log("check: accuracy %.3f (target %.3f)" % (acc, target))
            if acc <= before:  # width did not help this miss: stop paying for more (FORMAT.md 7.6)
                log("grow: the widening did not raise the check; growth stops")
                stalled = True
                break

        # 5. keep held-out rows where the quota has room: a call's samples are the budget's
        # to use, and after the check they are spent (FORMAT.md 7.7)
        kept = min(quota - k, len(val))
        if kept > 0:
            self.replay.add(c, B, X, kept, n_train)

        # 6. save
        size = 0
        if self.path is not None:
            size = self.save()
            log("saved %s (%d bytes)" % (store.join(self.path, store.FILE), size))
        return {
            "label": label, "accuracy": acc, "target": target, "met_target": acc >= target,
            "hidden_before": hidden_before, "hidden": list(self.net.hidden),
            "grew": self.net.hidden[0] > hidden_before, "growth_stalled": stalled, "train_loss": loss,
            "distill_loss": (d_first, d_last), "samples": n, "validation_samples": len(val),
            "synthetic_samples": k, "held_out_kept": kept, "samples_per_class": quota,
            "flops_per_inference": self.net.flops() + self._frontend_flops(), "params": self.net.params(),
            "memory_bytes_used": self.replay.bytes_used(), "file_bytes": size,
        }

    def _distil(self, X, n_train, k):
        """Herding picks k of the first n_train rows of X; distribution matching refines them."""
        hp = self.hp
        B = self.B
        nf = self.n_features
        d = self._distiller
        assert d is not None  # _workspace() ran at the start of this call
        syn = d.S
        for r, i in enumerate(herding_order(B, X, n_train, nf, k, d.herding)):
            B.copy_row(X, i, syn, r, nf)
        if hp["distill_iters"] > 0:
            first, last = d.run(X, n_train, syn, k, self.rng, hp["distill_iters"],
                                hp["distill_lr"], hp["distill_momentum"])
        else:
            first = last = 0.0
        return syn, first, last

    def _training_rows(self, X, n_train):
        """Training row k is replay sample k % n (k < m n, the replay rows m times over, FORMAT.md
        7.4), else new row k - m n of X. Returns the row count, the class weights (1 / rows of
        the class) and, with replay noise, (m n, fit's fetch that adds it), else None."""
        rp = self.replay
        c = len(self.classes) - 1
        n_real = n_train if self.hp["train_on_real"] else 0
        counts = [0] * len(self.classes)
        for i in range(rp.n):
            counts[rp.cls[i]] += 1
        m, noisy = 1, None
        if self.hp["replay_noise"] > 0:
            from . import noise as nz
            t = self._noise
            assert t is not None  # allocated by _workspace() when replay_noise > 0
            m = nz.repeats(counts, n_real)
            a = nz.amplitude(self.B, X, n_train, self.n_features, self._y, self._buf, self.hp["replay_noise"])
            nz.refill(t, self.rng)
            noisy = nz.fetch(self.B, rp, X, self.n_features, self._buf, t, self.rng, m * rp.n, a)
        class_w = [0.0] * len(self.classes)
        for y in range(len(class_w)):
            class_w[y] = m * counts[y]
        class_w[c] += n_real
        for y in range(len(class_w)):
            class_w[y] = 1.0 / class_w[y]
        return m * rp.n + n_real, class_w, (m * rp.n, noisy) if noisy is not None else None

    def _row_fetch(self, X, rows=None):
        """fetch(k, M, r) for the net: row k (through the table `rows` when given) into row r of M."""
        B = self.B
        nf = self.n_features
        buf = self._buf
        rp = self.replay
        n_rep = rp.n

        def fetch(k, dst, r):
            if rows is not None:
                k = rows[k]
            if k < n_rep:
                rp.row_values(k, buf)
                B.set_row(dst, r, buf, nf)
            else:
                B.copy_row(X, k - n_rep, dst, r, nf)
        return fetch

    def _row_label(self, rows=None, n_first=None):
        rp = self.replay
        n_rep = rp.n
        n_first = n_rep if n_first is None else n_first  # replay rows (m times over) come first
        c = len(self.classes) - 1

        def label(k):
            if rows is not None:
                k = rows[k]
            return rp.cls[k % n_rep] if k < n_first else c
        return label

    def _train(self, X, n_rows, class_w, log, noisy=None):
        hp = self.hp
        epochs = hp["epochs"]
        every = max(1, epochs // 4)

        def progress(e, total, loss):
            if e % every == 0 or e == total:
                log("train: epoch %d/%d loss %.4f (hidden %d)" % (e, total, loss, self.net.hidden[0]))
        self.net.reset_momentum()
        # noisy = (replay rows m times over, their fetch with noise) or None (FORMAT.md 7.4)
        if noisy is None:
            fetch, label = self._row_fetch(X), self._row_label()
        else:
            fetch, label = noisy[1], self._row_label(None, noisy[0])
        return self.net.fit(fetch, label, class_w, n_rows, self._order, epochs, hp["lr"], hp["momentum"],
                            self.rng, progress)

    def _accuracy(self, X, val):
        """The check: the worse of (a) the new class's accuracy on its held-out rows of X and
        (b) the class-balanced accuracy of the older classes on their replay samples.
        Taking the minimum keeps a poorly learned new class from hiding behind many old ones."""
        c = len(self.classes) - 1
        rp = self.replay
        rows = self._rows
        n = 0
        for i in range(rp.n):
            if rp.cls[i] != c:
                rows[n] = i
                n += 1
        for i in val:
            rows[n] = rp.n + i
            n += 1
        label = self._row_label(rows)
        self.net.predict_into(self._row_fetch(X, rows), n, self._pred)
        hit = [0] * len(self.classes)
        tot = [0] * len(self.classes)
        for k in range(n):
            y = label(k)
            tot[y] += 1
            if self._pred[k] == y:
                hit[y] += 1
        new = hit[c] / tot[c] if tot[c] else 1.0
        per = [hit[i] / tot[i] for i in range(c) if tot[i]]
        old = sum(per) / len(per) if per else 1.0
        return new if new < old else old

    # ---- input ------------------------------------------------------------------
    def _check_label(self, label):
        if not isinstance(label, str):
            raise TypeError("label must be a str, got %s" % type(label).__name__)
        if not label or len(label.encode("utf-8")) > MAX_LABEL_BYTES:
            raise ValueError("label must be 1 to %d bytes of text" % MAX_LABEL_BYTES)
        if label in self.classes:
            raise ValueError("class %r is already learned; learn_class adds new classes only" % label)

    def _features(self, samples, what):
        """Validate samples and turn them into a matrix of network inputs."""
        n = _length(samples)
        if n is None or isinstance(samples, (str, bytes, bytearray, dict)):
            raise TypeError("%s must be a list of samples (sequences of %d numbers)" % (what, self.n_inputs))
        if n < MIN_SAMPLES:
            raise ValueError("%s: %d given, at least %d are needed to learn a class" % (what, n, MIN_SAMPLES))
        if n > self.max_samples:
            raise ValueError("%s: %d given, this learner takes at most %d per call (max_samples)"
                             % (what, n, self.max_samples))
        # validation rows (FORMAT.md 7.1: i % val_every == val_every - 1) go after the
        # training rows, so distillation and training read the first n_train rows in place
        ve = self.hp["val_every"]
        n_train = _train_rows(n, ve)
        hold = n_train < n
        t = 0
        v = n_train
        for i in range(n):
            if hold and i % ve == ve - 1:
                r = v
                v += 1
            else:
                r = t
                t += 1
            self._feature_row(samples[i], "%s[%d]" % (what, i), self._X, r)
        return self._X, n, n_train

    def _feature_row(self, x, what, dst, r):
        """Check one sample, scale it, run the front-end; the result goes to row r of dst."""
        ni = self.n_inputs
        n = _length(x)
        if n is None or isinstance(x, (str, bytes, bytearray, dict)):
            raise TypeError("%s must be a sequence of %d numbers, got %s" % (what, ni, type(x).__name__))
        if n != ni:
            raise ValueError("%s has %d values, expected %d" % (what, n, ni))
        B = self.B
        v = self._x
        off = self.offset
        sc = self.scale
        for j in range(ni):
            a = x[j]
            if isinstance(a, bool) or not isinstance(a, (int, float)):
                if isinstance(a, (str, bytes, bytearray)):  # float() would parse "1.5"
                    raise TypeError("%s[%d] is not a number (%s)" % (what, j, type(a).__name__))
                try:
                    a = float(a)  # ulab scalars
                except (TypeError, ValueError):
                    raise TypeError("%s[%d] is not a number (%s)" % (what, j, type(a).__name__))
            try:
                a = (float(a) - off[j]) * sc[j]
            except OverflowError:
                raise ValueError("%s[%d] is out of range" % (what, j))
            if a != a or a == _INF or a == -_INF:
                raise ValueError("%s[%d] is not finite" % (what, j))
            if a > MAX_ABS or a < -MAX_ABS:
                raise ValueError("%s[%d] is %g after input scaling; values must lie within +-%g"
                                 % (what, j, a, MAX_ABS))
            B.put(v, 0, j, a)
        if self._frontend is not None:
            v = self._frontend.apply(v, self._y)
        B.copy_row(v, 0, dst, r, self.n_features)

    # ---- state (for store.py) ---------------------------------------------------
    def _frontend_flops(self):
        return self._frontend.flops() if self._frontend is not None else 0

    def _state(self):
        net = self.net
        B = self.B
        hp = self.hp
        s = net.sizes
        dense = []
        for l in range(len(net.W)):
            dense.append((s[l + 1], s[l], _row_getter(B, net.W[l], s[l]), B.row(net.b[l], 0, s[l + 1])))
        head = (self.n_inputs, self.n_features, self.max_hidden, self.min_hidden, self.grow_step,
                net.caps[-1], len(s) - 2, net.hidden[0], self.replay.budget, self.target, self.rng.state)
        hypr = tuple(hp[k] for k, _ in HYPER)
        fe = self._frontend
        st = {"head": head, "hypr": hypr, "classes": self.classes, "offset": self.offset,
              "scale": self.scale, "frontend": fe.state() if fe is not None else [], "dense": dense,
              "replay": self.replay}
        if fe is not None and fe.streamed():
            st["frontend_at"] = []  # store.write_to notes where the weights land
        return st

    def _apply(self, st):
        """Set weights, classes and replay set from a decoded file state."""
        B = self.B
        net = self.net
        head = st["head"]
        n_layers = head[6]
        width = head[7]
        if len(st["dense"]) != n_layers + 1:
            raise store.FormatError("file has %d dense layers, expected %d" % (len(st["dense"]), n_layers + 1))
        n_classes = len(st["classes"])
        sizes = [self.n_features] + [width] * n_layers + [n_classes]
        for l, layer in enumerate(st["dense"]):
            if layer[0] != sizes[l + 1] or layer[1] != sizes[l]:
                raise store.FormatError("dense layer %d is %dx%d, expected %dx%d"
                                        % (l, layer[0], layer[1], sizes[l + 1], sizes[l]))
        if width > self.max_hidden or n_classes > net.caps[-1]:
            raise store.FormatError("file exceeds the learner's capacity")
        net.sizes = sizes
        for l, layer in enumerate(st["dense"]):
            B.fill(net.W[l], net.caps[l + 1], net.caps[l], 0.0)
            B.fill(net.b[l], 1, net.caps[l + 1], 0.0)
            i = 0
            for w, b in store.dense_rows(layer):
                B.set_row(net.W[l], i, w, len(w))
                B.put(net.b[l], 0, i, b)
                i += 1
        net.reset_momentum()
        self.classes = list(st["classes"])
        nf = st["replay"][0]
        if nf != self.n_features:
            raise store.FormatError("replay samples have %d features, expected %d" % (nf, self.n_features))
        self.replay.n = 0
        for c, s, q in store.replay_rows(st["replay"]):
            if c >= n_classes:
                raise store.FormatError("replay sample of unknown class %d" % c)
            self.replay.add_raw(c, s, q)
        self.rng.state = head[10] or 1
        fe = self._frontend
        if st.get("file") and fe is not None and fe.streamed():  # read from the file it now names
            fe.point(st["file"], [f[0] for f in st["frontend"]])

    def _snapshot(self):
        """The learner's file image in RAM: the undo copy of a learner that has no folder."""
        return store.encode(self._state())

    def _restore(self, snapshot, cause):
        self._X = None  # the learn workspace goes first: reloading needs blocks of chunk size
        self._distiller = None
        if self._frontend is not None:
            self._frontend.close()
        gc.collect()
        try:
            if snapshot is None:
                self._apply(store.load_state(self.path, log=None, lazy_frontend=True))
            else:
                self._apply(store.decode(snapshot, "<snapshot>"))
        except Exception as e:
            # the files are untouched, but this object is not: say so rather than hide it
            # the heap is too full or fragmented to read the file back: the files are intact
            raise RuntimeError("learn_class failed (%s: %s) and the learner in RAM could not be restored "
                               "(%s); its files are intact: tinycil.load() it again, then shrink "
                               "max_samples, max_hidden or embed_dim, or pass fewer samples"
                               % (type(cause).__name__, cause, e))


def _length(x):
    # MicroPython's built-in sequences have no __len__ attribute to test for
    try:
        return len(x)
    except TypeError:
        return None


def _row_getter(B, M, n):
    return lambda i: B.row(M, i, n)


def _train_rows(n, ve):
    """Training rows of a call with n samples (FORMAT.md 7.1)."""
    return n - n // ve if ve > 1 and n >= 2 * ve else n


def _folder(file):
    return file.rsplit("/", 1)[0] if "/" in file else ""


def _printer(verbose):
    if verbose:
        return lambda s: print("tinycil:", s)
    return lambda s: None


def _check_int(name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("%s must be an int" % name)
    if not lo <= v <= hi:
        raise ValueError("%s must be between %d and %d, got %d" % (name, lo, hi, v))


def _check_path(path):
    if not isinstance(path, str) or not path:
        raise TypeError("path must be a folder name (str)")
    if path.rstrip("/") in ("/tinycil", "tinycil"):
        raise ValueError("path %r would shadow the tinycil package on sys.path; use %r" % (path, DEFAULT_PATH))


def _vector(name, v, n):
    """n float32 values from one number or a sequence of n."""
    out = array("f", bytearray(4 * n))
    if isinstance(v, (int, float)):
        for j in range(n):
            out[j] = v
        return out
    if _length(v) != n:
        raise ValueError("%s needs %d values, got %s" % (name, n, _length(v)))
    for j in range(n):
        out[j] = float(v[j])
    return out
