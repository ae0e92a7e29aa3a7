"""The class-incremental run: a data set's train/validation split and seeded class orders, the
base every method starts from (prepared by `prepare.prepare_learner`), one method's run through
the new classes with scores after every step, and the summary over class orders."""
import time

import numpy as np

from .. import datasets, prepare
from .budget import budget_bytes, learner_defaults
from .methods import RandomExemplarLearner
from .settings import N_BASE, UNLABELLED_ROWS, VAL_FRACTION, VARIANTS


def n_base(st, n_classes):
    """How many classes of a data set's order the base learner is prepared on: the settings'
    `base_classes` (a count, or "half" for the B50 protocol), at least 2 and leaving one to learn."""
    want = st.get("base_classes", N_BASE)
    n = n_classes // 2 if want == "half" else int(want)
    return max(2, min(n, n_classes - 1))


class Split:
    """One data set cut for the benchmark: train/validation carved from the training split."""

    def __init__(self, D, seed, nf):
        self.D = D
        self.nf = nf            # features the learner stores per replay sample
        self.Xtr, self.ytr, self.Xval, self.yval = datasets.validation_split(D.X_train, D.y_train, VAL_FRACTION, seed)
        self.n_train_full = len(D.y_train)
        self.seed = seed
        self._unlabelled = None

    def unlabelled_rows(self):
        """A seeded subsample of UNLABELLED_ROWS training rows of every class, labels dropped: what
        a --frontend-fit unlabelled PCA sees (the PCA needs a few thousand rows, not the whole
        split). Drawn once: every base of the run fits its front-end on the same rows."""
        if self._unlabelled is None:
            pick = np.random.default_rng(self.seed + 5).permutation(len(self.Xtr))[:UNLABELLED_ROWS]
            self._unlabelled = self.Xtr[np.sort(pick)]
        return self._unlabelled

    def order(self, k, seed):
        rng = np.random.default_rng(seed * 1000 + k)
        return [int(c) for c in rng.permutation(len(self.D.classes))]

    def pick(self, c, n, seed):
        idx = np.flatnonzero(self.ytr == c)
        rng = np.random.default_rng(seed * 7919 + c)
        return self.Xtr[rng.permutation(idx)[:n]]


class Base:
    """What every method of one (data set, order, memory) run starts from."""

    def __init__(self, split, order, percent, st, hyper):
        D = split.D
        self.name = D.name
        self.class_names = list(D.classes)
        self.order = order
        self.n_base = n_base(st, len(D.classes))
        self.base_classes = order[:self.n_base]
        self.new_classes = order[self.n_base:]
        self.percent = percent
        self.hyper = dict(hyper)
        self.hyper.setdefault("memory_bytes", budget_bytes(split.n_train_full, split.nf, percent))
        seed = st["seed"]
        self.base_X = {c: split.pick(c, st["base_per_class"], seed) for c in self.base_classes}
        self.new_X = {c: split.pick(c, st["new_per_class"], seed + 1) for c in self.new_classes}
        # "unlabelled": the front-end sees every class's training rows, without their labels
        self.frontend_rows = split.unlabelled_rows() if st.get("frontend_fit") == "unlabelled" else None
        self.frontend_kind = st.get("frontend_kind", "pca")
        self.n_inputs = D.n_features
        self.n_train_full = split.n_train_full
        self.n_classes = len(D.classes)
        self.prepared = {}
        self.summaries = {}

    # set by prepare(): feature map shared by every method
    def features(self, X):
        return self.lrn0.features(X)


def prepare_bases(base, split, st, nf_out, variants):
    """The prepared base learners (one per variant) from `prepare.prepare_learner` on the base
    classes' subsampled training rows (it carves its own validation part from them)."""
    D = split.D
    Xb = np.concatenate([base.base_X[c] for c in base.base_classes])
    yb = np.concatenate([np.full(len(base.base_X[c]), c) for c in base.base_classes])
    te = np.isin(D.y_test, base.base_classes)
    sub = datasets.Dataset(D.name, Xb, yb, D.X_test[te], D.y_test[te], list(D.classes), D.input_shape)
    first = None
    for v in variants:
        opts = dict(base.hyper)
        opts.update(VARIANTS[v])
        lrn, summary = _prepare(sub, base, nf_out, opts)
        base.prepared[v] = lrn
        base.summaries[v] = summary
        if first is None:
            first = lrn
    base.lrn0 = first
    base.n_features = first.n_features
    base.frontend_flops = first.frontend_flops()
    base.memory_bytes = first.replay.budget
    base.capacity = first.replay.capacity
    return base


