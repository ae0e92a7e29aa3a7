"""`tinycil bench`: the paper's class-incremental protocol on the shared data sets, with baselines.

Protocol (per data set and class order): the first two classes of a seeded order are the
base classes, prepared on the host (`prepare.prepare_learner`: input scaling, front-end,
size search, distilled replay); then every further class arrives once, as on the board,
with `--new-per-class` real samples (one `learn_class` call). After the base and after every
step each method is scored on the test split of the classes seen so far.

Every method stores the same bytes (`--memory-percent` of the training set, see
`budget_bytes`) and trains with the same hyperparameters (lr, epochs chosen on a validation
split carved from the training data, never on the test split).
"""
import copy
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import REPO, baselines, datasets
from . import reference as ref
from .cli import CliError

ALL_DATASETS = ("mnist", "har_raw", "speech_commands_v2_12cls", "fsdd_logmel", "cifar10_jpg_subset", "digits")
LEARNER_METHODS = ("ours", "fixed", "random", "herding")
METHODS = LEARNER_METHODS + ("knn", "ncm", "naive", "joint")
SWEEP = (0.5, 1.0, 2.0)
SWEEP_METHODS = ("ours", "fixed", "random", "herding", "knn")
KNN_K = (1, 3, 5)
SELECTABLE = ("lr", "epochs", "distill_lr", "replay_noise")
TOLERANCES = (0.02, 0.05, 0.1, 0.2, 0.4, 1.0)   # growth target = fixed base val. accuracy - tolerance
GROW_STEPS = (8, 16)   # widening per growth step, chosen with the tolerance
MIN_HIDDENS = (8, 16, 32)   # where prepare's size search starts (the narrowest base), chosen with them
SELECT_ORDERS = 3   # class orders averaged when the growth target is chosen on validation
RAM_LIMIT = 96 * 1024
WIDTHS = (64, 48, 32, 24, 16)   # max_hidden candidates, widest first
CURVE_WIDTHS = (8, 16, 24, 32, 48)   # fixed widths tried on validation below max_hidden (width_curve)
FLASH_LIMIT = 256 * 1024
N_BASE = 2
VAL_FRACTION = 0.2

# front-end output size per data set before select_features (None: the raw inputs are small
# enough to train on)
N_FEATURES = {"digits": None, "mnist": 32, "har_raw": 32, "speech_commands_v2_12cls": 32,
              "fsdd_logmel": 32, "cifar10_jpg_subset": 32}
FEATURE_CHOICES = (8, 16, 24, 32)   # front-end output sizes tried on validation (select_features)
NOT_AVAILABLE = {"core50": "CORe50 (128x128 video frames of 50 objects, several GB) is not available offline "
                           "(see ../shared/data/README.md, 'Not obtained'); it is not benchmarked."}


def add_arguments(p):
    p.add_argument("--dataset", action="append", metavar="NAME",
                   help="data set to run (repeatable); default: all of %s" % ", ".join(ALL_DATASETS))
    p.add_argument("--orders", type=int, default=3, help="seeded class orders (default 3)")
    p.add_argument("--memory-percent", type=float, default=1.0,
                   help="replay bytes as a percentage of the training set (default 1)")
    p.add_argument("--sweep", default="0.5,1,2",
                   help="memory percentages for the sweep (comma list; 'none' to skip; default 0.5,1,2)")
    p.add_argument("--base-per-class", type=int, default=300, help="training samples per base class (default 300)")
    p.add_argument("--new-per-class", type=int, default=50,
                   help="samples given to each learn_class call (default 50, at most 200)")
    p.add_argument("--select", default="lr=0.02,0.05;epochs=20,40;distill_lr=0.1,1;replay_noise=0,0.5",
                   help="hyperparameter grid chosen on the validation split ('none': board defaults)")
    p.add_argument("--device-repeat", default="digits",
                   help="data set repeated with the device code under MicroPython ('none' to skip)")
    p.add_argument("--data", help="folder of the shared data sets (default $TINYCIL_DATA or ../shared/data)")
    p.add_argument("--seed", type=int, default=0, help="seed of the class orders and subsamples")
    p.add_argument("--quick", action="store_true",
                   help="digits, one order, 1 %% only, no selection or device repeat: checks the pipeline")
    p.add_argument("--out", required=True, help="output folder (report.md, results.json, *.png)")


# ---- settings ------------------------------------------------------------------------
def settings_from(args):
    s = {
        "datasets": list(args.dataset or ALL_DATASETS), "orders": args.orders,
        "memory_percent": args.memory_percent, "base_per_class": args.base_per_class,
        "new_per_class": args.new_per_class, "seed": args.seed,
        "sweep": _floats(args.sweep), "select": _grid(args.select),
        "device_repeat": None if args.device_repeat in ("none", "") else args.device_repeat,
        "quick": bool(args.quick),
    }
    if args.quick:
        s.update(datasets=list(args.dataset or ["digits"]), orders=1, sweep=[], select={},
                 device_repeat=None, base_per_class=min(args.base_per_class, 100),
                 new_per_class=min(args.new_per_class, 60))
    if s["orders"] < 1:
        raise CliError("--orders must be at least 1")
    if not 3 <= s["new_per_class"] <= ref.MAX_SAMPLES:
        raise CliError("--new-per-class must be 3..%d (one learn_class call)" % ref.MAX_SAMPLES)
    if s["memory_percent"] <= 0:
        raise CliError("--memory-percent must be positive")
    for d in s["datasets"]:
        if d.lower() == "core50":
            raise CliError(NOT_AVAILABLE["core50"])
        if d not in ALL_DATASETS:
            raise CliError("unknown data set %r: choose from %s" % (d, ", ".join(ALL_DATASETS)))
    return s


