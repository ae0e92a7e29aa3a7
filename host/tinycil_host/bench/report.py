"""The benchmark's report: report.md (tables), PNG plots and results.json (every number)."""
import json
import textwrap
from pathlib import Path

import numpy as np

from .. import frontend
from .select import rule_name, select_orders
from .settings import FEATURE_CHOICES, N_BASE, SELECTABLE

LABELS = {
    "ours": "ours (distilled + growth)", "fixed": "fixed (distilled, max width)",
    "random": "random exemplars (fixed net)", "herding": "herding exemplars (fixed net)",
    "knn": "kNN over stored samples", "ncm": "nearest class mean", "naive": "naive fine-tuning (no replay)",
    "joint": "joint training (all data)",
}
ORDER = ("ours", "fixed", "random", "herding", "knn", "ncm", "naive", "joint")
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")


def write(results, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(_clean(results), indent=1, sort_keys=False))
    plots = _plots(results, out)
    (out / "report.md").write_text(markdown(results, plots, out))


def _clean(o):
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    return o


# ---- plots ------------------------------------------------------------------------------
def _plots(results, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    key = str(results["meta"]["settings"]["memory_percent"])
    names = list(results["datasets"])
    files = []
    if not names:
        return files

    def summaries(runs):
        for m in ORDER:
            s = (runs.get(m) or {}).get("summary")
            if s:
                yield m, s

    def grid(fname, title, xlabel, ylabel, draw):
        # one panel per data set, the same frame for every plot; one legend for the figure,
        # right of the panels (inside a panel it hid curves), and a title wrapped to the
        # figure's width (constrained layout makes room for both: nothing is cut off)
        cols = min(3, len(names))
        rows = -(-len(names) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5 * cols + 1.6, 3.6 * rows + 0.4), squeeze=False,
                                 layout="constrained")
        for ax, name in zip(axes.flat, names):
            draw(ax, name)
            ax.set_title(name, fontsize=10)
            ax.set_xlabel(xlabel, fontsize=9)
            ax.set_ylabel(ylabel, fontsize=9)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside right upper", fontsize=8)
        if title:
            fig.suptitle(textwrap.fill(title, width=int(9 * (5 * cols + 1.6))), fontsize=10)
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        files.append(fname)

    def steps(ax, name):  # accuracy after each step, per method
        for m, s in summaries(results["datasets"][name]["runs"].get(key, {})):
            mean = np.array(s["acc_steps"]["mean"]) * 100
            std = np.array(s["acc_steps"]["std"]) * 100
            x = np.arange(2, 2 + len(mean))
            ax.plot(x, mean, marker="o", ms=3, label=m, lw=2.2 if m == "ours" else 1.2)
            ax.fill_between(x, mean - std, mean + std, alpha=0.12)

    def flops(ax, name):  # accuracy vs inference FLOPs
        # methods on the same network (fixed, random, herding) have the same FLOPs and close
        # accuracies: each gets its own marker in the legend, and points at one FLOPs value
        # are spread a little sideways so that none hides another
        seen = {}
        for i, (m, s) in enumerate(summaries(results["datasets"][name]["runs"].get(key, {}))):
            fl = max(s["inference_flops"]["mean"], 1)
            k = seen[fl] = seen.get(fl, -1) + 1
            acc = s["final_acc"]["mean"] * 100
            ax.errorbar([fl * 1.04 ** k], [acc], yerr=[s["final_acc"]["std"] * 100], fmt=MARKERS[i % len(MARKERS)],
                        ms=6, capsize=3, label=m)
        ax.set_xscale("log")

    pcts = sorted({float(p) for d in results["datasets"].values() for p in d["runs"]})

    def sweep(ax, name):  # final accuracy against the replay memory
        runs = results["datasets"][name]["runs"]
        for m in ("ours", "fixed", "random", "herding", "knn"):
            xs, ys = [], []
            for p in pcts:
                s = (runs.get(_pkey(runs, p), {}).get(m) or {}).get("summary")
                if s:
                    xs.append(p)
                    ys.append(s["final_acc"]["mean"] * 100)
            if xs:
                ax.plot(xs, ys, marker="o", label=m)

    grid("accuracy_steps.png",
         "Accuracy after each step (mean and spread over class orders, memory %s %%)" % key,
         "classes learned", "test accuracy, seen classes (%)", steps)
    grid("accuracy_vs_flops.png", "Final accuracy vs inference FLOPs of the final model (front-end excluded)",
         "inference FLOPs / sample, trainable part (log)", "final accuracy (%)", flops)
    if len(pcts) > 1:
        grid("memory_sweep.png", None, "replay memory (% of training set bytes)", "final accuracy (%)", sweep)
    return files


