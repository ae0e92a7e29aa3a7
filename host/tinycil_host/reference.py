"""NumPy float32 reference of everything the board does, written from device/FORMAT.md.

Same nouns as the board; same random draws in the same order (xorshift32), so a
learner built here from a seed ends where the board's ends, up to float rounding.

    from tinycil_host.reference import Learner
    l = Learner(n_inputs=64, max_hidden=32, memory_bytes=6400, target=0.95, seed=1,
                input_offset=..., input_scale=..., frontend=[FrontLayer, ...], lr=0.05, ...)
    report = l.learn_class("clap", X)          # X: (n, n_inputs), 3..200 rows; dict as on the board
    l.predict_batch(X) -> int indices           l.predict(x) -> label
    l.scores_batch(X) -> (n, classes) probs     l.scores(x) -> probs of one sample
    l.features(X) -> (n, n_features)            # input scaling + front-end, what the net sees
    l.info() -> dict as on the board            l.state() / Learner.from_state(st)
    l.save(folder, weights="f32"|"int8")        Learner.load(folder)

Building blocks, usable alone: Rng, Net (forward, gradients, step, fit, set_hidden,
add_class), herding_order, distill, Replay, quantize_rows (in store).

Arithmetic is float32 (weights, activations, gradients, distillation). Three things
are computed from float32 values in float64 on purpose, because they are decisions or
exact rules rather than arithmetic: the int8 rounding (byte-exact with the board),
herding's distance comparison (a choice of index) and the scalar losses.
"""
import copy
from math import sqrt

import numpy as np

from . import store
from .store import FrontLayer, Samples, quantize_rows

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
NOISE_WINDOWS = 64   # offsets into the replay-noise table (FORMAT.md 7.4)
MAX_REPEATS = 4      # most passes of the replay rows per epoch (FORMAT.md 7.4)
LOSS_LIMIT = 100.0   # an epoch's mean loss at or above it is divergence (FORMAT.md 4)


# ---- random numbers (FORMAT.md section 3) ------------------------------------------
class Rng:
    """xorshift32 with shifts 13/17/5; draws the board's numbers in the board's order."""

    def __init__(self, seed=1):
        seed = int(seed) & 0xFFFFFFFF
        self.state = seed if seed else 0x9E3779B9

    def next_u32(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def uniform(self):
        return (self.next_u32() >> 8) * (1.0 / 8388608.0) - 1.0

    def below(self, n):
        return self.next_u32() % n

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    @staticmethod
    def init_scale(fan_in):
        """FORMAT.md 3: f32(sqrt(f32(6 / fan_in))), as every board computes it."""
        return float(F32(sqrt(float(F32(6.0 / fan_in)))))

    def matrix(self, rows, cols, scale):
        """rows x cols of uniform()*scale, row by row; product rounded once to float32."""
        u = np.array([self.uniform() for _ in range(rows * cols)], dtype=np.float64)
        return (u * scale).astype(F32).reshape(rows, cols)


# ---- network (FORMAT.md section 4) --------------------------------------------------
def mlp_flops(sizes):
    """Inference FLOPs of dense layers of these sizes: 2 per multiply-add (FORMAT.md 4)."""
    return sum(2 * sizes[l] * sizes[l + 1] for l in range(len(sizes) - 1))


def mlp_params(sizes):
    return sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(len(sizes) - 1))