def _floats(text):
    if text in (None, "", "none"):
        return []
    try:
        return sorted({float(v) for v in text.split(",")})
    except ValueError:
        raise CliError("--sweep takes a comma list of percentages, e.g. 0.5,1,2")


def _grid(text):
    if text in (None, "", "none"):
        return {}
    grid = {}
    try:
        for part in text.split(";"):
            k, v = part.split("=")
            grid[k.strip()] = [int(x) if k.strip() == "epochs" else float(x) for x in v.split(",")]
    except ValueError:
        raise CliError("--select looks like 'lr=0.02,0.05;epochs=20,40'")
    for k in grid:
        if k not in SELECTABLE:
            raise CliError("--select chooses %s only, not %r" % (", ".join(SELECTABLE), k))
    return grid


# ---- data ----------------------------------------------------------------------------
class Split:
    """One data set cut for the benchmark: train/validation carved from the training split."""

    def __init__(self, D, seed, nf):
        self.D = D
        self.nf = nf            # features the learner stores per replay sample
        self.Xtr, self.ytr, self.Xval, self.yval = datasets.validation_split(D.X_train, D.y_train, VAL_FRACTION, seed)
        self.n_train_full = len(D.y_train)

    def order(self, k, seed):
        rng = np.random.default_rng(seed * 1000 + k)
        return [int(c) for c in rng.permutation(len(self.D.classes))]

    def pick(self, c, n, seed):
        idx = np.flatnonzero(self.ytr == c)
        rng = np.random.default_rng(seed * 7919 + c)
        return self.Xtr[rng.permutation(idx)[:n]]


def budget_bytes(n_train, n_features, percent):
    """`percent` of the training set as the board stores replay samples: every training sample
    as int8 values in the learner's input space (after the front-end) plus a float32 scale."""
    return int(n_train * baselines.sample_bytes(n_features) * percent / 100.0)


def ram_estimate(n_inputs, n_features, max_hidden, max_classes, hp, n_new, memory_bytes):
    """Bytes of the buffers a board allocates for the trainable part and one learn_class call
    (reference.board_ram, FORMAT.md section 8, checked against the device code by
    tests/test_ram.py) for a learner taking n_new samples per call (max_samples = n_new);
    interpreter overhead, the front-end and the caller's raw samples are excluded (the
    last listed separately)."""
    ram = ref.board_ram(n_inputs, n_features, max_hidden, max_classes, batch=hp["batch"],
                        replay_noise=hp.get("replay_noise", 0.0),
                        memory_bytes=memory_bytes, max_per_class=hp["max_per_class"], embed_dim=hp["embed_dim"],
                        max_samples=n_new)
    ram["raw_samples_f32"] = 4 * n_new * n_inputs
    return ram


# ---- the base ------------------------------------------------------------------------
class Base:
    """What every method of one (data set, order, memory) run starts from."""

    def __init__(self, split, order, percent, st, hyper):
        D = split.D
        self.name = D.name
        self.class_names = list(D.classes)
        self.order = order
        self.base_classes = order[:N_BASE]
        self.new_classes = order[N_BASE:]
        self.percent = percent
        self.hyper = dict(hyper)
        self.hyper.setdefault("memory_bytes", budget_bytes(split.n_train_full, split.nf, percent))
        seed = st["seed"]
        self.base_X = {c: split.pick(c, st["base_per_class"], seed) for c in self.base_classes}
        self.new_X = {c: split.pick(c, st["new_per_class"], seed + 1) for c in self.new_classes}
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


# learner options per variant (on top of the shared hyperparameters)
VARIANTS = {
    "ours": {},
    "fixed": {"fixed": True},
    "herding": {"fixed": True, "distill_iters": 0},
    "random": {"fixed": True, "exemplars": "random"},
}


def _prepare(sub, base, nf_out, opts):
    from . import prepare
    fixed = opts.pop("fixed", False)
    exemplars = opts.pop("exemplars", "distilled")
    if fixed:
        opts["min_hidden"] = opts["max_hidden"]
    yb = sub.y_train
    try:
        summary, lrn = prepare.prepare_learner(
            sub, [int(c) for c in base.base_classes], None, frontend_kind="pca" if nf_out else "none",
            features=nf_out or 32, seed=1, **opts)
    except CliError as e:
        raise ValueError("prepare: %s" % e)
    if exemplars == "random":
        remap = {c: i for i, c in enumerate(base.base_classes)}
        lrn = baselines.RandomExemplarLearner.from_learner(lrn, sub.X_train, np.array([remap[int(c)] for c in yb]))
    return lrn, summary


# ---- running one method ----------------------------------------------------------------
def make_method(name, base, hyper):
    if name in LEARNER_METHODS:
        return baselines.LearnerMethod(base, name)
    if name == "knn":
        return baselines.KNNMethod(base)
    if name == "ncm":
        return baselines.NCMMethod(base)
    if name == "naive":
        return baselines.NaiveMethod(base, hyper)
    if name == "joint":
        return baselines.JointMethod(base, hyper)
    raise ValueError(name)


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
    seen = base.order[:N_BASE] if not method.classes else method.classes
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


