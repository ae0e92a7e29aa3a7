"""Three changes to growth that the benchmark's method does not make, tried on the validation
split only: are they worth building into the board's learner?

1. "undo": a widening that does not raise the check (FORMAT.md 7.6, growth stops) is also
   undone: the new units are dropped and the learner keeps the narrower network.
2. "two layers": the fixed network with two hidden layers, at the widest width whose buffers
   fit the same 96 KB (the width growth would then save FLOPs quadratically).
3. "no stall": growth goes on while the check misses the target, even after a widening that
   did not raise it (FORMAT.md 7.6 stops there): does stopping cost the accuracy where ours
   stays more than a point below fixed?

For each data set it reads the hyperparameters the benchmark chose (bench/results.json of the
same commit) and runs, over the same validation class orders as the benchmark's choice of the
growth rule: the fixed network; `ours` with every (grow_step, tolerance) pair, with undo; and
the two-layer fixed network. `ours` without undo is the benchmark's own table
(results.json, target_selection). Writes growth_variants.md and growth_variants.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/growth_variants.py \
        --out bench/experiments [--dataset NAME ...]
"""
import sys
from pathlib import Path

import numpy as np

from tinycil_host import reference as ref
from tinycil_host.bench import budget, select, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (this folder's shared runner)


class UndoLearner(ref.Learner):
    """The reference learner, except that a widening the check does not reward is undone:
    when the growth loop stops stalled, the units of its last widening are dropped (their
    incoming rows and outgoing columns), and the narrower network is kept as retrained."""

    def grow(self, acc, loss, target, retrain, recheck, log):
        widths = []
        grown = super().grow

        def retrain_noting_width():
            widths.append(self.net.hidden[0])
            return retrain()
        before = self.net.hidden[0]
        acc, loss, stalled = grown(acc, loss, target, retrain_noting_width, recheck, log)
        if stalled:
            narrower = widths[-2] if len(widths) > 1 else before
            net = self.net
            for layer in range(1, len(net.sizes) - 1):
                net.sizes[layer] = narrower
            net._resize()
            net._grow_momentum()
        return acc, loss, stalled


class NoStallLearner(ref.Learner):
    """The reference learner without the stall rule: a check taken right after a widening is
    reported as at least a hair above the one before it, so the growth loop never sees a
    widening that did not raise it (it still stops at the target or at max_hidden)."""

    def grow(self, acc, loss, target, retrain, recheck, log):
        last = [acc]

        def recheck_never_stalling():
            a = max(recheck(), last[0] + 1e-9)
            last[0] = a
            return a
        return super().grow(acc, loss, target, retrain, recheck_never_stalling, log)


def run_orders(split, st, orders, method, hyper, nf_out, undo=False):
    """runner.run_orders with the undo (True) or no-stall ("no stall") learner swapped in."""
    cls = (NoStallLearner if undo == "no stall" else UndoLearner) if undo else None
    return runner.run_orders(split, st, orders, method, hyper, nf_out, cls)


def widest_fitting(D, nf, hyper, st, n_layers):
    mem = budget.budget_bytes(len(D.y_train), nf, st["memory_percent"])
    for H in settings.WIDTHS:
        ram = ref.board_ram(D.n_features, nf, H, len(D.classes), n_layers, batch=dict(ref.HYPER)["batch"],
                            replay_noise=hyper["replay_noise"], memory_bytes=mem,
                            max_per_class=hyper["max_per_class"], embed_dim=dict(ref.HYPER)["embed_dim"],
                            max_samples=st["new_per_class"])
        if ram["total"] <= settings.RAM_LIMIT:
            return H
    return None


def one_dataset(name, results, st):
    su = runner.Setup(name, results, st)
    info, hyper, D, nf_out, split, orders = su.info, su.hyper, su.D, su.nf_out, su.split, su.orders
    fixed_acc, fixed_flops = run_orders(split, st, orders, "fixed", hyper, nf_out)
    out = {"fixed": {"val_final_acc": fixed_acc, "inference_flops": fixed_flops, "max_hidden": hyper["max_hidden"]},
           "keep": info["target_selection"], "undo": [], "no_stall": []}
    for key, how in (("undo", True), ("no_stall", "no stall")):
        for step in settings.GROW_STEPS:
            for tol in settings.TOLERANCES:
                # min_hidden stays the one the benchmark chose (its own search covers it)
                t = {"min_hidden": hyper.get("min_hidden", 8), "grow_step": step, "tolerance": tol}
                try:
                    acc, flops = run_orders(split, st, orders, "ours", dict(hyper, grow_step=step, tolerance=tol),
                                            nf_out, undo=how)
                    t.update(val_final_acc=acc, inference_flops=flops)
                except (ValueError, ArithmeticError) as e:
                    t.update(val_final_acc=-1.0, inference_flops=float("inf"), error=str(e)[:200])
                out[key].append(t)
    H2 = widest_fitting(D, split.nf, hyper, st, 2)
    if H2:
        try:
            acc, flops = run_orders(split, st, orders, "fixed", dict(hyper, max_hidden=H2, n_layers=2), nf_out)
            out["two_layers"] = {"max_hidden": H2, "val_final_acc": acc, "inference_flops": flops}
        except (ValueError, ArithmeticError) as e:
            out["two_layers"] = {"max_hidden": H2, "error": str(e)[:200]}
    return out


def choose(cands, fixed):
    """select.cheapest_within_a_point over the candidates that ran, as (ratio, points)."""
    ok = [dict(t, fixed_val_acc=fixed["val_final_acc"]) for t in cands if t.get("val_final_acc", -1) >= 0]
    best = select.cheapest_within_a_point(ok, fixed["val_final_acc"])
    return best["inference_flops"] / fixed["inference_flops"], 100 * (best["val_final_acc"] - fixed["val_final_acc"]), best


def report(res, meta):
    L = ["# Growth variants on validation: undoing unpaid widenings, growing without the stall rule, two hidden "
         "layers", "",
         "Made by `bench/experiments/growth_variants.py` (command in its docstring) at commit `%s`, %s, %.0f s; "
         "hyperparameters and class orders as in [../report.md](../report.md). Validation split only: nothing "
         "here was run on test. FLOPs: inference of the trainable part, ratio to the fixed network of the "
         "benchmark; points: final validation accuracy minus that fixed network's, mean of %d class orders."
         % (meta["commit"], meta["date"], meta["seconds"], meta["orders"]), "",
         "## Undoing a widening that does not raise the check; growing without the stall rule", "",
         "Each rule is chosen as the benchmark chooses (`cheapest_within_a_point`): the fewest FLOPs within "
         "1 point of fixed, else within 1 point of the best rule. keep: the method (FORMAT.md 7.6, growth stops "
         "after a widening that does not raise the check and keeps it); undo: it also drops that widening; "
         "no stall: growth goes on while the check misses the target. undo and no stall start from "
         "the min_hidden the benchmark chose; keep is the benchmark's own search.", "",
         "| data set | keep (the method) | undo | either keep or undo, per data set | no stall |",
         "|---|---|---|---|---|"]
    cols = ("keep", "undo", "either", "no_stall")
    means = {k: [] for k in cols}
    pts = {k: [] for k in cols}
    for name, r in res.items():
        fixed = r["fixed"]
        keep = [dict(t) for t in r["keep"]]
        for t in keep:  # the benchmark's fixed run is the same run as ours here; use one baseline
            t["inference_flops"] = t["inference_flops"] * fixed["inference_flops"] / t["fixed_inference_flops"]
        cells = []
        for key, cands in (("keep", keep), ("undo", r["undo"]), ("either", keep + r["undo"]),
                           ("no_stall", r["no_stall"])):
            ratio, p, best = choose(cands, fixed)
            means[key].append(ratio)
            pts[key].append(p)
            cells.append("%.2f (%+.1f points; min %d step %d tol %g)" % (ratio, p, best.get("min_hidden", 8),
                                                                       best["grow_step"], best["tolerance"]))
        L.append("| %s | %s |" % (name, " | ".join(cells)))
    L.append("| **mean** | %s |" % " | ".join("**%.2f** (%+.1f points)" % (np.mean(means[k]), np.mean(pts[k]))
                                           for k in cols))
    for key in ("undo", "no_stall"):
        L += ["", "Every rule tried, %s (ratio, points):" % key.replace("_", " "), ""]
        for name, r in res.items():
            f = r["fixed"]
            L.append("- %s: %s" % (name, "; ".join(
                "step %d tol %g: %s" % (t["grow_step"], t["tolerance"], "failed" if t["val_final_acc"] < 0 else
                                        "%.2f, %+.1f" % (t["inference_flops"] / f["inference_flops"],
                                                         100 * (t["val_final_acc"] - f["val_final_acc"])))
                for t in r[key])))
    L += ["", "## Two hidden layers (fixed network)", "",
          "| data set | one layer: width, val acc %, FLOPs | two layers at the widest fitting 96 KB: width, val acc %, FLOPs |",
          "|---|---|---|"]
    for name, r in res.items():
        f, t = r["fixed"], r.get("two_layers")
        two = "-" if not t else ("failed: %s" % t["error"] if "error" in t else "%d, %.1f, %d" % (
            t["max_hidden"], 100 * t["val_final_acc"], t["inference_flops"]))
        L.append("| %s | %d, %.1f, %d | %s |" % (name, f["max_hidden"], 100 * f["val_final_acc"], f["inference_flops"], two))
    return "\n".join(L) + "\n"


def main(argv=None):
    return runner.main("growth_variants", __doc__, one_dataset, report, argv)


if __name__ == "__main__":
    sys.exit(main())
