# The class-incremental learner. learn_class runs the method's cycle as named steps,
# numbered as FORMAT.md section 7 numbers them:
#   1 split, 2 distil, 3 make room, 4 train, 5 check, 6 grow, 7 keep held-out rows, 8 save
# A failed call (bad input, divergence, MemoryError) leaves the learner and its files
# exactly as they were.
import gc
import time

from . import backend as _backend
from . import store
from .alloc import zeroed
from .distill import Distiller, herding_order
from .limits import DEFAULT_PATH, FAR_BELOW, HYPER, INT_RANGES, MAX_SAMPLES, NOISE_WINDOWS
from .net import Net
from .replay import Replay, Rows, sample_bytes
from .rng import Rng, f32
from .samples import check_label, feature_row, learn_scaling, partition, take, train_rows, unscale
from .state import apply, to_state

# MicroPython's millisecond ticks; CPython (host-side convenience only) falls back to time()
ticks_ms = getattr(time, "ticks_ms", None) or (lambda: int(time.time() * 1000))
ticks_diff = getattr(time, "ticks_diff", None) or (lambda a, b: a - b)

_OOM_ADVICE = ("learn_class ran out of RAM; shrink max_samples, max_hidden, batch, embed_dim or "
               "memory_bytes, or pass fewer samples; the learner is as it was before the call")


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
        given = {"n_inputs": n_inputs, "n_features": n_features, "max_hidden": max_hidden, "grow_step": grow_step,
                 "max_classes": max_classes, "n_layers": n_layers, "memory_bytes": memory_bytes,
                 "max_samples": max_samples}
        for name, lo, hi in INT_RANGES:
            _check_int(name, given[name], lo, hi)
        _check_int("min_hidden", min_hidden, 0, max_hidden)  # 0: the nearest-mean head alone until growth
        if not isinstance(target, (int, float)) or not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        if path is not None:
            _check_path(path)
        self.hp = {}
        for k, v in HYPER:
            self.hp[k] = hyper.pop(k, v)
        if hyper:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(hyper)))
        for k in ("replay_noise", "ncm_weight"):
            v = self.hp[k]
            if not isinstance(v, (int, float)) or not 0.0 <= v <= 1000.0:
                raise ValueError("%s must be a number from 0 (off) to 1000" % k)
        if self.hp["ncm_separate"] not in (0, 1):
            raise ValueError("ncm_separate must be 0 (the head trains with the network) or 1 (apart)")
        if self.hp["grow_undo"] not in (0, 1):
            raise ValueError("grow_undo must be 0 (keep a widening that did not raise the check) or 1 (drop it)")
        for k, v in HYPER:
            if isinstance(v, float):  # as the file stores them: a reload then computes the same
                self.hp[k] = f32(self.hp[k])
        self.n_inputs = n_inputs
        self.n_features = n_features
        self.max_hidden = max_hidden
        self.min_hidden = min_hidden
        self.grow_step = grow_step
        self.target = f32(target)
        self.path = path
        self.rng = Rng(seed)
        self.classes = []
        self.ncm_var = 0.0  # pooled within-class variance of the features (FORMAT.md 4)
        self.calls = 0  # the learn_class calls ncm_var is the mean over
        self._var_new = 0.0  # the newest call's variance (replay noise's amplitude)
        self._c = 0  # the class the call in progress learns
        # no scaling given and no front-end: the first learn_class learns it (FORMAT.md 7.0)
        self.scale_pending = input_offset is None and input_scale is None and not frontend
        # float32 arrays, not lists: every float in a list is its own heap object
        self.offset = _vector("input_offset", 0.0 if input_offset is None else input_offset, n_inputs)
        self.scale = _vector("input_scale", 1.0 if input_scale is None else input_scale, n_inputs)
        if memory_bytes < sample_bytes(n_features):
            raise ValueError("memory_bytes=%d cannot hold one sample of %d bytes" % (memory_bytes, sample_bytes(n_features)))
        B = self.B
        # from a collected heap: the allocator takes the lowest hole that fits, so the buffers
        # then pack from the bottom instead of landing between garbage that is freed later
        gc.collect()
        # the input row (a float array the checks write fast, and the backend's 1-row matrix
        # over it; it also takes every second front-end layer's output), then, with a front-end,
        # the other layers' outputs: only the first needs n_inputs (12 KB of floats at 3072
        # inputs). Beside the input scaling, before anything fragments the heap.
        widest = max([layer[1] for layer in frontend]) if frontend else 0
        self._xin, self._x = B.float_row(max(n_inputs, n_features, widest))
        self._y = B.zeros(1, max(n_features, widest)) if frontend else None
        # the row pool is the largest block: take it while the heap is least fragmented
        self.replay = Replay(B, n_features, memory_bytes, self.hp["max_per_class"], max_classes)
        self.max_classes = max_classes
        self.max_samples = max_samples
        self._ws: "_Workspace | None" = None  # learn_class's workspace: see _workspace()
        if preallocate:  # its rows are the next largest block: before the net's many small ones
            self._workspace()
        self.net = Net(B, n_features, max_hidden, max_classes, n_layers, self.hp["batch"], self.hp["momentum"] > 0)
        self.net.ncm_separate = self.hp["ncm_separate"] == 1
        self._ncm_a = B.zeros(1, max_classes)  # the nearest-mean head's per-class scale and offset
        self._ncm_b = B.zeros(1, max_classes)
        self._frontend = None
        if frontend:
            from .frontend import FrontEnd
            self._frontend = FrontEnd(B, frontend, n_inputs, n_features, frontend_file)
        # computing only after every long-lived buffer exists: the temporary floats of
        # the initialisation then free up behind them instead of between them
        self.net.set_hidden(min_hidden, self.rng)

    # ---- public API ------------------------------------------------------------
    def learn_class(self, label, samples, target=None, verbose=True, seed=None):
        """Learn a new class from a few samples (any iterable of rows, read once); returns a
        report dict (see README)."""
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
        check_label(label)
        if target is None:
            target = self.target
        elif not isinstance(target, (int, float)) or not 0.0 <= target <= 1.0:
            raise ValueError("target must be an accuracy between 0 and 1")
        update = label in self.classes  # FORMAT.md 7: new samples of a class the learner knows
        C = len(self.classes) + (0 if update else 1)
        if C > self.net.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.net.caps[-1])
        quota = self.replay.quota(C)
        if quota < 1:
            raise ValueError("memory_bytes=%d holds %d samples: not one per class for %d classes"
                             % (self.replay.budget, self.replay.capacity, C))
        if seed is not None and not isinstance(seed, int):
            raise TypeError("seed must be an int")
        c = self.classes.index(label) if update else len(self.classes)
        if self.scale_pending:  # FORMAT.md 7.0: the first call's samples set the input scaling
            learn_scaling(self, samples)
        try:
            n, n_train, n_old = self.split(samples, c if update else -1)  # validates all before any change
        except BaseException:
            if self.scale_pending:
                unscale(self)
            raise
        if self.scale_pending:
            log("input scaling learned from these %d samples (new()'s input_scale sets it instead)" % n)
        # the undo copy: the saved file, or (no folder, or nothing saved in it yet) one in RAM
        saved = self.path is not None and store.exists(store.join(self.path, store.FILE))
        snapshot = None if saved else self._snapshot()
        report = {}
        attempt = 0
        lr0 = self.hp["lr"]
        while not report:
            if seed is not None:
                self.rng = Rng(seed)  # after validation: a refused call leaves the generator alone
            try:
                report = self._cycle(label, c, update, n, n_train, n_old, quota, float(target), log)
            except MemoryError as e:
                self._restore(snapshot, e, True)
                raise MemoryError("learn_class ran out of RAM (%d bytes free after cleanup); shrink max_hidden, "
                                  "batch, embed_dim, memory_bytes or pass fewer samples; the previous learner "
                                  "is intact" % _free())
            except ArithmeticError as e:
                self._restore(snapshot, e, False)  # the call's samples stay in the workspace
                if attempt:
                    self.hp["lr"] = lr0
                    raise ValueError("learn_class failed: %s; check the samples' scale (input_scale); the "
                                     "previous learner is intact" % e)
                # FORMAT.md 7: one retry from the restored learner at half the learning rate,
                # which the learner keeps (a rate that diverged once is likely to again)
                self.hp["lr"] = self.hp["lr"] / 2
                log("%s: retrying at lr %g" % (e, self.hp["lr"]))
                attempt = 1
            except BaseException as e:
                self._restore(snapshot, e, True)
                raise
        report["lr_halved"] = attempt == 1
        report["seconds"] = ticks_diff(ticks_ms(), t0) / 1000.0
        return report

    def forget(self, label):
        """Remove a class: its mean, replay samples and output unit (FORMAT.md 7.9); saved at once.
        The freed budget goes to the classes learned after. Returns the classes left."""
        from .forget import forget
        return forget(self, label)

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
        B = self.B
        net = self.net
        B.copy_row(feature_row(self, x, "x"), 0, net.Xb, 0, self.n_features)
        Z = net.forward(net.Xb, 1)
        B.softmax_rows(Z, 1, net.n_classes)
        return B.row(Z, 0, net.n_classes)

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

    # ---- the cycle (FORMAT.md 7) ----------------------------------------------------
    def _cycle(self, label, c, update, n, n_train, n_old, quota, target, log):
        ws = self._work()
        self._c = c
        hidden_before = self.net.hidden[0]
        # 2. distil: the class's quota is its mean plus k distilled rows (an update distils its
        # old distilled rows and the new ones together)
        k = min(quota - 1, n_train + n_old)
        d_first, d_last = self.distil(n_train + n_old, k)
        log("distil %r: %d samples -> mean + %d synthetic, matching loss %.4f -> %.4f"
            % (label, n_train + n_old, k, d_first, d_last))
        # 3. make room (the only changes to the learner's state start here; _restore undoes them)
        self._make_room(label, update, n_train, quota, k)
        # 4. train, 5. check, 6. grow while the target is missed and there is room
        v0, n_val = n_train + n_old, n - n_train
        loss = self.train(n_train, log)
        acc = self.check(v0, n_val, n_train)
        log("check: accuracy %.3f (target %.3f)" % (acc, target))
        acc, loss, stalled = self.grow(acc, loss, target, v0, n_val, n_train, log)
        far = acc < target - FAR_BELOW
        if far:
            log("warning: the check ended at %.3f, far below the target %.3f: the class is not learned "
                "(too few or too alike samples, or inputs at the wrong scale: see input_scale)" % (acc, target))
        # 7. keep held-out rows where the quota has room: a call's samples are the budget's
        # to use, and after the check they are spent
        kept = min(quota - 1 - k, n_val)
        for i in range(kept):
            self.replay.add(c, v0 + i, ws.X)
        # 8. save
        size = 0
        if self.path is not None:
            size = self.save()
            log("saved %s (%d bytes)" % (store.join(self.path, store.FILE), size))
        return {
            "label": label, "updated": update, "accuracy": acc, "target": target, "met_target": acc >= target,
            "far_below_target": far, "hidden_before": hidden_before, "hidden": list(self.net.hidden),
            "grew": self.net.hidden[0] > hidden_before, "growth_stalled": stalled, "train_loss": loss,
            "distill_loss": (d_first, d_last), "samples": n, "validation_samples": n_val,
            "synthetic_samples": k, "held_out_kept": kept, "samples_per_class": quota,
            "flops_per_inference": self.net.flops() + self._frontend_flops(), "params": self.net.params(),
            "memory_bytes_used": self.replay.bytes_used(), "file_bytes": size,
        }

    def split(self, samples, update=-1):
        """1. The call's samples into the workspace: checked, scaled, through the front-end,
        quantized; training rows first, then (an update of class `update`) that class's distilled
        rows, then the held-out ones (every val_every-th, when there are at least two). Returns
        (n, n_train, n_old). Changes nothing else."""
        try:
            ws = self._workspace()
            n = take(self, samples, ws.X)
        except MemoryError:
            raise MemoryError("no RAM for learn_class's workspace and its samples (%d bytes free after "
                              "cleanup); shrink max_samples, max_hidden or embed_dim, or pass fewer "
                              "samples; nothing was changed" % _free())
        n_train = train_rows(n, self.hp["val_every"])
        if n_train < n:
            partition(ws.X, ws.park, ws.pred, n, self.hp["val_every"])
        n_old = 0
        if update >= 0:
            rp = self.replay
            X = ws.X
            old = [i for i in range(rp.n) if rp.cls[i] == update]
            n_old = len(old)
            for i in range(n - 1, n_train - 1, -1):  # the held-out rows move up behind the old ones
                X.copy(i, i + n_old)
            for j, i in enumerate(old):
                X.copy(i, n_train + j, rp)
        return n, n_train, n_old

    def distil(self, n_train, k):
        """2. Herding picks k of the call's n_train training rows, distribution matching refines
        them (FORMAT.md 5); the result is in the distiller's S. Returns the matching losses."""
        ws = self._work()
        hp = self.hp
        B = self.B
        nf = self.n_features
        d = ws.distiller
        X = ws.X
        syn = d.S
        for r, i in enumerate(herding_order(B, X, 0, n_train, k, d.herding)):
            X.values(i, ws.buf)
            B.set_row(syn, r, ws.buf, nf)
        if hp["distill_iters"] > 0 and k > 0:
            return d.run(X, 0, n_train, syn, k, self.rng, hp["distill_iters"], hp["distill_lr"],
                         hp["distill_momentum"])
        return 0.0, 0.0

    def _make_room(self, label, update, n_train, quota, k):
        """3. Every class keeps its mean and quota - 1 replay samples; the class's mean (an update:
        the mean of its old mean's samples and the new ones) and its k distilled rows join; a new
        class gets an output unit; the nearest-mean head follows."""
        ws = self._work()
        rp = self.replay
        c = self._c
        B = self.B
        nf = self.n_features
        var = self._var_new = self._mean_and_var(n_train)
        if update:
            rp.drop_rows(c)
            n_old = rp.counts[c]
            old = ws.buf2
            rp.values(rp.mean_row(c), old)
            tot = n_old + n_train
            for j in range(nf):  # ws.buf holds the new rows' mean
                ws.buf[j] = (old[j] * n_old + ws.buf[j] * n_train) / tot
            rp.set_mean(c, ws.buf, tot)
        else:
            rp.shrink_to(quota)
            rp.set_mean(c, ws.buf, n_train)
        syn = ws.distiller.S
        for r in range(k):
            rp.add_row(c, syn, r)
        if not update:
            self.net.add_class(self.rng)
            self.classes.append(label)
        self.scale_pending = False  # a first call's scaling is now the learner's
        # the mean of every call's variance, float32 as the file stores it
        self.calls += 1
        self.ncm_var = f32(self.ncm_var + (var - self.ncm_var) / self.calls)
        self._ncm_update()

    def train(self, n_train, log, refit=False):
        """4. Train on every class's mean and replay samples and the new real rows,
        class-balanced (FORMAT.md 7.4). A refit after a widening (6.) runs half the epochs
        (rounded up): the network it starts from is trained, only the new units are not.
        Returns the last epoch's loss."""
        ws = self._work()
        hp = self.hp
        epochs = (hp["epochs"] + 1) // 2 if refit else hp["epochs"]
        every = max(1, epochs // 4)
        net = self.net

        def progress(e, total, loss):
            if e % every == 0 or e == total:
                # a loss within rounding of 0 can come out as -0.0000
                log("train: epoch %d/%d loss %.4f (hidden %d)" % (e, total, max(loss, 0.0), net.hidden[0]))
        rows, batch_rows = self._training_rows(n_train)
        return net.fit(batch_rows, rows, ws.order, epochs, hp["lr"], hp["momentum"], self.rng, progress)

    def check(self, v0, n_val, n_train):
        """5. The worse of (a) the learned class's accuracy on its held-out rows (X rows
        v0..v0+n_val-1; its training rows 0..n_train-1 when there are none) and (b) the
        class-balanced accuracy of the other classes on their means and replay samples. The
        minimum keeps a poorly learned class from hiding behind many well-kept others."""
        ws = self._work()
        rp = self.replay
        c = self._c
        C = len(self.classes)
        nf = self.n_features
        B = self.B
        X = ws.X
        lo, hi = (v0, v0 + n_val) if n_val else (0, n_train)
        # check row k: the means of the other classes, their replay samples, then the learned
        # class's rows lo..hi-1 (their pool rows in ws.rows, labels in ws.lab)
        rows, lab = ws.rows, ws.lab
        m = 0
        for i in range(C):
            if i != c:
                rows[m] = rp.mean_row(i)
                lab[m] = i
                m += 1
        for i in range(rp.n):
            if rp.cls[i] != c:
                rows[m] = i
                lab[m] = rp.cls[i]
                m += 1
        n_stored = m
        for i in range(lo, hi):
            rows[m] = i
            lab[m] = c
            m += 1

        gi, gs = ws.gi, ws.gs

        def batch_rows(_order, i, cnt, Xb, _bl, _bw):
            # check rows come stored rows first: a batch is one run of each
            a = max(0, min(cnt, n_stored - i))
            for r in range(cnt):
                k = i + r
                gi[r] = rows[k]
                gs[r] = rp.scale[rows[k]] if k < n_stored else X.scale[rows[k]]
            B.gather_rows(Xb, 0, rp.view, gi, gs, 0, a, nf)
            B.gather_rows(Xb, a, X.view, gi, gs, a, cnt - a, nf)
        self.net.predict_into(batch_rows, m, ws.pred)
        hit = [0] * C
        tot = [0] * C
        for k in range(m):
            y = lab[k]
            tot[y] += 1
            if ws.pred[k] == y:
                hit[y] += 1
        new = hit[c] / tot[c] if tot[c] else 1.0
        per = [hit[i] / tot[i] for i in range(C) if i != c and tot[i]]
        old = sum(per) / len(per) if per else 1.0
        return new if new < old else old

    def grow(self, acc, loss, target, v0, n_val, n_train, log):
        """6. While the check misses the target and width is left: widen by grow_step
        (function-preserving), train again, check again; a widening that does not raise the
        check ends growth: a miss that width does not fix must not buy the maximum width. With
        grow_undo that widening's units are dropped again (FORMAT.md 7.6) and the narrower net
        checked. Returns (accuracy, loss, stalled)."""
        net = self.net
        while acc < target and net.hidden[0] < self.max_hidden:
            narrower = net.hidden[0]
            w = min(narrower + self.grow_step, self.max_hidden)
            log("grow: hidden %d -> %d" % (narrower, w))
            net.set_hidden(w, self.rng)
            loss = self.train(n_train, log, True)
            before = acc
            acc = self.check(v0, n_val, n_train)
            log("check: accuracy %.3f (target %.3f)" % (acc, target))
            if acc <= before:
                log("grow: the widening did not raise the check; growth stops")
                if self.hp["grow_undo"]:
                    net.narrow(narrower)
                    acc = self.check(v0, n_val, n_train)
                    log("grow: its units dropped, hidden %d; check %.3f" % (narrower, acc))
                return acc, loss, True
        return acc, loss, False

    def save(self, path=None, weights="f32"):
        """8. Write the learner atomically to folder `path` (default: its own). Returns bytes written."""
        if path is None:
            path = self.path
        if path is None:
            raise ValueError("no path: pass save(path=...) or create the learner with path=")
        _check_path(path)
        if weights not in ("f32", "int8"):
            raise ValueError("weights must be 'f32' or 'int8'")
        enc = store.ENC_INT8 if weights == "int8" else store.ENC_F32
        st = to_state(self)
        fe = self._frontend
        size = store.write(path, st, enc, release=fe.close if fe is not None else None)
        if fe is not None and "frontend_at" in st and _folder(store.join(path, store.FILE)) == _folder(fe.file or ""):
            # the front-end's file was replaced: its weights are now in the new learner.bin
            fe.point(store.join(path, store.FILE), st["frontend_at"])
        return size

    # ---- the cycle's pieces -------------------------------------------------------------
    def _workspace(self):
        """learn_class's buffers, allocated once and kept: a board's heap fragments, and
        buffers requested on every call fail long before the free total runs out. The
        constructor takes them (preallocate=True), so a learner's RAM is known when it is
        made; with preallocate=False (a board that only predicts) the first learn_class
        does, and after a failed call that had to drop them, the next one."""
        if self._ws is None:
            # built whole and kept only when all of it fits: a MemoryError frees it all
            self._ws = _Workspace(self.B, self.n_features, self.max_samples, self.hp, self.max_classes,
                                  self.replay.capacity)
        return self._ws

    def _work(self) -> "_Workspace":
        ws = self._ws
        if ws is None:
            raise RuntimeError("learn_class's workspace is missing")
        return ws

    def _mean_and_var(self, n_train):
        """The new class's mean into ws.buf (rounded to float32), and its features' mean
        variance: sum of squares / (n nf) - sum of the rounded means' squares / nf (FORMAT.md 4)."""
        ws = self._work()
        X = ws.X
        nf = self.n_features
        buf = ws.buf
        sq = self.B.mean_sq(X.view, 0, n_train, X.scale, nf, buf)
        msq = 0.0
        for j in range(nf):
            msq += buf[j] * buf[j]
        return max(0.0, sq / (n_train * nf) - msq / nf)

    def _ncm_update(self):
        """The nearest-mean head's logits a_c (q_c . x) + b_c = beta (2 mu_c . x - |mu_c|^2),
        beta = ncm_weight / (2 ncm_var), mu_c = q_c * s_c the stored mean (FORMAT.md 4)."""
        rp = self.replay
        B = self.B
        w = self.hp["ncm_weight"]
        if not w or not self.classes or self.ncm_var <= 0.0:
            self.net.ncm = None
            return
        beta = w / (2.0 * self.ncm_var)
        buf = self._ws.buf if self._ws is not None else zeroed("f", self.n_features)
        for c in range(len(self.classes)):
            row = rp.mean_row(c)
            rp.values(row, buf)
            sq = 0.0
            for j in range(self.n_features):
                sq += buf[j] * buf[j]
            B.put(self._ncm_a, 0, c, 2.0 * beta * rp.scale[row])
            B.put(self._ncm_b, 0, c, -beta * sq)
        self.net.ncm = (rp.view, rp.capacity, self._ncm_a, self._ncm_b)

    def _training_rows(self, n_train):
        """(rows, batch_rows) for fit: training row k is class k's mean for k < C, replay sample
        (k - C) % n for k < C + m n (the replay rows m times over, FORMAT.md 7.4), else new row
        k - C - m n; weight of a row = 1 / (rows of its class)."""
        ws = self._work()
        rp = self.replay
        B = self.B
        nf = self.n_features
        X = ws.X
        C = len(self.classes)
        c = self._c
        n_rep = rp.n
        n_real = n_train if self.hp["train_on_real"] else 0
        counts = [1] * C
        for i in range(n_rep):
            counts[rp.cls[i]] += 1
        m, noise = 1, None
        if self.hp["replay_noise"] > 0:
            from . import noise as nz
            t = ws.noise
            assert t is not None  # allocated by _workspace() when replay_noise > 0
            m = nz.repeats(counts, n_real)
            a = nz.amplitude(self._var_new, self.hp["replay_noise"])
            nz.refill(t, self.rng)
            noise = (t, a)
        class_w = [0.0] * C
        for y in range(C):
            class_w[y] = 1.0 / (counts[y] + (m - 1) * (counts[y] - 1) + (n_real if y == c else 0))
        n_stored = C + m * n_rep
        rng = self.rng

        gi, gs = ws.gi, ws.gs
        b = self.net.batch

        def batch_rows(order, i, cnt, Xb, bl, bw):
            # a batch's stored rows first, then its real rows, each in the shuffled order: one
            # gather from each pool (FORMAT.md 4, fit)
            a = 0
            e = cnt
            for r in range(cnt):
                k = order[i + r]
                if k < n_stored:
                    if k < C:
                        j, y = rp.capacity + k, k
                    else:
                        j = (k - C) % n_rep
                        y = rp.cls[j]
                    sc = rp.scale[j]
                    at = a
                    a += 1
                else:
                    j, y, sc = k - n_stored, c, X.scale[k - n_stored]
                    e -= 1
                    at = e
                gi[at] = j
                gs[at] = sc
                bl[at] = y
                bw[at] = class_w[y]
            # the real rows were filled from the end: put them back in their shuffled order
            _reverse(gi, gs, bl, bw, a, cnt)
            B.gather_rows(Xb, 0, rp.view, gi, gs, 0, a, nf)
            B.gather_rows(Xb, a, X.view, gi, gs, a, cnt - a, nf)
            if noise is not None:
                for r in range(a):
                    B.add_window(Xb, r, noise[0], rng.below(NOISE_WINDOWS), nf, noise[1])
        return n_stored + n_real, batch_rows

    # ---- state (for store.py) ---------------------------------------------------
    def _frontend_flops(self):
        return self._frontend.flops() if self._frontend is not None else 0

    def _snapshot(self):
        """The learner's file image in RAM: the undo copy of a learner that has no file."""
        return store.encode(to_state(self))

    def _restore(self, snapshot, cause, drop_workspace):
        if drop_workspace:  # the learn workspace goes first: reloading needs blocks of chunk size
            self._ws = None
        if self._frontend is not None:
            self._frontend.close()
        gc.collect()
        try:
            if snapshot is None:
                st = store.load_state(self.path, log=None, lazy_frontend=True)
                try:
                    apply(self, st)
                finally:
                    store.release(st)
            else:
                apply(self, store.decode(snapshot, "<snapshot>"))
        except Exception as e:
            # the files are untouched, but this object is not: say so rather than hide it
            raise RuntimeError("learn_class failed (%s: %s) and the learner in RAM could not be restored "
                               "(%s); its files are intact: tinycil.load() it again, then shrink "
                               "max_samples, max_hidden or embed_dim, or pass fewer samples"
                               % (type(cause).__name__, cause, e))


class _Workspace:
    """learn_class's buffers (FORMAT.md 8): the call's samples as int8 rows, the distiller, four
    index tables, a row of floats, a parked int8 row and, with replay noise, its table."""

    def __init__(self, B, nf, S, hp, C, cap):
        # the call's samples, and an updated class's distilled rows (at most max_per_class - 1):
        # the largest block, taken first
        self.X = Rows(B, nf, S + max(0, hp["max_per_class"] - 1))
        ve = hp["val_every"]
        # a class never distils more rows than one call trains on, nor more than its quota allows
        most = max(train_rows(S, ve), train_rows(min(S, 2 * ve - 1), ve))
        k = max(1, min(hp["max_per_class"] - 1, most))
        self.distiller = Distiller(B, nf, k, hp["embed_dim"], hp["distill_momentum"] > 0, most)
        order_rows = C + cap + S
        self.noise = None
        if hp["replay_noise"] > 0:
            # the training order also holds the stored rows' repeats (FORMAT.md 7.4 and 8)
            from . import noise as nz
            order_rows = nz.order_rows(cap, S, C)
            self.noise = nz.table(nf)
        self.order = zeroed("H", order_rows)  # no list grows mid-call
        self.rows = zeroed("H", C + cap + S)
        self.lab = zeroed("H", C + cap + S)
        self.pred = zeroed("H", C + cap + S)
        self.buf = zeroed("f", nf)
        self.buf2 = zeroed("f", nf)
        self.park = zeroed("b", nf)
        self.gi = zeroed("H", hp["batch"])  # a batch's rows to gather, and their scales
        self.gs = zeroed("f", hp["batch"])


def _reverse(gi, gs, bl, bw, lo, hi):
    # reverse slots lo..hi-1 of the batch's index, scale, label and weight tables
    hi -= 1
    while lo < hi:
        gi[lo], gi[hi] = gi[hi], gi[lo]
        gs[lo], gs[hi] = gs[hi], gs[lo]
        bl[lo], bl[hi] = bl[hi], bl[lo]
        bw[lo], bw[hi] = bw[hi], bw[lo]
        lo += 1
        hi -= 1


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
    out = zeroed("f", n)
    if isinstance(v, (int, float)):
        for j in range(n):
            out[j] = v
        return out
    try:
        m = len(v)
    except TypeError:
        raise TypeError("%s must be a number or a sequence of %d numbers" % (name, n))
    if m != n:
        raise ValueError("%s needs %d values, got %d" % (name, n, m))
    for j in range(n):
        out[j] = float(v[j])
    return out