def _pick_knn(runs):
    """kNN: the k with the best final validation accuracy over the orders (validation split)."""
    best = max(KNN_K, key=lambda k: (np.mean([r["by_key"][str(k)]["final_val_acc"] for r in runs]), -k))
    out = []
    for r in runs:
        d = dict(r["by_key"][str(best)])
        for key in ("inference_flops", "frontend_flops", "train_flops", "params", "replay_bytes",
                    "hidden_steps", "seconds"):
            d[key] = r[key]
        d["k"] = best
        d["val_acc_by_k"] = {str(k): r["by_key"][str(k)]["final_val_acc"] for k in KNN_K}
        out.append(d)
    return out


# ---- aggregation ---------------------------------------------------------------------
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


# ---- hyperparameter selection on the validation split -------------------------------
def select_hyper(split, st, defaults, nf_out, bar):
    """lr, epochs and distill_lr of the fixed network (distilled replay), by final validation
    accuracy of order 0 at the main memory budget; every network method then uses them."""
    import itertools
    grid = st["select"]
    if not grid:
        return dict(defaults), []
    keys = [k for k in SELECTABLE if k in grid]
    trials = []
    order = split.order(0, st["seed"])
    for combo in itertools.product(*[grid[k] for k in keys]):
        hyper = dict(defaults, **dict(zip(keys, combo)))
        base = Base(split, order, st["memory_percent"], st, hyper)
        t = dict(zip(keys, combo))
        try:
            prepare_bases(base, split, st, nf_out, ["fixed"])
            r = run_protocol(baselines.LearnerMethod(base, "fixed"), base, split.Xval, split.yval)
            t.update(val_final_acc=r["final_acc"], val_avg_inc_acc=r["avg_inc_acc"])
        except (ValueError, ArithmeticError) as e:
            t.update(val_final_acc=-1.0, val_avg_inc_acc=-1.0, error=str(e)[:200])
        trials.append(t)
        bar.update(1, "%s select %s" % (split.D.name, " ".join("%s=%g" % kv for kv in zip(keys, combo))))
    best = max(trials, key=lambda t: (round(t["val_final_acc"], 6), round(t["val_avg_inc_acc"], 6),
                                      -t.get("epochs", 0)))
    return dict(defaults, **{k: best[k] for k in keys}), trials


def select_features(D, st, hyper, trials, bar, choices=FEATURE_CHOICES):
    """The front-end's output size (PCA components), for data sets that have a front-end: the
    one giving the fixed network the best final validation accuracy (mean over the first
    SELECT_ORDERS class orders; ties go to fewer features), with the hyperparameters
    select_hyper chose. Every method then uses it, so it is part of the shared feature map,
    not of ours' model size. A size changes what fits: the replay budget stays 1 % of the
    samples (fewer bytes each) and max_hidden is again the widest whose buffers fit RAM_LIMIT.
    Returns (chosen size, trials); (default, []) without a front-end or without selection."""
    default = learner_defaults(D, st)[1]
    if not trials:
        return default, []
    if not default:
        bar.update(len(choices))
        return default, []
    cands = []
    for k in choices:
        d, nf_out, nf = learner_defaults(D, st, k)
        split = Split(D, st["seed"], nf)
        h = dict(hyper, max_hidden=d["max_hidden"], max_per_class=d["max_per_class"])
        t = {"n_features": k, "max_hidden": d["max_hidden"]}
        try:
            acc, flops, _ = validation_run(split, st, validation_orders(split, st), "fixed", h, nf_out)
            t.update(val_final_acc=acc, inference_flops=flops)
        except (ValueError, ArithmeticError) as e:
            t.update(val_final_acc=-1.0, inference_flops=float("inf"), error=str(e)[:200])
        cands.append(t)
        bar.update(1, "%s features: %d" % (D.name, k))
    best = max(cands, key=lambda t: (round(t["val_final_acc"], 6), -t["n_features"]))
    best["chosen"] = True
    return best["n_features"], cands


def select_target(split, st, hyper, nf_out, trials, bar):
    """The growth rule of `ours`: the growth target (as prepare's tolerance below the fixed base
    model's validation accuracy), the grow_step and min_hidden (the width prepare's size search
    starts from), the triple giving `ours` the fewest final inference FLOPs while its final
    validation accuracy stays within 1 point of the fixed network's. When none gets there,
    width is not buying back that gap: the fewest FLOPs within 1 point of the best validation
    accuracy any triple gives `ours`. Means over the first SELECT_ORDERS class orders
    (validation split): one order's validation accuracy is too noisy to trade points for
    FLOPs. min_hidden is in the search because a network grown from 8 units can end below
    one that started wider: units added on the board never see the base classes' real
    samples, only their distilled ones (bench/discussion.md)."""
    if not trials:
        return dict(hyper), []
    orders = validation_orders(split, st)

    def val_run(method, h):
        return validation_run(split, st, orders, method, h, nf_out)

    fixed_val, fixed_flops, _ = val_run("fixed", hyper)
    bar.update(1, "%s target: fixed" % split.D.name)
    cands = []
    for mh in MIN_HIDDENS:
        for step in GROW_STEPS:
            for tol in TOLERANCES:
                if mh >= hyper["max_hidden"]:
                    bar.update(1)
                    continue
                t = {"min_hidden": mh, "grow_step": step, "tolerance": tol, "fixed_val_acc": fixed_val,
                     "fixed_inference_flops": fixed_flops}
                try:
                    acc, flops, target = val_run("ours", dict(hyper, tolerance=tol, grow_step=step, min_hidden=mh))
                    t.update(val_final_acc=acc, inference_flops=flops, target=target)
                except (ValueError, ArithmeticError) as e:
                    t.update(val_final_acc=-1.0, inference_flops=float("inf"), error=str(e)[:200])
                cands.append(t)
                bar.update(1, "%s target: min_hidden %d grow_step %d tolerance %g" % (split.D.name, mh, step, tol))
    best = cheapest_within_a_point(cands, fixed_val)
    return dict(hyper, tolerance=best["tolerance"], grow_step=best["grow_step"], min_hidden=best["min_hidden"]), cands