class Net:
    """Dense + ReLU hidden layers, softmax output; arrays hold only the active block."""

    def __init__(self, n_features, max_hidden, max_classes, n_layers=1, batch=16):
        self.caps = [n_features] + [max_hidden] * n_layers + [max_classes]
        self.sizes = [n_features] + [0] * n_layers + [0]
        self.batch = batch
        n = n_layers + 1
        self.W = [np.zeros((0, 0), F32) for _ in range(n)]
        self.b = [np.zeros(0, F32) for _ in range(n)]
        self._resize()
        self.reset_momentum()

    @property
    def hidden(self):
        return self.sizes[1:-1]

    @property
    def n_classes(self):
        return self.sizes[-1]

    def params(self):
        return mlp_params(self.sizes)

    def flops(self):
        return mlp_flops(self.sizes)

    def _resize(self):
        # grow arrays to the active sizes with zeros (new rows/columns are set by the caller)
        s = self.sizes
        for l in range(len(self.W)):
            W = np.zeros((s[l + 1], s[l]), F32)
            r, c = self.W[l].shape
            W[:min(r, s[l + 1]), :min(c, s[l])] = self.W[l][:s[l + 1], :s[l]]
            b = np.zeros(s[l + 1], F32)
            b[:min(r, s[l + 1])] = self.b[l][:s[l + 1]]
            self.W[l], self.b[l] = W, b

    def _grow_momentum(self):
        for l in range(len(self.W)):
            for name, like in (("VW", self.W[l]), ("Vb", self.b[l])):
                old = getattr(self, name)[l]
                new = np.zeros_like(like)
                new[tuple(slice(0, min(a, b)) for a, b in zip(old.shape, like.shape))] = \
                    old[tuple(slice(0, min(a, b)) for a, b in zip(old.shape, like.shape))]
                getattr(self, name)[l] = new

    def _init_rows(self, l, r0, r1, rng):
        n_in = self.sizes[l]
        self.W[l][r0:r1, :] = rng.matrix(r1 - r0, n_in, Rng.init_scale(n_in))
        self.b[l][r0:r1] = 0
        self.VW[l][r0:r1, :] = 0
        self.Vb[l][r0:r1] = 0

    def set_hidden(self, width, rng):
        """Widen every hidden layer to `width` (never narrows); the function is unchanged."""
        if width > self.caps[1]:
            raise ValueError("width %d exceeds max_hidden %d" % (width, self.caps[1]))
        for l in range(1, len(self.sizes) - 1):
            old = self.sizes[l]
            if width <= old:
                continue
            self.sizes[l] = width
            self._resize()
            self._grow_momentum()
            self._init_rows(l - 1, old, width, rng)
            # new units' outgoing weights (columns of layer l) are zero after _resize

    def add_class(self, rng):
        c = self.sizes[-1]
        if c >= self.caps[-1]:
            raise ValueError("this learner holds at most %d classes (max_classes)" % self.caps[-1])
        self.sizes[-1] = c + 1
        self._resize()
        self._grow_momentum()
        self._init_rows(len(self.W) - 1, c, c + 1, rng)

    def reset_momentum(self):
        self.VW = [np.zeros_like(W) for W in self.W]
        self.Vb = [np.zeros_like(b) for b in self.b]

    def activations(self, X):
        """Outputs of every layer (hidden after ReLU, last = logits)."""
        A = []
        h = np.asarray(X, dtype=F32)
        last = len(self.W) - 1
        for l in range(last + 1):
            h = h @ self.W[l].T + self.b[l]
            if l < last:
                h = np.maximum(h, F32(0))
            A.append(h)
        return A

    def forward(self, X):
        return self.activations(X)[-1]

    def predict(self, X):
        out = [np.argmax(self.forward(X[i:i + self.batch]), axis=1) for i in range(0, len(X), self.batch)]
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def gradients(self, X, labels, weights):
        """(loss, [dW], [db]) of the weighted mean cross-entropy on one batch."""
        X = np.asarray(X, dtype=F32)
        A = self.activations(X)
        Z = A[-1]
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        w = np.asarray(weights, dtype=np.float64)
        w = w / w.sum()
        rows = np.arange(len(labels))
        # log-sum-exp(z) - z[label]: no ceiling, so divergence shows in the loss (FORMAT.md 4)
        Z64 = Z.astype(np.float64)
        mx = Z64.max(axis=1)
        lse = mx + np.log(np.exp(Z64 - mx[:, None]).sum(axis=1))
        loss = float((w * (lse - Z64[rows, labels])).sum())
        d = P
        d[rows, labels] -= F32(1)
        d *= w.astype(F32)[:, None]
        gW = [None] * len(self.W)
        gb = [None] * len(self.W)
        for l in range(len(self.W) - 1, -1, -1):
            inp = X if l == 0 else A[l - 1]
            gW[l] = d.T @ inp
            gb[l] = d.sum(axis=0)
            if l > 0:
                d = (d @ self.W[l]) * (A[l - 1] > 0)
        return loss, gW, gb

    def step(self, X, labels, weights, lr, mu):
        """One momentum-SGD step (V = mu V - lr G; W += V); returns the batch loss."""
        loss, gW, gb = self.gradients(X, labels, weights)
        lr, mu = F32(lr), F32(mu)
        for l in range(len(self.W)):
            self.VW[l] = mu * self.VW[l] - lr * gW[l]
            self.W[l] += self.VW[l]
            self.Vb[l] = mu * self.Vb[l] - lr * gb[l]
            self.b[l] += self.Vb[l]
        return loss

    def fit(self, X, labels, weights, epochs, lr, mu, rng, log=None, noise=None):
        """Shuffled mini-batch epochs over the rows of X; returns the last epoch's mean loss.

        The index list persists across epochs and is reshuffled each time, like the board's.
        Momentum starts at zero. Divergence raises ArithmeticError. noise = (n_noisy, table, a):
        a row k < n_noisy gets `a * table[o:o + nf]` added as it enters its batch, with
        o = rng.below(NOISE_WINDOWS) drawn row by row (FORMAT.md 7.4).
        """
        X = np.asarray(X, dtype=F32)
        labels = np.asarray(labels, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.float64)
        n = len(X)
        order = list(range(n))
        loss = 0.0
        self.reset_momentum()
        for e in range(epochs):
            rng.shuffle(order)
            total = 0.0
            batches = 0
            for i in range(0, n, self.batch):
                idx = order[i:i + self.batch]
                Xb = X[idx]
                if noise is not None:
                    _add_noise(Xb, idx, noise, rng)
                total += self.step(Xb, labels[idx], weights[idx], lr, mu)
                batches += 1
            loss = total / batches
            if not loss < LOSS_LIMIT:  # NaN included (FORMAT.md 4)
                raise ArithmeticError("training diverged (loss %r at epoch %d); lower lr" % (loss, e + 1))
            if log is not None:
                log(e + 1, epochs, loss)
        if not all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in zip(self.W, self.b)):
            raise ArithmeticError("training produced non-finite weights; lower lr")
        return loss


