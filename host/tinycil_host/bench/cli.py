"""`tinycil bench`: the options, the settings they give, the run over the data sets, and
results.json's provenance (command, commit, machine)."""
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .. import REPO, datasets, frontend
from ..reference import MAX_SAMPLES
from . import report
from .device import repeat_as_run
from .headline import headline
from .runs import joint_rule_runs, run_dataset
from .settings import (ALL_DATASETS, CURVE_WIDTHS, FEATURE_CHOICES, GROW_STEPS, GROW_UNDOS, INT_SELECTABLE, METHODS, MIN_HIDDENS,
                       N_BASE, NOT_AVAILABLE, SELECT_ORDERS, SELECTABLE, SWEEP_METHODS, TOLERANCES, BenchError)


def add_arguments(p):
    p.add_argument("--dataset", action="append", metavar="NAME",
                   help="data set to run (repeatable): a name, or a .npz/.csv file in the shared layout; "
                        "default: all of %s" % ", ".join(ALL_DATASETS))
    p.add_argument("--base-classes", default=str(N_BASE), metavar="N|half",
                   help="classes the base learner is prepared on (default %d; 'half': the B50 protocol)" % N_BASE)
    p.add_argument("--frontend-fit", choices=("base", "unlabelled"), default="base",
                   help="rows the PCA front-end is fitted on: the base classes' (default) or every class's "
                        "training rows without labels")
    p.add_argument("--frontend", choices=tuple(frontend.FIT), default="pca",
                   help="the front-end of inputs above 128 values: PCA (default), or a random +-1 projection "
                        "(data-independent directions, each output centred and scaled on the fitting rows)")
    p.add_argument("--orders", type=int, default=3, help="seeded class orders (default 3)")
    p.add_argument("--select-orders", type=int,
                   help="class orders averaged on validation for every choice (default: %d, or --orders when fewer)"
                        % SELECT_ORDERS)
    p.add_argument("--memory-percent", type=float, default=1.0,
                   help="replay bytes as a percentage of the training set (default 1)")
    p.add_argument("--sweep", default="0.5,1,2",
                   help="memory percentages for the sweep (comma list; 'none' to skip; default 0.5,1,2)")
    p.add_argument("--base-per-class", type=int, default=300, help="training samples per base class (default 300)")
    p.add_argument("--new-per-class", type=int, default=50,
                   help="samples given to each learn_class call (default 50, at most 200)")
    p.add_argument("--select", default="lr=0.2,0.5;epochs=10,20;replay_noise=0,0.5;ncm_weight=0.3,1,3,10;ncm_separate=0,1",
                   help="hyperparameter grid chosen on the validation split ('none': board defaults)")
    p.add_argument("--device-repeat", default="digits",
                   help="data set repeated with the device code under MicroPython ('none' to skip)")
    p.add_argument("--data", help="folder of the shared data sets (default $TINYCIL_DATA or ../shared/data)")
    p.add_argument("--seed", type=int, default=0, help="seed of the class orders and subsamples")
    p.add_argument("--quick", action="store_true",
                   help="digits, one order, 1 %% only, no selection or device repeat: checks the pipeline")
    p.add_argument("--out", required=True, help="output folder (report.md, results.json, *.png)")


def settings_from(args):
    s = {
        "datasets": list(args.dataset or ALL_DATASETS), "orders": args.orders,
        "memory_percent": args.memory_percent, "base_per_class": args.base_per_class,
        "new_per_class": args.new_per_class, "seed": args.seed,
        "sweep": _floats(args.sweep), "select": _grid(args.select),
        "device_repeat": None if args.device_repeat in ("none", "") else args.device_repeat,
        "quick": bool(args.quick), "base_classes": _base_classes(args.base_classes),
        "frontend_fit": args.frontend_fit, "frontend_kind": args.frontend,
    }
    if args.quick:
        s.update(datasets=list(args.dataset or ["digits"]), orders=1, sweep=[], select={},
                 device_repeat=None, base_per_class=min(args.base_per_class, 100),
                 new_per_class=min(args.new_per_class, 60))
    if s["orders"] < 1:
        raise BenchError("--orders must be at least 1")
    s["select_orders"] = min(s["orders"], SELECT_ORDERS) if args.select_orders is None or args.quick else args.select_orders
    if s["select_orders"] < 1:
        raise BenchError("--select-orders must be at least 1")
    if not 3 <= s["new_per_class"] <= MAX_SAMPLES:
        raise BenchError("--new-per-class must be 3..%d (one learn_class call)" % MAX_SAMPLES)
    if s["memory_percent"] <= 0:
        raise BenchError("--memory-percent must be positive")
    for d in s["datasets"]:
        if d.lower() == "core50":
            raise BenchError(NOT_AVAILABLE["core50"])
        if d not in ALL_DATASETS and not _is_data_file(d):
            raise BenchError("unknown data set %r: choose from %s, or name a .npz/.csv file in the shared "
                             "layout (X, y, optional split and classes)" % (d, ", ".join(ALL_DATASETS)))
    return s


def _base_classes(text):
    if text == "half":
        return text
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 2:
        raise BenchError("--base-classes takes a count of at least 2 or 'half', not %r" % text)
    return n


def _is_data_file(d):
    return Path(d).suffix in (".npz", ".csv") and Path(d).is_file()


def _floats(text):
    if text in (None, "", "none"):
        return []
    try:
        return sorted({float(v) for v in text.split(",")})
    except ValueError:
        raise BenchError("--sweep takes a comma list of percentages, e.g. 0.5,1,2")


def _grid(text):
    if text in (None, "", "none"):
        return {}
    grid = {}
    try:
        for part in text.split(";"):
            k, v = part.split("=")
            grid[k.strip()] = [int(x) if k.strip() in INT_SELECTABLE else float(x) for x in v.split(",")]
    except ValueError:
        raise BenchError("--select looks like 'lr=0.2,0.5;epochs=10,20'")
    for k in grid:
        if k not in SELECTABLE:
            raise BenchError("--select chooses %s only, not %r" % (", ".join(SELECTABLE), k))
    return grid


def run(args):
    from threadpoolctl import threadpool_limits
    from ..progress import Bar
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
            raise BenchError(str(e))
    # units of work for the bar: selection trials + runs
    n_sel = (int(np.prod([len(v) for v in st["select"].values()])) + len(TOLERANCES) * len(GROW_STEPS) * len(MIN_HIDDENS) * len(GROW_UNDOS) + 1
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
            results["device_repeat"] = repeat_as_run(results, st, loaded, out)
            bar.update(1, "device repeat")
    results["meta"]["runtime_seconds"] = round(time.time() - t_start, 1)
    results["headline"] = headline(results, st)
    report.write(results, out)
    print("tinycil bench: wrote %s (%.0f s)" % (out / "report.md", time.time() - t_start))
    return 0


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