def validation_orders(split, st):
    return [split.order(k, st["seed"]) for k in range(min(st["orders"], SELECT_ORDERS))]


def validation_run(split, st, orders, method, h, nf_out):
    """(mean final validation accuracy, mean inference FLOPs, growth target) of `method` with
    hyperparameters h over the class orders."""
    accs, flops = [], []
    for order in orders:
        base = Base(split, order, st["memory_percent"], st, h)
        prepare_bases(base, split, st, nf_out, [method])
        r = run_protocol(baselines.LearnerMethod(base, method), base, split.Xval, split.yval)
        accs.append(r["final_acc"])
        flops.append(r["inference_flops"])
    return float(np.mean(accs)), float(np.mean(flops)), base.prepared[method].target


def width_curve(split, st, hyper, nf_out, target_trials, bar):
    """The fixed network's validation accuracy at every width of CURVE_WIDTHS below max_hidden
    (same orders, hyperparameters and budget as the growth rule's choice), plus max_hidden itself
    from select_target's fixed run: how much accuracy each width buys on this data set."""
    known = [t for t in target_trials if "fixed_val_acc" in t]
    if not known:
        return []
    orders = validation_orders(split, st)
    curve = []
    for H in CURVE_WIDTHS:
        if H >= hyper["max_hidden"]:
            bar.update(1)
            continue
        try:
            acc, flops, _ = validation_run(split, st, orders, "fixed", dict(hyper, max_hidden=H), nf_out)
            curve.append({"max_hidden": H, "val_final_acc": acc, "inference_flops": flops})
        except (ValueError, ArithmeticError) as e:
            curve.append({"max_hidden": H, "val_final_acc": -1.0, "inference_flops": float("inf"), "error": str(e)[:200]})
        bar.update(1, "%s width curve: fixed at %d" % (split.D.name, H))
    curve.append({"max_hidden": hyper["max_hidden"], "val_final_acc": known[0]["fixed_val_acc"],
                  "inference_flops": known[0]["fixed_inference_flops"]})
    return curve


def narrowest_within_a_point(curve):
    """The fixed width with the fewest FLOPs whose validation accuracy is within 1 point of the
    widest's (the last entry): the best any rule that settles on one width per data set could do
    on validation, knowing the answer in advance. Returns (entry, FLOPs ratio to the widest)."""
    if not curve:
        return None, None
    widest = curve[-1]
    ok = [c for c in curve if c["val_final_acc"] >= widest["val_final_acc"] - 0.01]
    best = min(ok, key=lambda c: c["inference_flops"])
    return best, best["inference_flops"] / widest["inference_flops"]


def cheapest_within_a_point(cands, fixed_val):
    """The candidate with the fewest inference FLOPs whose validation accuracy is within 1 point
    of fixed's, else within 1 point of the best candidate's; ties go to the more accurate. The
    rule that chose is written into it as "chosen"."""
    ok = [t for t in cands if t["val_final_acc"] >= fixed_val - 0.01]
    rule = "within 1 point of fixed (%.3f)" % fixed_val
    if not ok:
        best_ours = max(t["val_final_acc"] for t in cands)
        ok = [t for t in cands if t["val_final_acc"] >= best_ours - 0.01]
        rule = "nothing within 1 point of fixed (%.3f): within 1 point of ours' best" % fixed_val
    best = min(ok, key=lambda t: (t["inference_flops"], -t["val_final_acc"]))
    best["chosen"] = rule
    return best


def as_run(D, st, info):
    """(defaults, front-end size, Split) of a data set as its main run used them: with the
    front-end size select_features chose, recorded in the run's info (an older results.json
    without it: the default size)."""
    defaults, nf_out, nf = learner_defaults(D, st, info.get("frontend_features"))
    return defaults, nf_out, Split(D, st["seed"], nf)


def learner_defaults(D, st, nf_out=None):
    """Widths from the board's RAM budget (not tuned): the widest max_hidden in WIDTHS
    whose buffers fit RAM_LIMIT; min_hidden 8 and grow_step 8 (select_target picks others); the board's other defaults.
    nf_out: the front-end's output size (default N_FEATURES; select_features picks another)."""
    nf_out = nf_out or N_FEATURES.get(D.name, 32 if D.n_features > 128 else None)
    nf = nf_out or D.n_features
    hp = dict(ref.HYPER)
    n_classes = len(D.classes)
    mem = budget_bytes(len(D.y_train), nf, st["memory_percent"])
    # max_per_class never binds before the byte budget does (any sweep size)
    cap = budget_bytes(len(D.y_train), nf, max([st["memory_percent"]] + st["sweep"])) // baselines.sample_bytes(nf)
    hp["max_per_class"] = max(1, min(ref.MAX_SAMPLES, cap))
    # the width must fit whichever replay_noise validation picks (noise takes a little more RAM)
    fit = dict(hp, replay_noise=max([hp["replay_noise"]] + list(st["select"].get("replay_noise", []))))
    for H in WIDTHS:
        if ram_estimate(D.n_features, nf, H, n_classes, fit, st["new_per_class"], mem)["total"] <= RAM_LIMIT:
            break
    d = {"max_hidden": H, "min_hidden": 8, "grow_step": 8, "max_classes": n_classes,
         "lr": hp["lr"], "epochs": hp["epochs"], "distill_lr": 0.1, "max_per_class": hp["max_per_class"],
         "replay_noise": hp["replay_noise"]}
    return d, nf_out, nf