def _pkey(runs, p):
    for k in runs:
        if float(k) == p:
            return k
    return None


# ---- markdown ----------------------------------------------------------------------------
def _pm(s, key, scale=100, fmt="%.1f"):
    if not s or key not in s:
        return "n/a"
    v = s[key]
    if v.get("std") is None:
        return fmt % (v["mean"] * scale)
    return (fmt + " ± " + fmt) % (v["mean"] * scale, v["std"] * scale)


def _si(x):
    if x is None:
        return "n/a"
    x = float(x)
    for unit, f in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= f:
            return "%.3g%s" % (x / f, unit)
    return "%.0f" % x


def markdown(results, plots, out):
    meta = results["meta"]
    st = meta["settings"]
    key = str(st["memory_percent"])
    L = []
    a = L.append
    a("# tinycil benchmark: class-incremental learning on the paper's data sets")
    a("")
    a("Regenerate with one command (from the repository root):")
    a("")
    a("```")
    a(meta["command"].replace("tinycil bench", ".venv/bin/tinycil bench", 1)
      + ("    # = make bench" if st["memory_percent"] == 1.0 and not st["quick"] and meta["command"].endswith("--out bench") else ""))
    a("```")
    a("")
    m = meta["machine"]
    a("- git commit `%s`%s, run %s, %.0f s wall time" % (meta["git_commit"][:12],
      " (host/ or device/ had uncommitted changes)" if meta.get("git_dirty_host_or_device") else "",
      meta["date"], meta.get("runtime_seconds", 0)))
    a("- machine: %s cores, %s; Python %s, NumPy %s; %s" % (m["nproc"], m["cpu"], m["python"], m["numpy"], m["platform"]))
    a("- every number below is in [results.json](results.json); plots: %s" % ", ".join("[%s](%s)" % (p, p) for p in plots))
    if st["quick"]:
        a("- **--quick run**: digits only, one class order, one memory size, board-default hyperparameters: "
          "a pipeline check, not a result")
    a("")
    a("## Protocol")
    a("")
    a("- Class-incremental. For each class order (seeded permutation of the classes, %d orders) the first %s "
      "are the base classes, prepared on the host by `prepare.prepare_learner` (input scaling, "
      "frozen int8 %s front-end for inputs above 128 numbers fitted on %s, size search, distilled replay, int8 weights); "
      "then every other class arrives once, as one `learn_class` call with %d real training samples "
      "(its own validation part is every 5th sample, FORMAT.md section 7; after the check those rows join the replay set where the class's quota has room, section 7.7). Base classes use %d training "
      "samples each (subsampled, seeded)." % (st["orders"], _base_words(st), _kind_words(st), _frontend_words(st), st["new_per_class"],
         st["base_per_class"]))
    a("- Test accuracy after the base and after every step is measured on the full test split of the classes "
      "seen so far. Final accuracy: after the last class, over all classes. Average incremental accuracy: mean "
      "over all steps including the base. Forgetting: mean over every class but the last of (best earlier "
      "accuracy - final accuracy). Mean ± standard deviation over the orders.")
    a("- **Replay bytes.** `P %` of the training set means P % of the full official training split stored the "
      "way the board stores replay samples: each sample as int8 values in the learner's input space (after "
      "the front-end, `n_features` numbers) plus one float32 scale, i.e. `n_train × (n_features + 4) × P/100` "
      "bytes; this equals P % of the training *samples*. Every method that stores samples (ours, fixed, "
      "random, herding, kNN) gets exactly this budget; NCM stores one mean per class (less); naive stores "
      "nothing; joint keeps every training row it saw (float32, shown for reference).")
    a("- **Validation, never test.** A stratified 20 %% validation split is carved from each training split "
      "(`datasets.validation_split`). Choices made on it: learning rate, epochs, replay noise, the nearest-mean "
      "head's weight and whether the head trains with the network (ncm_separate; grid `%s`, by the fixed "
      "network's final validation accuracy, mean of the first %d class orders, then used by every network "
      "method), the front-end's output size for data sets with a front-end (%s PCA components, then at the chosen learning rate etc.: the "
      "one with the best final validation accuracy of the fixed network, mean of the first %d class orders; every "
      "method then works on those features, kNN and NCM included), `ours`' growth "
      "rule (the growth target's tolerance, the grow_step, 8 or 16, and min_hidden, the width prepare's size "
      "search starts from, 8, 16 or 32: the triple with the fewest FLOPs of `ours` "
      "within 1 point of fixed on validation, mean of the first %d class orders; when none gets there, "
      "within 1 point of the best any triple gives `ours`), the base width "
      "(`prepare`'s size search on its own split of the base classes' training rows), and kNN's "
      "k (1/3/5). max_hidden is not tuned: it is the widest of 64/48/32/24/16 whose buffers fit 96 KB "
      "(device/FORMAT.md section 8), the fixed network's width." % (
          st["select"] or "none: board defaults", select_orders(st), "/".join(str(k) for k in FEATURE_CHOICES),
          select_orders(st), select_orders(st)))
    a("- **FLOPs**: 2 per multiply-add. Inference: the trainable network of the final model (the frozen front-end "
      "is listed separately and is the same for every method). Training: everything the board does over the "
      "run's `learn_class` calls: forward + backward + momentum updates of every fit (including refits after "
      "growth), the accuracy checks, herding and distribution matching, and the front-end on the given samples; "
      "the host's base preparation is not counted. kNN/NCM: 3 FLOPs per feature per stored sample.")
    a("- CORe50 is not benchmarked: %s" % results.get("not_available", {}).get("core50", "not available"))
    a("")
    _headline(L, results, st)
    for name, d in results["datasets"].items():
        _dataset(L, name, d, st)
    _sweep(L, results, st)
    _deploy(L, results)
    _device(L, results)
    if (Path(out) / "discussion.md").exists():
        a("## Discussion")
        a("")
        a("A hand-written reading of these numbers: [discussion.md](discussion.md).")
        a("")
    return "\n".join(L) + "\n"