def _add_noise(Xb, idx, noise, rng):
    n_noisy, table, a = noise
    nf = Xb.shape[1]
    for r, k in enumerate(idx):
        if k < n_noisy:
            o = rng.below(NOISE_WINDOWS)
            Xb[r] = (Xb[r].astype(np.float64) + a * table[o:o + nf]).astype(F32)


def noise_amplitude(T, factor):
    """FORMAT.md 7.4: factor * r * sqrt(3), r = sqrt(mean over features of the variance of the
    training rows T), so that uniform table values in [-1, 1) give noise of deviation factor * r."""
    T = np.asarray(T, dtype=F32)
    n, nf = T.shape
    mean = T.mean(axis=0, dtype=np.float64).astype(F32).astype(np.float64)
    r2 = float((T.astype(np.float64) ** 2).sum()) / (n * nf) - float((mean ** 2).sum()) / nf
    return factor * sqrt(max(r2, 0.0)) * sqrt(3.0)


def noise_table(nf, rng):
    """NOISE_WINDOWS + nf - 1 draws of uniform(): every offset o < NOISE_WINDOWS starts a window of nf."""
    return np.array([rng.uniform() for _ in range(NOISE_WINDOWS + nf - 1)], dtype=np.float64)


def replay_repeats(counts, n_real, replay_noise):
    """FORMAT.md 7.4: how many times the replay rows pass per epoch: with noise, enough that
    the classes' rows come near the new class's real ones, at most MAX_REPEATS."""
    if replay_noise <= 0 or n_real == 0 or not len(counts) or max(counts) == 0:
        return 1
    return max(1, min(n_real // max(counts), MAX_REPEATS))


# ---- distillation (FORMAT.md section 5) ---------------------------------------------
def herding_order(T, k):
    """Indices of k rows of T whose running mean tracks the class mean (first index wins ties)."""
    T = np.asarray(T, dtype=F32).astype(np.float64)
    mean = T.mean(axis=0)
    acc = np.zeros(T.shape[1])
    free = np.ones(len(T), dtype=bool)
    chosen = []
    for t in range(1, k + 1):
        d = (((mean - (acc + T) / t) ** 2).sum(axis=1))
        d[~free] = np.inf
        i = int(np.argmin(d))
        chosen.append(i)
        free[i] = False
        acc += T[i]
    return chosen


def distill(T, S, rng, iters, embed_dim, lr, mu, log=None):
    """Distribution matching of S (k, f) to T (n, f); returns (S, first loss, last loss)."""
    T = np.asarray(T, dtype=F32)
    S = np.array(S, dtype=F32)
    k, nf = S.shape
    V = np.zeros_like(S)
    lo, hi = T.min(axis=0), T.max(axis=0)
    scale = Rng.init_scale(nf)
    lr, mu = F32(lr), F32(mu)
    first = last = 0.0
    for it in range(iters):
        E = rng.matrix(embed_dim, nf, scale)
        mT = np.maximum(T @ E.T, F32(0)).mean(axis=0, dtype=F32)
        Hs = np.maximum(S @ E.T, F32(0))
        d = Hs.mean(axis=0, dtype=F32) - mT
        loss = float((d.astype(np.float64) ** 2).sum())
        if it == 0:
            first = loss
        last = loss
        if not np.isfinite(loss):
            raise ArithmeticError("distillation diverged (loss %r); lower distill_lr" % (loss,))
        # preconditioned gradient (FORMAT.md section 5): step size independent of k and sizes
        dH = np.where(Hs > 0, d * F32(nf / embed_dim), F32(0)).astype(F32)
        V = mu * V - lr * (dH @ E)
        S += V
        np.clip(S, lo, hi, out=S)  # stay inside the real samples' range (FORMAT.md section 5)
        if log is not None:
            log(it + 1, iters, loss)
    return S, first, last


def distill_class(T, k, rng, hp, log=None):
    """Herding init then distribution matching: the k synthetic samples of one class."""
    S = np.asarray(T, dtype=F32)[herding_order(T, k)]
    if hp["distill_iters"] <= 0:
        return S.copy(), 0.0, 0.0
    return distill(T, S, rng, hp["distill_iters"], hp["embed_dim"], hp["distill_lr"],
                   hp["distill_momentum"], log)


# ---- replay set (FORMAT.md section 6) -------------------------------------------------
def sample_bytes(n_features):
    return n_features + 4


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


def board_ram(n_inputs, n_features, max_hidden, max_classes, n_layers=1, batch=16, memory_bytes=6400,
              max_per_class=10, embed_dim=32, max_samples=BOARD_MAX_SAMPLES, widest_frontend=0, val_every=5,
              replay_noise=0.0):
    """Bytes of the buffers a board's Learner allocates, by FORMAT.md section 8 (front-end and
    interpreter overhead excluded): {"net", "replay", "input", "learn_class", "total"}."""
    nf, b, S = n_features, batch, max_samples
    caps = [nf] + [max_hidden] * n_layers + [max_classes]
    outs = caps[1:]
    net = 4 * (2 * sum(o * i + o for o, i in zip(outs, caps)) + b * sum(outs) + b * sum(outs[:-1]) + b * nf)
    cap = memory_bytes // sample_bytes(nf)
    replay = cap * (nf + 4 + 2)
    inp = 4 * (2 * n_inputs + max(n_inputs, nf, widest_frontend) + max(nf, widest_frontend))
    ve = val_every
    k, ch = min(max_per_class, max(train_rows(S, ve), train_rows(min(S, 2 * ve - 1), ve))), min(8, embed_dim)
    distiller = 4 * (ch * nf + 2 * k * ch + 2 * ch + 3 * k * nf + 2 * nf) + 8 * 3 * nf
    order, noise = cap + S, 0
    if replay_noise > 0:   # 7.4: the replay rows repeated, and the noise table
        order, noise = max(cap, min(MAX_REPEATS * cap, S * max_classes)) + S, 4 * (NOISE_WINDOWS + nf - 1)
    work = 4 * S * nf + 2 * (order + 2 * (cap + S)) + 4 * nf + noise + distiller
    return {"net": net, "replay": replay, "input": inp, "learn_class": work, "total": net + replay + inp + work}


class Replay:
    """int8 samples with a float32 scale each, grouped by class in insertion order."""

    def __init__(self, n_features, budget_bytes, max_per_class=10):
        self.n_features = n_features
        self.budget = budget_bytes
        self.max_per_class = max_per_class
        self.capacity = budget_bytes // sample_bytes(n_features)
        self.samples = Samples(np.zeros(0), np.zeros(0), np.zeros((0, n_features)))

    @property
    def n(self):
        return len(self.samples.cls)

    @property
    def cls(self):
        return self.samples.cls

    def bytes_used(self):
        return self.n * sample_bytes(self.n_features)

    def count(self, c):
        return int((self.samples.cls == c).sum())

    def quota(self, n_classes):
        if n_classes <= 0:
            return self.max_per_class
        return min(self.max_per_class, self.capacity // n_classes)

    def shrink_to(self, quota):
        """Keep the first `quota` samples of every class (a prefix, in herding order)."""
        keep = []
        seen = {}
        for i, c in enumerate(self.samples.cls.tolist()):
            if seen.get(c, 0) < quota:
                seen[c] = seen.get(c, 0) + 1
                keep.append(i)
        s = self.samples
        self.samples = Samples(s.cls[keep], s.scale[keep], s.q[keep])

    def add(self, c, S):
        """Quantize the rows of S and append them as samples of class c."""
        if self.n + len(S) > self.capacity:
            raise ValueError("replay budget full: %d + %d samples > %d" % (self.n, len(S), self.capacity))
        scale, q = quantize_rows(S)
        s = self.samples
        self.samples = Samples(np.concatenate([s.cls, np.full(len(S), c)]),
                               np.concatenate([s.scale, scale]), np.concatenate([s.q, q]))

    def values(self):
        return self.samples.values()


# ---- the learner (FORMAT.md section 7) --------------------------------------------
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
