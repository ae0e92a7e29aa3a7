"""Weight aligning (Zhao et al., CVPR 2020, "Maintaining discrimination and fairness in class
incremental learning"), tried on the validation split only: does it pay on the board's learner?

After a class-incremental step the new class's output weights are trained on all of its real
rows while the old classes see a few replay samples; the new row's norm grows and the network
favours the newest class (recency bias). Weight aligning rescales the new class's output row
after its learn_class so its norm is the mean norm of the older rows (the bias is left alone,
as in the paper). It costs one pass over the output layer and needs no buffer.

For each data set it reads the hyperparameters and growth rule the benchmark chose
(bench/results.json of the same commit) and runs, over the benchmark's validation class orders:
`ours` as the benchmark runs it, `ours` with weight aligning, the fixed network with and without
it, and NCM on the same features. Writes weight_aligning.md and weight_aligning.json.

    TINYCIL_DATA=../shared/data PYTHONPATH=host .venv/bin/python bench/experiments/weight_aligning.py \
        --out bench/experiments [--dataset NAME ...]
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tinycil_host import datasets
from tinycil_host import reference as ref
from tinycil_host.bench import protocol, select, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from growth_variants import run_orders  # noqa: E402  (the same validation runner)

HERE = Path(__file__).resolve().parent


class WeightAligned(ref.Learner):
    """The reference learner, with the new class's output row rescaled after each new class."""

    def learn_class(self, label, samples, *args, **kwargs):
        new = label not in self.classes
        report = super().learn_class(label, samples, *args, **kwargs)
        W = self.net.W[-1]
        if new and len(W) > 1:
            norms = np.linalg.norm(W.astype(np.float64), axis=1)
            if norms[-1] > 0:
                W[-1] = (W[-1] * (norms[:-1].mean() / norms[-1])).astype(W.dtype)
        return report


def one_dataset(name, results, st):
    info = results["datasets"][name]["info"]
    hyper = dict(info["hyper"])
    D = datasets.load(name)
    _, nf_out, split = protocol.as_run(D, st, info)
    orders = select.validation_orders(split, st)
    out = {}
    for key, method, cls in (("ours", "ours", None), ("ours_wa", "ours", WeightAligned),
                             ("fixed", "fixed", None), ("fixed_wa", "fixed", WeightAligned), ("ncm", "ncm", None)):
        try:
            acc, flops = run_orders(split, st, orders, method, hyper, nf_out, learner_class=cls)
            out[key] = {"val_final_acc": acc, "inference_flops": flops}
        except (ValueError, ArithmeticError) as e:
            out[key] = {"error": str(e)[:200]}
    return out


def report(res, meta):
    cols = ("ours", "ours_wa", "fixed", "fixed_wa", "ncm")
    L = ["# Weight aligning of the output layer, on validation", "",
         "Made by `bench/experiments/weight_aligning.py` (command in its docstring) at commit `%s`, %s, %.0f s; "
         "hyperparameters, growth rule and class orders as in [../report.md](../report.md). Validation split "
         "only: nothing here was run on test. Final validation accuracy, %%, mean of %d class orders; "
         "+WA: the new class's output row rescaled to the older rows' mean norm after each new class."
         % (meta["commit"], meta["date"], meta["seconds"], meta["orders"]), "",
         "| data set | ours | ours +WA | fixed | fixed +WA | NCM |", "|---|---|---|---|---|---|"]
    sums = {k: [] for k in cols}
    for name, r in res.items():
        cells = []
        for k in cols:
            if "error" in r[k]:
                cells.append("failed: %s" % r[k]["error"])
            else:
                cells.append("%.1f" % (100 * r[k]["val_final_acc"]))
                sums[k].append(100 * r[k]["val_final_acc"])
        L.append("| %s | %s |" % (name, " | ".join(cells)))
    L.append("| **mean** | %s |" % " | ".join("**%.1f**" % np.mean(sums[k]) if sums[k] else "-" for k in cols))
    return "\n".join(L) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
        for name in args.dataset or list(results["datasets"]):
            res[name] = one_dataset(name, results, st)
            print("weight_aligning: %s done (%.0f s)" % (name, time.time() - t0), flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    meta = {"commit": commit, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": time.time() - t0, "orders": min(st["orders"], settings.SELECT_ORDERS)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "weight_aligning.json").write_text(json.dumps({"meta": meta, "datasets": res}, indent=1))
    (out / "weight_aligning.md").write_text(report(res, meta))
    print("weight_aligning: wrote %s" % (out / "weight_aligning.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
