"""Growth started from the nearest-mean head alone (no hidden unit), tried on the validation split
only: would the growth rule then reach the paper's 43 % of the fixed network's FLOPs?

The issue's idea: a nearest-mean head is the smallest model there is, so the learner could start
from it (min_hidden 0: the head and the output biases only) and grow hidden units only when its
check misses the target. When ncm_start.md was made, only a patch of the host reference allowed a
width of 0; since file format version 5 the board, the reference and the file allow it, and the
benchmark's growth-rule candidates include min_hidden 0 (settings.MIN_HIDDENS), so this script now
runs on the unpatched reference.

For each data set it reads the hyperparameters and growth rule the benchmark chose
(bench/results.json of the same commit) and runs, over the benchmark's validation class orders,
the fixed network, the chosen rule, and min_hidden 0 with every (grow_step, tolerance) of the
benchmark's grid; then it applies the benchmark's rule (select.cheapest_within_a_point: the
fewest FLOPs within 1 point of fixed on validation) to the benchmark's own candidates
(results.json's target_selection) with and without the min_hidden 0 ones. Writes ncm_start.md
and ncm_start.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/ncm_start.py \\
        --out bench/experiments [--dataset NAME ...]
"""
import sys
from pathlib import Path

import numpy as np

from tinycil_host.bench import select, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (this folder's shared runner)


def one_dataset(name, results, st):
    su = runner.Setup(name, results, st)
    fixed, fixed_flops = runner.run_orders(su.split, st, su.orders, "fixed", su.hyper, su.nf_out)
    chosen = dict(su.hyper)
    zero = []
    for gs in settings.GROW_STEPS:
        for tol in settings.TOLERANCES:
            h = dict(su.hyper, min_hidden=0, grow_step=gs, tolerance=tol)
            try:
                acc, flops = runner.run_orders(su.split, st, su.orders, "ours", h, su.nf_out)
            except (ValueError, ArithmeticError) as e:
                zero.append({"min_hidden": 0, "grow_step": gs, "tolerance": tol, "error": str(e)[:200]})
                continue
            zero.append({"min_hidden": 0, "grow_step": gs, "tolerance": tol, "val_final_acc": acc,
                         "inference_flops": flops})
    bench = [dict(t) for t in su.info["target_selection"]]  # the benchmark's own candidates
    fv = bench[0]["fixed_val_acc"]
    pick_bench = select.cheapest_within_a_point([dict(t) for t in bench], fv)
    pick_all = select.cheapest_within_a_point([dict(t) for t in bench] + [dict(t) for t in zero if "error" not in t], fv)
    return {"fixed_val_acc": fixed, "fixed_inference_flops": fixed_flops,
            "chosen": {k: chosen[k] for k in ("min_hidden", "grow_step", "tolerance")},
            "zero": zero, "pick_bench": pick_bench, "pick_with_zero": pick_all}


def report(res, meta):
    L = ["# Growth from the nearest-mean head alone (min_hidden 0), on validation", "",
         "Made by `bench/experiments/ncm_start.py` (command in its docstring) at commit `%s`, %s, %.0f s; "
         "hyperparameters, growth rule and class orders as in [../report.md](../report.md); the host reference "
         "(min_hidden 0 is allowed since file format version 5). Validation split only: nothing here was run on "
         "test. Final validation accuracy, %%, mean of %d class orders; FLOPs: inference FLOPs of the trainable "
         "network, as a fraction of the fixed network's." % (meta["commit"], meta["date"], meta["seconds"],
                                                            meta["orders"]), "",
         "The benchmark's rule (fewest FLOPs within 1 point of fixed) applied to its own candidates, and to "
         "them with the min_hidden 0 ones added:", "",
         "| data set | fixed | chosen now: acc / FLOPs (min_hidden, grow_step, tolerance) | with min_hidden 0 "
         "among them |", "|---|---|---|---|"]
    r_now, r_zero = [], []
    for name, r in res.items():
        ff = r["fixed_inference_flops"]
        cells = []
        for key, acc in (("pick_bench", r_now), ("pick_with_zero", r_zero)):
            t = r[key]
            ratio = t["inference_flops"] / t["fixed_inference_flops"] if "fixed_inference_flops" in t else \
                t["inference_flops"] / ff
            acc.append(ratio)
            cells.append("%.1f / %.2f (%d, %d, %g)" % (100 * t["val_final_acc"], ratio, t["min_hidden"],
                                                       t["grow_step"], t["tolerance"]))
        L.append("| %s | %.1f | %s | %s |" % (name, 100 * r["fixed_val_acc"], cells[0], cells[1]))
    L.append("| **mean FLOPs ratio** | | **%.2f** | **%.2f** |" % (np.mean(r_now), np.mean(r_zero)))
    L += ["", "Every min_hidden 0 candidate (acc / FLOPs ratio):", "",
          "| data set | %s |" % " | ".join("grow %d, tol %g" % (gs, tol) for gs in settings.GROW_STEPS
                                         for tol in settings.TOLERANCES),
          "|---|%s" % ("---|" * (len(settings.GROW_STEPS) * len(settings.TOLERANCES)))]
    for name, r in res.items():
        ff = r["fixed_inference_flops"]
        L.append("| %s | %s |" % (name, " | ".join(
            ("failed" if "error" in t else "%.1f / %.2f" % (100 * t["val_final_acc"], t["inference_flops"] / ff))
            for t in r["zero"])))
    return "\n".join(L) + "\n"


def main(argv=None):
    return runner.main("ncm_start", __doc__, one_dataset, report, argv)


if __name__ == "__main__":
    sys.exit(main())