def _headline(L, results, st):
    a = L.append
    h = results["headline"]
    a("## Headline: ours vs fixed (memory %g %% of the training set)" % h["memory_percent"])
    a("")
    a("| data set | ours acc % | fixed acc % | ours - fixed (points) | inference FLOPs ours/fixed | incl. front-end | "
      "training FLOPs ours/fixed | ours - random | ours - herding | ours - kNN |")
    a("|---|---|---|---|---|---|---|---|---|---|")
    for r in h["rows"]:
        if "error" in r:
            a("| %s | failed: %s |  |  |  |  |  |  |  |  |" % (r["dataset"], r["error"]))
            continue
        a("| %s | %.1f | %.1f | %+.1f | %.2f | %.2f | %.2f | %s | %s | %s |" % (
            r["dataset"], 100 * r["ours_acc"], 100 * r["fixed_acc"], r["acc_diff_points"], r["inference_flops_ratio"],
            r["inference_flops_ratio_with_frontend"], r["train_flops_ratio"],
            _pts(r.get("vs_random_points")), _pts(r.get("vs_herding_points")), _pts(r.get("vs_knn_points"))))
    mn = h["mean"]
    if mn:
        a("| **mean** | %.1f | %.1f | **%+.1f** | **%.2f** | %.2f | %.2f | %s | %s | %s |" % (
            100 * mn["ours_acc"], 100 * mn["fixed_acc"], mn["acc_diff_points"], mn["inference_flops_ratio"],
            mn["inference_flops_ratio_with_frontend"], mn["train_flops_ratio"], _pts(mn.get("vs_random_points")),
            _pts(mn.get("vs_herding_points")), _pts(mn.get("vs_knn_points"))))
    a("")
    a("Accuracy: final accuracy over all classes, mean over the class orders. Ratios: of the means.")
    a("")
    a("| claim | measured | met? |")
    a("|---|---|---|")
    for c in h["claims"]:
        v = c["value"]
        a("| %s | %s | %s |" % (c["claim"], "n/a" if v is None else "%.3g" % v, "yes" if c["met"] else "**no**"))
    a("")
    j = h.get("joint_choice")
    if j:
        a("How far the FLOPs can go with these growth rules: choosing each data set's (min_hidden, grow_step, tolerance, "
          "undo) "
          "jointly on validation, to minimise the mean inference FLOPs ratio while the mean validation accuracy "
          "over the data sets stays within 1 point of fixed's (instead of within 1 point per data set), gives a "
          "mean ratio of **%.2f** at %+.1f validation points: %s. This is computed from the validation runs "
          "above, not run on test." % (j["mean_ratio"], j["mean_val_points"], "; ".join(
              "%s %s (%.2f, %+.1f points)" % (n, rule_name(c), c["ratio"], c["val_points"])
              for n, c in j["choice"].items())))
        a("")
        jr = results.get("joint_rule")
        if jr:
            a("Those jointly chosen rules, run on test (`ours` again, same orders and budget; fixed is the table's):")
            a("")
            a("| data set | rule | ours acc % | ours - fixed (points) | inference FLOPs ours/fixed | final hidden |")
            a("|---|---|---|---|---|---|")
            for n, r in jr["per_dataset"].items():
                rule = rule_name(r["rule"])
                if "error" in r:
                    a("| %s | %s | failed: %s | | | |" % (n, rule, r["error"]))
                    continue
                a("| %s | %s | %.1f | %+.1f | %.2f | %s |" % (
                    n, rule, 100 * r["ours_acc"], r["acc_diff_points"], r["inference_flops_ratio"],
                    ", ".join(str(x["hidden"][0]) if x.get("hidden") else "-" for x in r["runs"])))
            if "mean_acc_diff_points" in jr:
                a("| **mean** | | | **%+.1f** | **%.2f** | |" % (jr["mean_acc_diff_points"], jr["mean_inference_flops_ratio"]))
                a("")
                a("This trades points between data sets, as the goal's averaged terms allow: a user who needs every "
                  "data set within a point should read the headline table, whose rules are chosen per data set.")
            a("")
    _width_curves(a, results, h.get("narrowest_width"))


