"""Choices made on the validation split, never on test: the hyperparameters, the front-end's
size, ours' growth rule, the width curve of the fixed network, kNN's k, and the growth rules
chosen jointly over the data sets."""
import itertools

import numpy as np

from .budget import learner_defaults
from .methods import LearnerMethod
from .protocol import Base, Split, prepare_bases, run_protocol
from .settings import (CURVE_WIDTHS, FEATURE_CHOICES, GROW_STEPS, GROW_UNDOS, KNN_K, MIN_HIDDENS, SELECT_ORDERS,
                       SELECTABLE, TOLERANCES)


def select_hyper(split, st, defaults, nf_out, bar):
    """The grid's settings (lr, epochs, replay noise, the head) of the fixed network (distilled
    replay), by final validation accuracy, mean of the first select_orders(st) class orders, at the
    main memory budget, as the front-end size and the growth rule are chosen; every network
    method then uses them."""
    grid = st["select"]
    if not grid:
        return dict(defaults), []
    keys = [k for k in SELECTABLE if k in grid]
    trials = []
    orders = validation_orders(split, st)
    for combo in itertools.product(*[grid[k] for k in keys]):
        hyper = dict(defaults, **dict(zip(keys, combo)))
        t = dict(zip(keys, combo))
        try:
            rs, _ = validation_runs(split, st, orders, "fixed", hyper, nf_out)
            t.update(val_final_acc=float(np.mean([r["final_acc"] for r in rs])),
                     val_avg_inc_acc=float(np.mean([r["avg_inc_acc"] for r in rs])))
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
    select_orders(st) class orders; ties go to fewer features), with the hyperparameters
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
    accuracy any triple gives `ours`. Means over the first select_orders(st) class orders
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
    for mh, step, tol, undo in itertools.product(MIN_HIDDENS, GROW_STEPS, TOLERANCES, GROW_UNDOS):
        if mh >= hyper["max_hidden"]:
            bar.update(1)
            continue
        t = {"min_hidden": mh, "grow_step": step, "tolerance": tol, "grow_undo": undo, "fixed_val_acc": fixed_val,
             "fixed_inference_flops": fixed_flops}
        try:
            acc, flops, target = val_run("ours", dict(hyper, **rule_options(t)))
            t.update(val_final_acc=acc, inference_flops=flops, target=target)
        except (ValueError, ArithmeticError) as e:
            t.update(val_final_acc=-1.0, inference_flops=float("inf"), error=str(e)[:200])
        cands.append(t)
        bar.update(1, "%s target: %s" % (split.D.name, rule_name(t)))
    best = cheapest_within_a_point(cands, fixed_val)
    return dict(hyper, **rule_options(best)), cands


RULE_KEYS = ("min_hidden", "grow_step", "tolerance", "grow_undo")


def rule_options(t):
    """The growth rule's options from a candidate (older results: min_hidden 8, grow_undo 0)."""
    return {"min_hidden": t.get("min_hidden", 8), "grow_step": t["grow_step"], "tolerance": t["tolerance"],
            "grow_undo": t.get("grow_undo", 0)}


def rule_name(t):
    """'min 16 step 8 tol 0.1', with ' undo' when a widening that does not pay is dropped."""
    r = rule_options(t)
    return "min %d step %d tol %g%s" % (r["min_hidden"], r["grow_step"], r["tolerance"], " undo" if r["grow_undo"] else "")


def validation_orders(split, st):
    return [split.order(k, st["seed"]) for k in range(select_orders(st))]


def select_orders(st):
    """how many class orders every validation choice averages (older results: the first 3 at most)."""
    return st.get("select_orders", min(st["orders"], SELECT_ORDERS))


def validation_runs(split, st, orders, variant, h, nf_out, make=None):
    """run_protocol's results on the validation split, one per class order, of the method
    make(base) (default: the learner variant itself) on bases prepared as `variant` with
    hyperparameters h; returns (results, the last base)."""
    rs = []
    for order in orders:
        base = Base(split, order, st["memory_percent"], st, h)
        prepare_bases(base, split, st, nf_out, [variant])
        method = make(base) if make else LearnerMethod(base, variant)
        rs.append(run_protocol(method, base, split.Xval, split.yval))
    return rs, base


def validation_run(split, st, orders, method, h, nf_out):
    """(mean final validation accuracy, mean inference FLOPs, growth target) of `method` with
    hyperparameters h over the class orders."""
    rs, base = validation_runs(split, st, orders, method, h, nf_out)
    return (float(np.mean([r["final_acc"] for r in rs])), float(np.mean([r["inference_flops"] for r in rs])),
            base.prepared[method].target)


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


def joint_choice(results, max_loss=0.01):
    """How low the mean FLOPs ratio can go on validation with these growth rules: per data set
    one of the candidates tried by select_target, chosen jointly so that the mean validation
    accuracy over the data sets stays within `max_loss` of fixed's while the mean ratio is the
    lowest. A bound on what any per-data-set rule among them reaches; it is not run on test."""
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
        n: dict(rule_options(c[2]), val_points=100 * c[0], ratio=c[1])
        for n, c in zip(names, best[2])}}


def pick_knn(runs):
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