def _prepare(sub, base, nf_out, opts):
    fixed = opts.pop("fixed", False)
    exemplars = opts.pop("exemplars", "distilled")
    if fixed:
        opts["min_hidden"] = opts["max_hidden"]
    yb = sub.y_train
    try:
        summary, lrn = prepare.prepare_learner(
            sub, [int(c) for c in base.base_classes], None, frontend_kind=base.frontend_kind if nf_out else "none",
            features=nf_out or 32, frontend_rows=base.frontend_rows, seed=1, **opts)
    except prepare.PrepareError as e:
        raise ValueError("prepare: %s" % e)
    if exemplars == "random":
        remap = {c: i for i, c in enumerate(base.base_classes)}
        lrn = RandomExemplarLearner.from_learner(lrn, sub.X_train, np.array([remap[int(c)] for c in yb]))
    return lrn, summary


def run_protocol(method, base, X_eval, y_eval, extra_eval=None):
    """Scores after the base and after every new class: per-class accuracy matrix + summary."""
    t0 = time.time()
    method.start()
    steps = []
    hidden = []
    steps.append(_scores(method, base, X_eval, y_eval, extra_eval))
    hidden.append(method.stats().get("hidden", []))
    for c in base.new_classes:
        method.learn(c, base.new_X[c])
        steps.append(_scores(method, base, X_eval, y_eval, extra_eval))
        hidden.append(method.stats().get("hidden", []))
    out = summarise(steps, base.order)
    st = method.stats()
    out.update({
        "inference_flops": st["inference_flops"], "frontend_flops": base.frontend_flops,
        "train_flops": int(method.train_flops), "params": st["params"], "replay_bytes": st["replay_bytes"],
        "hidden_steps": hidden, "seconds": round(time.time() - t0, 2),
    })
    for k in ("k", "notes"):
        if k in st:
            out[k] = st[k]
    return out


def _scores(method, base, X, y, extra):
    seen = base.base_classes if not method.classes else method.classes
    mask = np.isin(y, seen)
    res = {}
    preds = method.predict_all(X[mask]) if hasattr(method, "predict_all") else {"": method.predict(X[mask])}
    for key, p in preds.items():
        per = {int(c): float((p[y[mask] == c] == c).mean()) for c in seen}
        res[key] = {"acc": float((p == y[mask]).mean()), "per_class": per}
    if extra is not None and hasattr(method, "predict_all"):
        Xv, yv = extra
        m = np.isin(yv, seen)
        pv = method.predict_all(Xv[m]) if hasattr(method, "predict_all") else {"": method.predict(Xv[m])}
        for key, p in pv.items():
            res[key]["val_acc"] = float((p == yv[m]).mean())
    return res


def summarise(steps, order):
    """Per key (kNN has one per k): accuracies after each step, final, average incremental,
    forgetting (mean over all but the last class of best earlier accuracy minus final)."""
    out = {}
    for key in steps[0]:
        accs = [s[key]["acc"] for s in steps]
        per = [s[key]["per_class"] for s in steps]
        final = per[-1]
        forg = []
        for c in order[:-1]:
            earlier = [p[c] for p in per[:-1] if c in p]
            if earlier:
                forg.append(max(earlier) - final[c])
        d = {"acc_steps": accs, "final_acc": accs[-1], "avg_inc_acc": float(np.mean(accs)),
             "forgetting": float(np.mean(forg)) if forg else 0.0,
             "final_per_class": {str(c): v for c, v in final.items()}}
        if "val_acc" in steps[-1][key]:
            d["final_val_acc"] = steps[-1][key]["val_acc"]
        out[key] = d
    if list(out) == [""]:
        return out[""]
    return {"by_key": out}


# what aggregate averages over the class orders (mean and spread)
METRICS = ("final_acc", "avg_inc_acc", "forgetting", "inference_flops", "train_flops", "params", "replay_bytes")


def aggregate(runs):
    agg = {}
    for m in METRICS:
        v = np.array([r[m] for r in runs], dtype=float)
        agg[m] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}
    steps = np.array([r["acc_steps"] for r in runs], dtype=float)
    agg["acc_steps"] = {"mean": steps.mean(0).tolist(), "std": (steps.std(0, ddof=1) if len(steps) > 1
                                                                 else np.zeros(steps.shape[1])).tolist()}
    agg["total_inference_flops"] = {"mean": agg["inference_flops"]["mean"] + runs[0]["frontend_flops"]}
    return agg


def as_run(D, st, info):
    """(defaults, front-end size, Split) of a data set as its main run used them: with the
    front-end size select_features chose, recorded in the run's info (an older results.json
    without it: the default size)."""
    defaults, nf_out, nf = learner_defaults(D, st, info.get("frontend_features"))
    return defaults, nf_out, Split(D, st["seed"], nf)