def _width_curves(a, results, nw):
    """The fixed network's validation accuracy by width, and the narrowest width within a point."""
    if not nw:
        return
    widths = sorted({c["max_hidden"] for d in results["datasets"].values()
                     for c in d["info"].get("width_curve") or []})
    a("How far one width per data set could go: the fixed network trained at each narrower width, on the same "
      "validation runs (mean of the same class orders). The narrowest width within 1 point of the widest "
      "one is what choosing one width per data set in hindsight would reach with the fixed network. It is a "
      "yardstick for the growth rules rather than a strict bound: ours at the same width was trained "
      "differently (it grew).")
    a("")
    a("| data set | " + " | ".join("fixed at %d" % w for w in widths) + " | narrowest within 1 point | its FLOPs / widest's |")
    a("|---|" + "---|" * len(widths) + "---|---|")
    for name, d in results["datasets"].items():
        curve = {c["max_hidden"]: c for c in d["info"].get("width_curve") or []}
        if name not in nw["per_dataset"]:
            continue
        n = nw["per_dataset"][name]
        cells = []
        for w in widths:
            c = curve.get(w)
            cells.append("-" if c is None else "n/a" if c["val_final_acc"] < 0 else "%.1f" % (100 * c["val_final_acc"]))
        a("| %s | %s | %d (%+.1f points) | %.2f |" % (name, " | ".join(cells), n["max_hidden"], n["val_points"], n["ratio"]))
    a("| **mean** | " + " | ".join("" for _ in widths) + " | | **%.2f** |" % nw["mean_ratio"])
    a("")
    a("Validation accuracy %, final, over all classes. \"-\": wider than the data set's max_hidden (RAM).")
    a("")


def _pts(v):
    return "n/a" if v is None else "%+.1f" % v


