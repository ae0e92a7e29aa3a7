"""What every experiment here shares: the validation runs over the benchmark's class orders
(`run_orders`) and the command line that reads bench/results.json and writes NAME.md and
NAME.json (`main`). Validation split only: an experiment never runs on test."""
import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np

from tinycil_host import datasets
from tinycil_host.bench import protocol, select, settings
from tinycil_host.bench.methods import LearnerMethod, NCMMethod

HERE = Path(__file__).resolve().parent


class Setup:
    """One data set as the benchmark ran it: its info and chosen hyperparameters (results.json),
    the data, the front-end size, the train/validation Split and the validation class orders."""

    def __init__(self, name, results, st):
        self.info = results["datasets"][name]["info"]
        self.hyper = dict(self.info["hyper"])
        self.D = datasets.load(name)
        _, self.nf_out, self.split = protocol.as_run(self.D, st, self.info)
        self.orders = select.validation_orders(self.split, st)


def run_orders(split, st, orders, method, hyper, nf_out, learner_class=None):
    """Mean final validation accuracy and inference FLOPs over the orders (select.validation_runs),
    with `learner_class` (a subclass of the reference Learner) swapped in when given. method: a
    learner variant of the benchmark, or "ncm" (nearest class mean on the same features)."""
    variant = "ours" if method == "ncm" else method

    def make(base):
        if learner_class:
            base.prepared[variant].__class__ = learner_class
        return NCMMethod(base) if method == "ncm" else LearnerMethod(base, method)
    rs, _ = select.validation_runs(split, st, orders, variant, hyper, nf_out, make)
    return float(np.mean([r["final_acc"] for r in rs])), float(np.mean([r["inference_flops"] for r in rs]))


def main(name, doc, one_dataset, report, argv=None):
    """Run one_dataset(name, results, st) for each data set of bench/results.json (or --dataset)
    and write report(res, meta) to NAME.md, the results to NAME.json."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--out", default=str(HERE))
    p.add_argument("--results", default=str(HERE.parent / "results.json"))
    p.add_argument("--dataset", action="append")
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits
    results = json.load(open(args.results))
    m = results["meta"]["settings"]
    st = {k: m[k] for k in ("memory_percent", "base_per_class", "new_per_class", "seed", "orders", "sweep", "select")}
    t0 = time.time()
    res = {}
    with threadpool_limits(1):
        for ds in args.dataset or list(results["datasets"]):
            res[ds] = one_dataset(ds, results, st)
            print("%s: %s done (%.0f s)" % (name, ds, time.time() - t0), flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    meta = {"commit": commit, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": time.time() - t0, "orders": min(st["orders"], settings.SELECT_ORDERS)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / (name + ".json")).write_text(json.dumps({"meta": meta, "datasets": res}, indent=1))
    (out / (name + ".md")).write_text(report(res, meta))
    print("%s: wrote %s" % (name, out / (name + ".md")))
    return 0


def run_variants(name, results, st, variants):
    """{key: {"val_final_acc", "inference_flops"}} (or {"error"}) for each (key, method,
    learner_class) of `variants` on data set `name`, over the benchmark's validation orders."""
    su = Setup(name, results, st)
    out = {}
    for key, method, cls in variants:
        try:
            acc, flops = run_orders(su.split, st, su.orders, method, su.hyper, su.nf_out, cls)
            out[key] = {"val_final_acc": acc, "inference_flops": flops}
        except (ValueError, ArithmeticError) as e:
            out[key] = {"error": str(e)[:200]}
    return out


def variants_report(res, meta, title, script, what, variants, headers):
    """The markdown table of run_variants' results: one row per data set, one column per variant
    (headed `headers`), and their means; `what` says what the variants change."""
    keys = [v[0] for v in variants]
    L = ["# " + title, "",
         "Made by `bench/experiments/%s` (command in its docstring) at commit `%s`, %s, %.0f s; "
         "hyperparameters, growth rule and class orders as in [../report.md](../report.md). Validation split "
         "only: nothing here was run on test. Final validation accuracy, %%, mean of %d class orders; %s"
         % (script, meta["commit"], meta["date"], meta["seconds"], meta["orders"], what), "",
         "| data set | %s |" % " | ".join(headers), "|---|%s" % ("---|" * len(headers))]
    sums = {k: [] for k in keys}
    for name, r in res.items():
        cells = []
        for k in keys:
            if "error" in r[k]:
                cells.append("failed: %s" % r[k]["error"])
            else:
                cells.append("%.1f" % (100 * r[k]["val_final_acc"]))
                sums[k].append(100 * r[k]["val_final_acc"])
        L.append("| %s | %s |" % (name, " | ".join(cells)))
    L.append("| **mean** | %s |" % " | ".join("**%.1f**" % np.mean(sums[k]) if sums[k] else "-" for k in keys))
    return "\n".join(L) + "\n"


def variants_main(name, doc, extras, title, what, argv=None):
    """main() of an experiment that compares learner variants: `extras` are (key, column label,
    learner class); each runs with ours and with the fixed network, beside both as the benchmark
    runs them and NCM (run_variants on each data set, variants_report's table)."""
    variants = ([("ours", "ours", None)] + [("ours_" + k, "ours", c) for k, _, c in extras]
                + [("fixed", "fixed", None)] + [("fixed_" + k, "fixed", c) for k, _, c in extras] + [("ncm", "ncm", None)])
    headers = (["ours"] + ["ours " + lab for _, lab, _ in extras] + ["fixed"] + ["fixed " + lab for _, lab, _ in extras]
               + ["NCM"])
    return main(name, doc, lambda ds, results, st: run_variants(ds, results, st, variants),
                lambda res, meta: variants_report(res, meta, title, name + ".py", what, variants, headers), argv)