# ---- the device-code repeat ------------------------------------------------------------
DEVICE_SCRIPT = r"""
import sys, json
sys.path.insert(0, '')
import tinycil
data = sys.argv[1]
l = tinycil.load(data + '/learner', verbose=False)
f = open(data + '/stream.jsonl')
test = json.loads(f.readline())
out = []
def score():
    hit = 0
    pred = []
    for x in test['X']:
        pred.append(l.predict(x))
    return pred
out.append({'step': 0, 'pred': score()})
while True:
    line = f.readline()
    if not line:
        break
    item = json.loads(line)
    r = l.learn_class(item['label'], item['X'], verbose=False)
    out.append({'step': len(out), 'pred': score(), 'hidden': r['hidden'], 'accuracy': r['accuracy']})
    print(json.dumps(out[-1]))
"""


def device_repeat(split, st, hyper, nf_out, out_dir, n_new, n_test):
    """Run `ours` for order 0 twice from the same prepared base file and the same samples: the
    device package under the unix MicroPython port (pure backend; and $MICROPYTHON when it names
    a ulab build) and the NumPy reference; compare accuracies after every step."""
    from . import mpy
    st2 = dict(st, new_per_class=n_new)
    order = split.order(0, st["seed"])
    base = Base(split, order, st["memory_percent"], st2, hyper)
    prepare_bases(base, split, st2, nf_out, ["ours"])
    lrn = base.prepared["ours"]
    rng = np.random.default_rng(st["seed"] + 99)
    seen_all = np.isin(split.D.y_test, order)
    idx = np.flatnonzero(seen_all)
    idx = np.sort(rng.permutation(idx)[:n_test])
    Xt, yt = split.D.X_test[idx], split.D.y_test[idx]
    res = {"dataset": split.D.name, "order": order, "new_per_class": n_new, "test_rows": int(len(yt)), "runs": {}}
    # NumPy reference
    t0 = time.time()
    l = copy.deepcopy(lrn)
    names = l.classes
    ref_steps = [_step_acc(l.classes, [names[i] for i in l.predict_batch(Xt)], yt, split.D.classes, order[:2])]
    for c in base.new_classes:
        l.learn_class(split.D.classes[c], base.new_X[c])
        ref_steps.append(_step_acc(l.classes, [l.classes[i] for i in l.predict_batch(Xt)], yt, split.D.classes,
                                   order[:N_BASE + len(ref_steps)]))
    res["runs"]["numpy"] = {"acc_steps": ref_steps, "seconds": round(time.time() - t0, 1),
                            "hidden": list(l.net.hidden)}
    interps = [("pure", None)]
    if mpy.ulab_interpreter():
        interps.append(("ulab", mpy.ulab_interpreter()))
    with tempfile.TemporaryDirectory() as tmp:
        lrn.save(os.path.join(tmp, "learner"))
        with open(os.path.join(tmp, "stream.jsonl"), "w") as f:
            f.write(json.dumps({"X": Xt.tolist()}) + "\n")
            for c in base.new_classes:
                f.write(json.dumps({"label": split.D.classes[c], "X": base.new_X[c].tolist()}) + "\n")
        script = os.path.join(tmp, "run.py")
        with open(script, "w") as f:
            f.write(DEVICE_SCRIPT)
        for label, interp in interps:
            t0 = time.time()
            try:
                backend = mpy.backend_of(interp)
                r = mpy.run(script, args=[tmp], interpreter=interp, timeout=1800)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
                res["runs"][label] = {"error": str(e)}
                continue
            if r.returncode != 0:
                res["runs"][label] = {"error": r.stderr.strip()[-800:]}
                continue
            # step 0 is not printed; recompute it from the reference (same file, same weights)
            steps = [ref_steps[0]]
            hidden = None
            for line in r.stdout.splitlines():
                if line.startswith("{"):
                    item = json.loads(line)
                    k = len(steps)
                    steps.append(_step_acc(None, item["pred"], yt, split.D.classes, order[:N_BASE + k]))
                    hidden = item["hidden"]
            res["runs"][label] = {"backend": backend, "acc_steps": steps, "seconds": round(time.time() - t0, 1),
                                  "hidden": hidden}
            if len(steps) == len(ref_steps):
                res["runs"][label]["max_abs_diff_points"] = 100 * float(np.max(np.abs(np.array(steps) - ref_steps)))
                res["runs"][label]["final_diff_points"] = 100 * float(steps[-1] - ref_steps[-1])
    return res


def _step_acc(_classes, pred_names, yt, class_names, seen):
    m = np.isin(yt, seen)
    truth = np.array([class_names[c] for c in yt[m]])
    pred = np.array(pred_names)[m]
    return float((pred == truth).mean())