def _dataset(L, name, d, st):
    a = L.append
    info = d["info"]
    key = str(st["memory_percent"])
    runs = d["runs"].get(key, {})
    a("## %s" % name)
    a("")
    dep = info.get("deploy", {})
    bud = info["budgets"].get(key)
    a("- %d classes, inputs %s = %d numbers%s; full training split %d samples (validation carved: %d), test %d"
      % (len(info["classes"]), "x".join(map(str, info["input_shape"])), info["n_inputs"],
         ", front-end %s" % dep.get("frontend") if dep.get("frontend") not in (None, "none") else ", no front-end",
         info["n_train_full"], info["n_val"], info["n_test"]))
    a("- replay budget at %s %%: %s bytes = %d samples of %d bytes; (the raw training set as int8 would be %s bytes)"
      % (key, bud, (bud or 0) // (info["n_features"] + 4), info["n_features"] + 4, _si(info["raw_int8_bytes"])))
    hp = info["hyper"]
    a("- network: max_hidden %s, min_hidden %s, grow_step %s; lr %s, epochs %s, distill_lr %s, replay_noise %s, ncm_weight %s, "
      "ncm_separate %s (chosen on validation%s); base width after prepare's size search %s, growth target %s"
      % (hp["max_hidden"], hp["min_hidden"], hp["grow_step"], hp["lr"], hp["epochs"], hp.get("distill_lr"),
         hp.get("replay_noise"), hp.get("ncm_weight"), hp.get("ncm_separate", 0),
         "" if info.get("selection") else ": no, board defaults", dep.get("base_hidden"),
         "%.3f" % dep["target"] if "target" in dep else "n/a"))
    if info.get("selection"):
        a("- selection trials (fixed network, validation accuracy, mean of the first %d orders): "
          % select_orders(st) + "; ".join(
            " ".join("%s %g" % (k, t[k]) for k in SELECTABLE if k in t) + ": %.3f" % t["val_final_acc"] for t in info["selection"]))
    if info.get("feature_selection"):
        a("- front-end size (fixed network at the widest width that fits with that many features, mean final "
          "validation accuracy of %d orders): " % select_orders(st) + "; ".join(
              "%d features (max_hidden %d): %s" % (t["n_features"], t["max_hidden"],
                                                   "failed" if t["val_final_acc"] < 0 else "%.3f" % t["val_final_acc"])
              for t in info["feature_selection"]) + " -> **%d**" % info["n_features"])
    if info.get("target_selection"):
        chosen = [t["chosen"] for t in info["target_selection"] if "chosen" in t]
        a("- growth rule (min_hidden, where prepare's size search starts; grow_step; the tolerance below the "
          "fixed base model's validation accuracy that sets the target; and undo: grow_undo 1, a widening that "
          "does not raise the check dropped again; fewest FLOPs of `ours` within 1 point of "
          "fixed on validation, mean of %d orders, else within 1 point of ours' best): " % select_orders(st) + "; ".join(
            "%s (target %s): val %.3f, %s FLOPs" % (
                rule_name(dict(t, grow_step=t.get("grow_step", 8))),
                "%.3f" % t["target"] if "target" in t else "-", t["val_final_acc"], _si(t["inference_flops"]))
            for t in info["target_selection"]) + " -> **%s**" % rule_name(dict(hp, tolerance=hp.get("tolerance", 0.02))) + (
                " (%s)" % chosen[0] if chosen else ""))
    a("")
    a("| method | final acc % | avg incr. acc % | forgetting (points) | inference FLOPs | training FLOPs | "
      "params | replay bytes | % of data set | final hidden |")
    a("|---|---|---|---|---|---|---|---|---|---|")
    n_bytes_full = info["n_train_full"] * (info["n_features"] + 4)
    for m in ("ours", "fixed", "random", "herding", "knn", "ncm", "naive", "joint"):
        r = runs.get(m)
        if r is None:
            continue
        s = r.get("summary")
        if not s:
            a("| %s | failed: %s |  |  |  |  |  |  |  |  |" % (m, r.get("error")))
            continue
        hid = [x["hidden_steps"][-1] for x in r["runs"] if "hidden_steps" in x]
        extra = " (k=%d)" % r["runs"][0]["k"] if m == "knn" and "k" in r["runs"][0] else ""
        a("| %s%s | %s | %s | %s | %s | %s | %s | %s | %.2f | %s |" % (
            m, extra, _pm(s, "final_acc"), _pm(s, "avg_inc_acc"), _pm(s, "forgetting"),
            _si(s["inference_flops"]["mean"]), _si(s["train_flops"]["mean"]), _si(s["params"]["mean"]),
            _si(s["replay_bytes"]["mean"]), 100 * s["replay_bytes"]["mean"] / n_bytes_full,
            ", ".join(str(h[0]) if h else "-" for h in hid)))
    fe = None
    for r in runs.values():
        for x in r.get("runs", []):
            if "frontend_flops" in x:
                fe = x["frontend_flops"]
                break
    a("")
    a("Front-end FLOPs per sample (same for all methods, not in the table): %s. \"final hidden\": one entry per order."
      % _si(fe or 0))
    a("")


def _sweep(L, results, st):
    a = L.append
    pcts = sorted({float(p) for d in results["datasets"].values() for p in d["runs"]})
    if len(pcts) < 2:
        return
    a("## Memory sweep: final accuracy % at 0.5 / 1 / 2 % of the training set")
    a("")
    a("| data set | memory % | bytes | RAM estimate | ours | fixed | random | herding | kNN |")
    a("|---|---|---|---|---|---|---|---|---|")
    for name, d in results["datasets"].items():
        for p in pcts:
            k = _pkey(d["runs"], p)
            runs = d["runs"].get(k, {})
            cells = []
            for m in ("ours", "fixed", "random", "herding", "knn"):
                r = runs.get(m)
                if r is None:
                    cells.append("")
                elif r.get("summary"):
                    cells.append(_pm(r["summary"], "final_acc"))
                else:
                    cells.append("n/a: %s" % str(r.get("error"))[:80])
            ram = d["info"].get("deploy", {}).get("ram_total_by_percent", {}).get(k)
            a("| %s | %g | %s | %s%s | %s |" % (name, p, d["info"]["budgets"].get(k), _si(ram),
                                               "" if ram is None or ram <= 96 * 1024 else " (**> 96 KB**)", " | ".join(cells)))
    a("")


def _deploy(L, results):
    a = L.append
    a("## Deployability (96 KB RAM for the trainable part, 256 KB flash for a frozen front-end)")
    a("")
    a("| data set | front-end | front-end int8 bytes | fits 256 KB | net buffers (W, momentum, activations) | "
      "replay | input scaling and rows | learn_class workspace | total RAM | fits 96 KB | the caller's raw samples (f32) |")
    a("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, d in results["datasets"].items():
        dep = d["info"].get("deploy")
        if not dep:
            continue
        r = dep["ram"]
        a("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, dep["frontend"], _si(dep["frontend_bytes_int8"]), "yes" if dep["frontend_fits_flash"] else "**no**",
            _si(r["net"]), _si(r["replay"]), _si(r.get("input")), _si(r["learn_class"]), _si(r["total"]),
            "yes" if dep["ram_fits"] else "**no**", _si(r["raw_samples_f32"])))
    a("")
    a("RAM is what the device code allocates (device/FORMAT.md section 8, `reference.board_ram`; tests/test_ram.py "
      "checks it against real device learners) at max_hidden, the main memory budget and max_samples = the "
      "samples per call; MicroPython's own overhead is not "
      "included (see `tinycil bench-device` for measured peak heap). The front-end's int8 weights stay in "
      "the learner file on the board (flash): `tinycil.load` reads them 1 KB at a time as it computes "
      "features, keeping only their scales and biases (8 bytes per output) and one block of at most "
      "max(1 KB, n_inputs) bytes in RAM (device/FORMAT.md section 8). The caller's raw samples for one call (float32) are listed separately: "
      "for high-dimensional inputs a board must pass fewer samples per call than this benchmark does.")
    a("")


def _device(L, results):
    a = L.append
    dr = results.get("device_repeat")
    if not dr:
        return
    a("## The same run with the device code under MicroPython")
    a("")
    if "error" in dr:
        a("The repeat on %s failed: %s" % (dr.get("dataset"), dr["error"]))
        a("")
        return
    a("`ours` on %s, order %s, %d samples per new class, %d test rows, from the same prepared learner file: "
      "the NumPy reference vs the device package under the unix MicroPython port."
      % (dr["dataset"], dr["order"], dr["new_per_class"], dr["test_rows"]))
    a("")
    a("| run | backend | accuracy after each step % | final hidden | max |diff| vs NumPy (points) | seconds |")
    a("|---|---|---|---|---|---|")
    for label, r in dr["runs"].items():
        if "error" in r:
            a("| %s | - | error: %s |  |  |  |" % (label, r["error"].replace("\n", " ")[:200]))
            continue
        a("| %s | %s | %s | %s | %s | %s |" % (
            label, r.get("backend", "numpy"), " ".join("%.1f" % (100 * v) for v in r["acc_steps"]), r.get("hidden"),
            "%.2f" % r["max_abs_diff_points"] if "max_abs_diff_points" in r else "-", r["seconds"]))
    if "ulab" not in dr["runs"]:
        a("")
        a("No ulab build: set `MICROPYTHON` to a ulab-enabled unix port to add that row.")
    a("")


def _base_words(st):
    want = st.get("base_classes", N_BASE)
    return "half of the classes (the B50 protocol)" if want == "half" else "%d classes" % int(want)


def _kind_words(st):
    kind = st.get("frontend_kind", "pca")
    how = {"random": " (seeded +-1 directions, each output centred and scaled)"}.get(kind, "")
    return frontend.NAMES[kind] + how


def _frontend_words(st):
    if st.get("frontend_fit") == "unlabelled":
        return "every class's training rows without their labels"
    return "the base classes' training rows"
