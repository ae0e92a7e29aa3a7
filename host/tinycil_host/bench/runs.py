"""What the benchmark runs on test: per data set, its choices on validation, then every method
at every memory size over the class orders; after all data sets, ours again with the growth
rules chosen jointly."""
import numpy as np

from .budget import budget_bytes, deploy_info, learner_defaults
from .methods import LearnerMethod, make_method
from .protocol import Base, Split, aggregate, as_run, prepare_bases, run_protocol
from .select import joint_choice, pick_knn, rule_options, select_features, select_hyper, select_target, width_curve
from .settings import LEARNER_METHODS, METHODS, SWEEP_METHODS


def run_dataset(D, st, percents, bar):
    """One data set (results.json's datasets[name]): its choices on validation, then every
    method at every memory percentage over the class orders, on test."""
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
                ok = pick_knn(ok)
                per_method[m] = ok + [r for r in rs if "error" in r]
            agg[m] = {"runs": per_method[m], "summary": aggregate(ok) if len(ok) == len(rs) else None,
                      "error": None if len(ok) == len(rs) else next(r["error"] for r in rs if "error" in r)}
        runs[str(p)] = agg
    return {"info": info, "runs": runs}


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
        hyper = dict(info["hyper"], memory_bytes=info["budgets"][key], **rule_options(rule))
        runs = []
        for k in range(st["orders"]):
            order = split.order(k, st["seed"])
            base = Base(split, order, st["memory_percent"], st, hyper)
            try:
                prepare_bases(base, split, st, nf_out, ["ours"])
                r = run_protocol(LearnerMethod(base, "ours"), base, D.X_test, D.y_test)
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