# ---- the command -----------------------------------------------------------------------
def run(args):
    from threadpoolctl import threadpool_limits
    from .progress import Bar
    if args.data:
        os.environ["TINYCIL_DATA"] = args.data
    st = settings_from(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    percents = sorted({st["memory_percent"]} | set(st["sweep"]))
    results = {"meta": _meta(args, st), "datasets": {}, "not_available": NOT_AVAILABLE}
    loaded = {}
    for name in st["datasets"]:
        try:
            loaded[name] = datasets.load(name)
        except datasets.DatasetError as e:
            raise CliError(str(e))
    # units of work for the bar: selection trials + runs
    n_sel = (int(np.prod([len(v) for v in st["select"].values()])) + len(TOLERANCES) * len(GROW_STEPS) * len(MIN_HIDDENS) + 1
             + len(CURVE_WIDTHS) + len(FEATURE_CHOICES)) if st["select"] else 0
    per_order = len(METHODS) + sum(len(SWEEP_METHODS) for p in percents if p != st["memory_percent"])
    joint = st["orders"] if st["select"] and len(loaded) > 1 else 0
    total = len(loaded) * (n_sel + st["orders"] * per_order + joint) + (1 if st["device_repeat"] else 0)
    with threadpool_limits(1), Bar(total, "bench", enabled=None if not st["quick"] else False) as bar:
        for name, D in loaded.items():
            t0 = time.time()
            results["datasets"][name] = run_dataset(D, st, percents, bar)
            if not bar.enabled:
                print("tinycil bench: %s done in %.0f s" % (name, time.time() - t0), flush=True)
        if st["select"] and len(loaded) > 1:
            results["joint_rule"] = joint_rule_runs(results, st, loaded, bar)
        if st["device_repeat"]:
            name = st["device_repeat"]
            D = loaded.get(name) or datasets.load(name)
            info = results["datasets"].get(name, {}).get("info", {})
            defaults, nf_out, split = as_run(D, st, info)
            hyper = info.get("hyper") or defaults
            try:
                results["device_repeat"] = device_repeat(split, st, hyper, nf_out, out, n_new=50, n_test=200)
            except (ValueError, ArithmeticError, OSError, RuntimeError) as e:
                results["device_repeat"] = {"dataset": name, "error": str(e)[:500]}
            bar.update(1, "device repeat")
    results["meta"]["runtime_seconds"] = round(time.time() - t_start, 1)
    results["headline"] = headline(results, st)
    from . import bench_report
    bench_report.write(results, out)
    print("tinycil bench: wrote %s (%.0f s)" % (out / "report.md", time.time() - t_start))
    return 0


def run_dataset(D, st, percents, bar):
    defaults, nf_out, nf = learner_defaults(D, st)
    split = Split(D, st["seed"], nf)
    hyper, trials = select_hyper(split, st, defaults, nf_out, bar)
    chosen, feature_trials = select_features(D, st, hyper, trials, bar)
    if chosen != nf_out:
        defaults, nf_out, nf = learner_defaults(D, st, chosen)
        split = Split(D, st["seed"], nf)
        hyper = dict(hyper, max_hidden=defaults["max_hidden"], max_per_class=defaults["max_per_class"])
    hyper, target_trials = select_target(split, st, hyper, nf_out, trials, bar)
    curve = width_curve(split, st, hyper, nf_out, target_trials, bar)
    info = {"n_inputs": D.n_features, "n_features": nf, "frontend_features": nf_out, "input_shape": list(D.input_shape),
            "classes": list(D.classes), "n_train_full": split.n_train_full, "n_test": int(len(D.y_test)),
            "n_val": int(len(split.yval)), "hyper": hyper, "selection": trials, "feature_selection": feature_trials,
            "target_selection": target_trials,
            "width_curve": curve,
            "base_per_class": st["base_per_class"], "new_per_class": st["new_per_class"],
            "budgets": {str(p): budget_bytes(split.n_train_full, nf, p) for p in percents},
            "raw_int8_bytes": int(split.n_train_full * D.n_features)}
    runs = {}
    for p in percents:
        methods = METHODS if p == st["memory_percent"] else SWEEP_METHODS
        per_method = {m: [] for m in methods}
        for k in range(st["orders"]):
            order = split.order(k, st["seed"])
            base = Base(split, order, p, st, dict(hyper, memory_bytes=info["budgets"][str(p)]))
            variants = [m for m in LEARNER_METHODS if m in methods]
            try:
                prepare_bases(base, split, st, nf_out, variants)
            except (ValueError, ArithmeticError) as e:
                for m in methods:
                    per_method[m].append({"error": str(e), "order": order})
                    bar.update(1)
                continue
            if "deploy" not in info:
                info["deploy"] = deploy_info(base, D, st, hyper)
            for m in methods:
                try:
                    r = run_protocol(make_method(m, base, hyper), base, D.X_test, D.y_test,
                                     extra_eval=(split.Xval, split.yval))
                    r["order"] = order
                except (ValueError, ArithmeticError) as e:
                    r = {"error": str(e), "order": order}
                per_method[m].append(r)
                bar.update(1, "%s %g%% order %d %s" % (D.name, p, k, m))
        agg = {}
        for m, rs in per_method.items():
            ok = [r for r in rs if "error" not in r]
            if m == "knn" and ok:
                ok = _pick_knn(ok)
                per_method[m] = ok + [r for r in rs if "error" in r]
            agg[m] = {"runs": per_method[m], "summary": aggregate(ok) if len(ok) == len(rs) else None,
                      "error": None if len(ok) == len(rs) else next(r["error"] for r in rs if "error" in r)}
        runs[str(p)] = agg
    return {"info": info, "runs": runs}


def deploy_info(base, D, st, hyper):
    lrn = base.prepared.get("ours") or base.lrn0
    from . import frontend as fe
    flash = fe.nbytes(lrn.frontend) if lrn.frontend else 0
    hp = dict(lrn.hp, max_per_class=hyper["max_per_class"])
    ram = ram_estimate(D.n_features, lrn.n_features, hyper["max_hidden"], len(D.classes), hp, st["new_per_class"],
                       budget_bytes(base.n_train_full, lrn.n_features, st["memory_percent"]))
    per_pct = {}
    for p in sorted({st["memory_percent"]} | set(st["sweep"])):
        mb = budget_bytes(base.n_train_full, lrn.n_features, p)
        per_pct[str(p)] = ram_estimate(D.n_features, lrn.n_features, hyper["max_hidden"], len(D.classes), hp,
                                       st["new_per_class"], mb)["total"]
    return {"ram_total_by_percent": per_pct, "frontend_bytes_int8": flash, "frontend_fits_flash": flash <= FLASH_LIMIT, "ram": ram,
            "ram_fits": ram["total"] <= RAM_LIMIT, "max_hidden": hyper["max_hidden"],
            "frontend": ("PCA %d -> %d, int8" % (D.n_features, lrn.n_features)) if lrn.frontend else "none",
            "target": lrn.target, "base_hidden": list(lrn.net.hidden)}


# ---- headline ----------------------------------------------------------------------------
def headline(results, st):
    key = str(st["memory_percent"])
    rows = []
    for name, d in results["datasets"].items():
        runs = d["runs"][key]
        s = {m: runs[m]["summary"] for m in runs}
        if not s.get("ours") or not s.get("fixed"):
            rows.append({"dataset": name, "error": (runs.get("ours") or {}).get("error")})
            continue
        o, f = s["ours"], s["fixed"]
        fe = d["runs"][key]["ours"]["runs"][0]["frontend_flops"]
        row = {
            "dataset": name,
            "ours_acc": o["final_acc"]["mean"], "fixed_acc": f["final_acc"]["mean"],
            "acc_diff_points": 100 * (o["final_acc"]["mean"] - f["final_acc"]["mean"]),
            "inference_flops_ratio": o["inference_flops"]["mean"] / f["inference_flops"]["mean"],
            "inference_flops_ratio_with_frontend": (o["inference_flops"]["mean"] + fe) / (f["inference_flops"]["mean"] + fe),
            "train_flops_ratio": o["train_flops"]["mean"] / f["train_flops"]["mean"],
        }
        for m in ("random", "herding", "knn", "ncm", "naive", "joint"):
            if s.get(m):
                row["vs_%s_points" % m] = 100 * (o["final_acc"]["mean"] - s[m]["final_acc"]["mean"])
        rows.append(row)
    ok = [r for r in rows if "error" not in r]
    mean = {}
    if ok:
        for k in ok[0]:
            if k != "dataset":
                vals = [r[k] for r in ok if k in r]
                mean[k] = float(np.mean(vals))
    claims = []
    if ok:
        claims.append({"claim": "ours within 1 point of fixed (mean over data sets)",
                       "value": mean["acc_diff_points"], "met": mean["acc_diff_points"] >= -1.0})
        claims.append({"claim": "ours <= 45 % of fixed's inference FLOPs (trainable part, mean)",
                       "value": mean["inference_flops_ratio"], "met": mean["inference_flops_ratio"] <= 0.45})
        claims.append({"claim": "ours <= 45 % of fixed's inference FLOPs (front-end included, mean)",
                       "value": mean["inference_flops_ratio_with_frontend"],
                       "met": mean["inference_flops_ratio_with_frontend"] <= 0.45})
        if "vs_random_points" in mean:
            # distilled vs random at equal bytes, both with the fixed network
            vals = []
            for name, d in results["datasets"].items():
                s = d["runs"][key]
                if s.get("fixed", {}).get("summary") and s.get("random", {}).get("summary"):
                    vals.append(100 * (s["fixed"]["summary"]["final_acc"]["mean"] - s["random"]["summary"]["final_acc"]["mean"]))
            claims.append({"claim": "distilled replay >= random exemplars at equal bytes (fixed network, mean)",
                           "value": float(np.mean(vals)) if vals else None, "met": bool(vals) and np.mean(vals) >= 0,
                           "per_dataset_points": vals})
        if "vs_knn_points" in mean:
            per = {r["dataset"]: r.get("vs_knn_points") for r in ok}
            claims.append({"claim": "ours above kNN at equal bytes on every data set",
                           "value": min(v for v in per.values() if v is not None),
                           "met": all(v is not None and v > 0 for v in per.values()), "per_dataset_points": per})
    jr = results.get("joint_rule") or {}
    if "mean_acc_diff_points" in jr:
        claims.append({"claim": "the same two, growth rules chosen jointly on validation (run on test): ours - fixed, "
                                "points", "value": jr["mean_acc_diff_points"], "met": jr["mean_acc_diff_points"] >= -1.0})
        claims.append({"claim": "the same two, growth rules chosen jointly on validation (run on test): inference "
                                "FLOPs ratio", "value": jr["mean_inference_flops_ratio"],
                       "met": jr["mean_inference_flops_ratio"] <= 0.45})
    return {"memory_percent": st["memory_percent"], "rows": rows, "mean": mean, "claims": claims,
            "joint_choice": joint_choice(results), "narrowest_width": narrowest_widths(results)}


def narrowest_widths(results):
    """Per data set, narrowest_within_a_point of its width curve; and the mean ratio."""
    per = {}
    for name, d in results["datasets"].items():
        best, ratio = narrowest_within_a_point(d["info"].get("width_curve") or [])
        if best is not None:
            widest = d["info"]["width_curve"][-1]
            per[name] = {"max_hidden": best["max_hidden"], "ratio": ratio, "widest": widest["max_hidden"],
                         "val_points": 100 * (best["val_final_acc"] - widest["val_final_acc"])}
    if not per:
        return None
    return {"per_dataset": per, "mean_ratio": float(np.mean([v["ratio"] for v in per.values()]))}


def joint_choice(results, max_loss=0.01):
    """How low the mean FLOPs ratio can go on validation with these growth rules: per data set
    one of the candidates tried by select_target, chosen jointly so that the mean validation
    accuracy over the data sets stays within `max_loss` of fixed's while the mean ratio is the
    lowest. A bound on what any per-data-set rule among them reaches; it is not run on test."""
    import itertools
    names, fronts = [], []
    for name, d in results["datasets"].items():
        cands = [t for t in d["info"].get("target_selection") or []
                 if t.get("val_final_acc", -1) >= 0 and "fixed_val_acc" in t]
        if not cands:
            continue
        pts = [(t["val_final_acc"] - t["fixed_val_acc"], t["inference_flops"] / t["fixed_inference_flops"], t)
               for t in cands]
        # only the Pareto front: no other candidate is at least as accurate and cheaper
        front = [p for p in pts if not any(q[0] >= p[0] and q[1] < p[1] for q in pts)]
        names.append(name)
        fronts.append(front)
    if not names:
        return None
    best = None
    for combo in itertools.product(*fronts):
        loss = sum(c[0] for c in combo) / len(combo)
        ratio = sum(c[1] for c in combo) / len(combo)
        if loss >= -max_loss and (best is None or ratio < best[0]):
            best = (ratio, loss, combo)
    if best is None:
        return None
    return {"mean_ratio": best[0], "mean_val_points": 100 * best[1], "choice": {
        n: {"min_hidden": c[2].get("min_hidden", 8), "grow_step": c[2]["grow_step"], "tolerance": c[2]["tolerance"],
            "val_points": 100 * c[0], "ratio": c[1]}
        for n, c in zip(names, best[2])}}


def joint_rule_runs(results, st, loaded, bar):
    """`ours` on test with the growth rules of joint_choice: chosen on validation for the mean
    over the data sets (the goal's own terms: within 1 point of fixed, averaged), instead of
    within 1 point on each. Same orders, budget and everything else as the main runs; only
    ours is run again (fixed is the main runs' fixed). None when there is no joint choice."""
    j = joint_choice(results)
    if j is None:
        return None
    key = str(st["memory_percent"])
    per = {}
    for name, rule in j["choice"].items():
        d = results["datasets"][name]
        D = loaded[name]
        info = d["info"]
        _, nf_out, split = as_run(D, st, info)
        hyper = dict(info["hyper"], min_hidden=rule["min_hidden"], grow_step=rule["grow_step"],
                     tolerance=rule["tolerance"], memory_bytes=info["budgets"][key])
        runs = []
        for k in range(st["orders"]):
            order = split.order(k, st["seed"])
            base = Base(split, order, st["memory_percent"], st, hyper)
            try:
                prepare_bases(base, split, st, nf_out, ["ours"])
                r = run_protocol(baselines.LearnerMethod(base, "ours"), base, D.X_test, D.y_test)
                runs.append({"final_acc": r["final_acc"], "inference_flops": r["inference_flops"],
                             "hidden": r["hidden_steps"][-1]})
            except (ValueError, ArithmeticError) as e:
                runs.append({"error": str(e)[:200]})
            bar.update(1, "%s joint rule order %d" % (name, k))
        per[name] = {"rule": rule, "runs": runs}
    return joint_rule_summary(results, per, key)


def joint_rule_summary(results, per, key):
    """Per data set and averaged: the joint-rule ours against the main runs' fixed (accuracy
    difference in points, inference FLOPs ratio)."""
    rows = {}
    for name, p in per.items():
        ok = [r for r in p["runs"] if "error" not in r]
        fixed = (results["datasets"][name]["runs"][key].get("fixed") or {}).get("summary")
        if len(ok) != len(p["runs"]) or not fixed:
            rows[name] = dict(p, error=next((r["error"] for r in p["runs"] if "error" in r), "no fixed run"))
            continue
        acc = float(np.mean([r["final_acc"] for r in ok]))
        flops = float(np.mean([r["inference_flops"] for r in ok]))
        rows[name] = dict(p, ours_acc=acc, acc_diff_points=100 * (acc - fixed["final_acc"]["mean"]),
                          inference_flops_ratio=flops / fixed["inference_flops"]["mean"])
    good = [r for r in rows.values() if "error" not in r]
    out = {"per_dataset": rows}
    if good and len(good) == len(rows):
        out["mean_acc_diff_points"] = float(np.mean([r["acc_diff_points"] for r in good]))
        out["mean_inference_flops_ratio"] = float(np.mean([r["inference_flops_ratio"] for r in good]))
        out["met"] = out["mean_acc_diff_points"] >= -1.0 and out["mean_inference_flops_ratio"] <= 0.45
    return out


def _meta(args, st):
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "host", "device"], cwd=REPO,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "unknown", None
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or "unknown"
    return {
        "command": "tinycil bench " + " ".join(_argv_of(args)),
        "git_commit": commit, "git_dirty_host_or_device": dirty,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
                    "numpy": np.__version__, "platform": platform.platform()},
        "settings": st,
    }


def _argv_of(args):
    argv = sys.argv[1:]
    if argv and argv[0] == "bench":
        argv = argv[1:]
    return argv
