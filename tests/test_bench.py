"""`tinycil bench --quick`: the whole pipeline on digits, then checks on what it wrote."""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinycil_host.bench import cli, methods, protocol, select, settings
from tinycil_host.bench.budget import budget_bytes, learner_defaults

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    t0 = time.time()
    r = subprocess.run([sys.executable, "-m", "tinycil_host.cli", "bench", "--quick", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return out, json.loads((out / "results.json").read_text()), time.time() - t0


def test_quick_writes_report_plots_and_json(quick):
    out, res, seconds = quick
    assert seconds < 120
    for f in ("report.md", "results.json", "accuracy_steps.png", "accuracy_vs_flops.png"):
        assert (out / f).stat().st_size > 500, f
    assert (out / "accuracy_steps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    for heading in ("## Headline", "## digits", "## Deployability", "CORe50"):
        assert heading in md
    assert res["meta"]["git_commit"] and res["meta"]["machine"]["nproc"] >= 1
    assert "--quick" in res["meta"]["command"]


def test_quick_numbers_are_sane(quick):
    _, res, _ = quick
    d = res["datasets"]["digits"]
    runs = d["runs"]["1.0"]
    assert set(runs) == set(settings.METHODS)
    for m, r in runs.items():
        assert r["summary"] is not None, (m, r.get("error"))
        s = r["summary"]
        assert 0.0 <= s["final_acc"]["mean"] <= 1.0
        steps = s["acc_steps"]["mean"]
        assert len(steps) == len(d["info"]["classes"]) - settings.N_BASE + 1
    acc = {m: runs[m]["summary"]["final_acc"]["mean"] for m in runs}
    # joint training on all data is the upper bound of naive fine-tuning, by a wide margin
    assert acc["joint"] > acc["naive"] + 0.3
    # naive fine-tuning forgets: after 8 new classes it is far below joint and forgets a lot
    assert runs["naive"]["summary"]["forgetting"]["mean"] > 0.5
    # every replay method stays within its byte budget; the budget is 1 % of the stored training set
    budget = d["info"]["budgets"]["1.0"]
    assert budget == budget_bytes(d["info"]["n_train_full"], d["info"]["n_features"], 1.0)
    for m in ("ours", "fixed", "random", "herding", "knn"):
        assert 0 < runs[m]["summary"]["replay_bytes"]["mean"] <= budget, m
    assert runs["naive"]["summary"]["replay_bytes"]["mean"] == 0
    # fixed is at max width from the start, ours never wider
    mh = d["info"]["hyper"]["max_hidden"]
    assert all(h == [mh] for h in runs["fixed"]["runs"][0]["hidden_steps"])
    ours_h = [h[0] for h in runs["ours"]["runs"][0]["hidden_steps"]]
    assert ours_h == sorted(ours_h) and ours_h[-1] <= mh
    assert runs["ours"]["summary"]["inference_flops"]["mean"] <= runs["fixed"]["summary"]["inference_flops"]["mean"]
    # training FLOPs are counted, and distillation costs more than herding alone
    assert runs["fixed"]["summary"]["train_flops"]["mean"] > runs["herding"]["summary"]["train_flops"]["mean"] > 0
    h = res["headline"]
    assert h["rows"][0]["dataset"] == "digits" and "acc_diff_points" in h["rows"][0]
    assert abs(h["rows"][0]["acc_diff_points"] - 100 * (acc["ours"] - acc["fixed"])) < 1e-6


def test_quantize_rows_follows_the_one_rule():
    X = np.array([[0.0, 0.0], [1.0, -0.5], [127.0, 63.5]], np.float32)
    scale, q = methods.quantize_rows(X)
    assert scale[0] == 1.0 and q[0].tolist() == [0, 0]
    # the quotient is rounded to float32 first: -0.5/s with s = f32(1/127) is -63.5 exactly,
    # a half, rounded up to -63, as the board computes it (the same function writes the file)
    assert q[1].tolist() == [127, -63] and q[2].tolist() == [127, 64]
    assert np.allclose(methods.dequantize(scale, q)[2], [127, 64])


def test_knn_ties_go_to_the_nearest():
    S = np.array([[0.0], [1.0], [1.1], [5.0]], np.float32)
    Y = np.array([0, 1, 2, 2])
    F = np.array([[0.4], [4.0]], np.float32)
    assert methods.knn_predict((S, Y), F, 1).tolist() == [0, 2]
    assert methods.knn_predict((S, Y), F, 3).tolist() == [0, 2]


def test_fit_flops_counts_forward_backward_and_updates():
    sizes = [4, 3, 2]
    F = methods.mlp_flops(sizes)
    assert F == 2 * (12 + 6)
    P = methods.mlp_params(sizes)
    one = methods.fit_flops(sizes, 1, 1, 16, momentum=True)
    assert one == 3 * F - 2 * 12 + 5 * 2 + 4 * P
    assert methods.fit_flops(sizes, 32, 2, 16, momentum=True) == 2 * (32 * (one - 4 * P) + 2 * 4 * P)
    # plain SGD updates with 2 FLOPs a parameter; the nearest-mean head adds its logits' 2 n0 C a row
    assert methods.fit_flops(sizes, 1, 1, 16) == one - 2 * P
    assert methods.fit_flops(sizes, 1, 1, 16, ncm=True) == one - 2 * P + 2 * 4 * 2


def test_growth_rule_is_the_cheapest_within_a_point_of_fixed():
    c = lambda step, tol, acc, flops: {"grow_step": step, "tolerance": tol, "val_final_acc": acc,
                                      "inference_flops": flops}
    cands = [c(8, 0.02, 0.80, 4000), c(16, 0.02, 0.81, 4000), c(8, 0.4, 0.795, 2000), c(16, 0.4, 0.70, 600)]
    best = select.cheapest_within_a_point(cands, fixed_val=0.803)
    assert (best["grow_step"], best["tolerance"]) == (8, 0.4)
    assert best["chosen"].startswith("within 1 point of fixed")
    # nothing reaches fixed: the cheapest within a point of ours' best (0.81), ties to the more accurate
    best = select.cheapest_within_a_point(cands, fixed_val=0.85)
    assert (best["grow_step"], best["tolerance"]) == (16, 0.02)
    assert best["chosen"].startswith("nothing within 1 point of fixed")


def test_joint_choice_trades_points_across_data_sets():
    def ds(fixed_val, cands):
        return {"info": {"target_selection": [
            {"grow_step": 8, "tolerance": tol, "val_final_acc": acc, "inference_flops": fl,
             "fixed_val_acc": fixed_val, "fixed_inference_flops": 100.0} for tol, acc, fl in cands]}}
    results = {"datasets": {
        # a: a cheap rule costs 3 points; b: a cheap rule costs nothing and the full one gains 2
        "a": ds(0.80, [(0.02, 0.80, 100.0), (0.4, 0.77, 20.0)]),
        "b": ds(0.60, [(0.02, 0.62, 100.0), (0.4, 0.60, 30.0), (1.0, 0.585, 10.0)]),
    }}
    j = select.joint_choice(results)
    # (0.4, 0.4): mean loss 1.5 points, too much; (0.4 on a, 0.02 on b): -0.5 points at ratio 0.6;
    # (0.02 on a, 1.0 on b): -0.75 points at 0.55, the lowest within a point
    assert {n: c["tolerance"] for n, c in j["choice"].items()} == {"a": 0.02, "b": 1.0}
    assert abs(j["mean_ratio"] - 0.55) < 1e-9 and abs(j["mean_val_points"] + 0.75) < 1e-9
    assert select.joint_choice({"datasets": {"a": ds(0.9, [(0.4, 0.5, 10.0)])}}) is None


def test_narrowest_width_within_a_point_of_the_widest():
    c = lambda H, acc: {"max_hidden": H, "val_final_acc": acc, "inference_flops": 100.0 * H}
    # 24 is the narrowest within a point of 64's 0.800 (16 is 1.5 points short; 48 is wider)
    best, ratio = select.narrowest_within_a_point([c(8, 0.70), c(16, 0.785), c(24, 0.792), c(48, 0.81), c(64, 0.80)])
    assert best["max_hidden"] == 24 and abs(ratio - 24 / 64) < 1e-12
    # a failed width (-1) never qualifies; the widest always does
    best, ratio = select.narrowest_within_a_point([c(8, -1.0), c(16, 0.5), c(32, 0.9)])
    assert best["max_hidden"] == 32 and ratio == 1.0
    assert select.narrowest_within_a_point([]) == (None, None)
    results = {"datasets": {"a": {"info": {"width_curve": [c(8, 0.70), c(16, 0.795), c(32, 0.80)]}},
                            "b": {"info": {"width_curve": [c(8, 0.20), c(64, 0.30)]}},
                            "quick": {"info": {"width_curve": []}}}}
    nw = select.narrowest_widths(results)
    assert set(nw["per_dataset"]) == {"a", "b"}
    assert nw["per_dataset"]["a"]["max_hidden"] == 16 and abs(nw["per_dataset"]["a"]["val_points"] + 0.5) < 1e-9
    assert abs(nw["mean_ratio"] - (0.5 + 1.0) / 2) < 1e-12
    from tinycil_host.bench import report
    lines = []
    report._width_curves(lines.append, results, nw)
    table = [ln for ln in lines if ln.startswith("| a |") or ln.startswith("| b |")]
    assert table[0] == "| a | 70.0 | 79.5 | 80.0 | - | 16 (-0.5 points) | 0.50 |"
    assert table[1] == "| b | 20.0 | - | - | 30.0 | 64 (+0.0 points) | 1.00 |"


def _settings(*argv):
    """`tinycil bench` settings from these command-line arguments (plus --out)."""
    from argparse import ArgumentParser
    p = ArgumentParser()
    cli.add_arguments(p)
    return cli.settings_from(p.parse_args(["--out", "x"] + list(argv)))


def test_select_orders_sets_how_many_validation_orders_each_choice_averages():
    split = type("S", (), {"order": staticmethod(lambda k, seed: [k, seed])})()
    assert select.validation_orders(split, _settings()) == [[0, 0], [1, 0], [2, 0]]   # settings.SELECT_ORDERS
    assert len(select.validation_orders(split, _settings("--orders", "1"))) == 1        # never more than --orders by default
    assert select.validation_orders(split, _settings("--select-orders", "5", "--seed", "4")) == [[k, 4] for k in range(5)]
    assert len(select.validation_orders(split, _settings("--select-orders", "5", "--quick"))) == 1
    with pytest.raises(settings.BenchError, match="--select-orders"):
        _settings("--select-orders", "0")


def test_width_curve_trains_the_fixed_network_at_each_narrower_width():
    from tinycil_host import datasets
    from tinycil_host.progress import Bar
    st = _settings("--orders", "1", "--base-per-class", "40", "--new-per-class", "20")
    D = datasets.load("digits")
    hyper, nf_out, nf = learner_defaults(D, st)
    hyper = dict(hyper, max_hidden=32, epochs=5)
    split = protocol.Split(D, st["seed"], nf)
    trial = {"fixed_val_acc": 0.5, "fixed_inference_flops": 1234.0}
    with Bar(10, enabled=False) as bar:
        curve = select.width_curve(split, st, hyper, nf_out, [trial], bar)
    assert [c["max_hidden"] for c in curve] == [8, 16, 24, 32]
    # the narrower ones were run: FLOPs of a network that width, accuracy a real fraction
    for c in curve[:-1]:
        # the dense layers and the nearest-mean head (FORMAT.md 4)
        assert c["inference_flops"] == 2 * c["max_hidden"] * (D.n_features + len(D.classes)) + \
            2 * D.n_features * len(D.classes)
        assert 0.0 < c["val_final_acc"] <= 1.0
    # the widest is select_target's fixed run, not run again
    assert (curve[-1]["val_final_acc"], curve[-1]["inference_flops"]) == (0.5, 1234.0)
    assert select.width_curve(split, st, hyper, nf_out, [], bar) == []


def test_front_end_size_is_the_fixed_networks_best_on_validation(monkeypatch):
    from tinycil_host import datasets
    from tinycil_host.progress import Bar
    st = _settings("--orders", "1", "--base-per-class", "40", "--new-per-class", "20")
    D = datasets.load("digits")
    hyper = dict(learner_defaults(D, st)[0], epochs=5)
    # digits has no front-end: nothing to choose
    with Bar(10, enabled=False) as bar:
        assert select.select_features(D, st, hyper, [{"x": 1}], bar) == (None, [])
        monkeypatch.setitem(settings.N_FEATURES, "digits", 32)   # a PCA front-end, as the larger data sets have
        k, trials = select.select_features(D, st, hyper, [{"x": 1}], bar, choices=(4, 16))
        assert select.select_features(D, st, hyper, [], bar) == (32, [])   # no selection asked
    assert [t["n_features"] for t in trials] == [4, 16]
    for t in trials:   # each was run: a network on that many features, accuracy a real fraction
        assert t["inference_flops"] == 2 * t["max_hidden"] * (t["n_features"] + len(D.classes)) + \
            2 * t["n_features"] * len(D.classes)  # and the nearest-mean head
        assert 0.0 < t["val_final_acc"] <= 1.0
    best = max(trials, key=lambda t: t["val_final_acc"])
    assert k == best["n_features"] and best["chosen"]
    # 4 PCA components cannot separate digits as well as 16
    assert trials[0]["val_final_acc"] < trials[1]["val_final_acc"]


def test_growth_rule_search_covers_where_the_size_search_starts(monkeypatch):
    """select_target tries every (min_hidden, grow_step, tolerance, grow_undo) below max_hidden
    and hands the chosen rule on; here only starting at 16 gets within a point of fixed, and
    undo pays only there (fewer FLOPs at tolerance 0.1)."""
    from tinycil_host.progress import Bar
    seen = []

    def fake_run(split, st, orders, method, h, nf_out):
        if method == "fixed":
            return 0.80, 1000.0, 0.8
        seen.append((h["min_hidden"], h["grow_step"], h["tolerance"], h["grow_undo"]))
        acc = 0.795 if h["min_hidden"] == 16 else 0.75
        saved = 50.0 if h["grow_undo"] and h["tolerance"] == 0.1 else 0.0
        return acc, 100.0 * h["min_hidden"] + h["grow_step"] + h["tolerance"] - saved, 0.7

    monkeypatch.setattr(select, "validation_run", fake_run)
    monkeypatch.setattr(select, "validation_orders", lambda split, st: [[0, 1]])
    split = type("S", (), {"D": type("D", (), {"name": "x"})})()
    with Bar(200, enabled=False) as bar:
        hyper, cands = select.select_target(split, {}, {"max_hidden": 24}, None, [{"x": 1}], bar)
    # 32 is not narrower than max_hidden 24: not tried
    assert {s[0] for s in seen} == {0, 8, 16} and {s[3] for s in seen} == set(settings.GROW_UNDOS)
    assert len(seen) == 3 * len(settings.GROW_STEPS) * len(settings.TOLERANCES) * len(settings.GROW_UNDOS) == len(cands)
    assert (hyper["min_hidden"], hyper["grow_step"], hyper["tolerance"], hyper["grow_undo"]) == (16, 8, 0.1, 1)
    assert select.rule_name(hyper) == "min 16 step 8 tol 0.1 undo"
    assert select.rule_name({"grow_step": 8, "tolerance": 1}) == "min 8 step 8 tol 1"  # an older results.json


def test_joint_rule_summary_compares_with_the_main_fixed_runs():
    from tinycil_host.bench import runs
    def fixed(acc, flops):
        return {"runs": {"1.0": {"fixed": {"summary": {"final_acc": {"mean": acc}, "inference_flops": {"mean": flops}}}}}}
    results = {"datasets": {"a": fixed(0.80, 1000.0), "b": fixed(0.60, 2000.0)}}
    rule = {"min_hidden": 16, "grow_step": 8, "tolerance": 1.0}
    per = {"a": {"rule": rule, "runs": [{"final_acc": 0.79, "inference_flops": 300.0, "hidden": [16]},
                                         {"final_acc": 0.77, "inference_flops": 500.0, "hidden": [24]}]},
           "b": {"rule": rule, "runs": [{"final_acc": 0.61, "inference_flops": 1000.0, "hidden": [32]}]}}
    out = runs.joint_rule_summary(results, per, "1.0")
    assert abs(out["per_dataset"]["a"]["acc_diff_points"] + 2.0) < 1e-9
    assert abs(out["per_dataset"]["a"]["inference_flops_ratio"] - 0.4) < 1e-9
    assert abs(out["mean_acc_diff_points"] + 0.5) < 1e-9          # (-2 + 1) / 2
    assert abs(out["mean_inference_flops_ratio"] - 0.45) < 1e-9   # (0.4 + 0.5) / 2
    assert out["met"]
    # a failed order: that data set reports the error and there is no mean
    per["b"]["runs"].append({"error": "diverged"})
    out = runs.joint_rule_summary(results, per, "1.0")
    assert out["per_dataset"]["b"]["error"] == "diverged" and "mean_acc_diff_points" not in out


def test_joint_rule_runs_run_ours_with_the_jointly_chosen_rule(monkeypatch):
    """The wiring: each data set's ours is prepared with the joint choice's min_hidden,
    grow_step and tolerance, on the front-end size and budget the main run used, once per
    order, and compared with the main run's fixed."""
    from tinycil_host import datasets
    from tinycil_host.bench import runs
    from tinycil_host.progress import Bar
    st = _settings("--orders", "2")
    D = datasets.load("digits")
    hyper = dict(learner_defaults(D, st)[0], tolerance=0.02)
    fixed = {"summary": {"final_acc": {"mean": 0.8}, "inference_flops": {"mean": 1000.0}}}
    results = {"datasets": {"digits": {"info": {"hyper": hyper, "budgets": {"1.0": 977}, "frontend_features": None},
                                       "runs": {"1.0": {"fixed": fixed}}}}}
    rule = {"min_hidden": 16, "grow_step": 16, "tolerance": 1.0, "val_points": 0.0, "ratio": 0.5}
    monkeypatch.setattr(runs, "joint_choice", lambda res: {"choice": {"digits": rule}})
    seen = []

    def fake_prepare(base, split, st_, nf_out, variants):
        seen.append((dict(base.hyper), nf_out, variants, list(base.order)))
        base.prepared = {"ours": None}
        return base

    monkeypatch.setattr(runs, "prepare_bases", fake_prepare)
    monkeypatch.setattr(runs, "LearnerMethod", lambda base, name: name)
    monkeypatch.setattr(runs, "run_protocol", lambda m, base, X, y: {
        "final_acc": 0.79, "inference_flops": 400.0, "hidden_steps": [[16]]})
    with Bar(10, enabled=False) as bar:
        out = runs.joint_rule_runs(results, st, {"digits": D}, bar)
    assert len(seen) == 2 and seen[0][3] != seen[1][3]          # one run per class order
    h, nf_out, variants, _ = seen[0]
    assert (h["min_hidden"], h["grow_step"], h["tolerance"], h["memory_bytes"]) == (16, 16, 1.0, 977)
    assert nf_out is None and variants == ["ours"]
    r = out["per_dataset"]["digits"]
    assert abs(r["acc_diff_points"] + 1.0) < 1e-9 and abs(r["inference_flops_ratio"] - 0.4) < 1e-9


def _four_digits(path):
    """A user's data set in the shared layout: four digit classes, named, with a split."""
    from sklearn.datasets import load_digits
    d = load_digits()
    m = d.target < 4
    y = d.target[m]
    np.savez(path, X=d.data[m].astype(np.float32), y=y, split=(np.arange(len(y)) % 5 == 4).astype(np.int8),
             classes=np.array(["a", "b", "c", "d"]))
    return path


def _bench(*args):
    return subprocess.run([sys.executable, "-m", "tinycil_host.cli", "bench", "--quick", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_bench_runs_on_a_data_file(tmp_path):
    data = _four_digits(tmp_path / "four.npz")
    r = _bench("--dataset", data, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    (name, ds), = res["datasets"].items()
    assert name == str(data)
    assert ds["info"]["classes"] == ["a", "b", "c", "d"]
    row, = res["headline"]["rows"]
    assert row["dataset"] == str(data) and 0.25 < row["ours_acc"] <= 1.0 and 0.25 < row["fixed_acc"] <= 1.0


def test_a_budget_below_one_sample_is_a_line_in_the_report_not_a_traceback(tmp_path):
    data = _four_digits(tmp_path / "four.npz")
    r = _bench("--dataset", data, "--memory-percent", "0.05", "--out", tmp_path / "out")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "failed: prepare: memory_bytes=19 cannot hold one sample of 68 bytes" in md


def test_an_unknown_data_set_names_the_choices(tmp_path):
    r = _bench("--dataset", tmp_path / "missing.npz", "--out", tmp_path / "out")
    assert r.returncode != 0 and "unknown data set" in r.stderr and "digits" in r.stderr


def test_b50_prepares_half_of_the_classes_as_the_base(tmp_path):
    r = _bench("--base-classes", "half", "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    d = res["datasets"]["digits"]
    ours = d["runs"]["1.0"]["ours"]
    # the base (5 of digits' 10 classes) and then five learn_class steps
    assert len(ours["summary"]["acc_steps"]["mean"]) == 6
    assert len(ours["runs"][0]["hidden_steps"]) == 6
    assert "half of the classes (the B50 protocol)" in (tmp_path / "out" / "report.md").read_text()


def test_base_class_count_is_checked_and_leaves_a_class_to_learn():
    assert _settings()["base_classes"] == settings.N_BASE
    assert _settings("--base-classes", "half")["base_classes"] == "half"
    for bad in ("1", "x", "-3"):
        with pytest.raises(settings.BenchError, match="--base-classes"):
            _settings("--base-classes", bad)
    assert protocol.n_base({"base_classes": "half"}, 10) == 5
    assert protocol.n_base({"base_classes": "half"}, 3) == 2
    assert protocol.n_base({"base_classes": 9}, 4) == 3
    assert protocol.n_base({}, 10) == settings.N_BASE


def test_front_end_fitted_on_unlabelled_rows_of_every_class():
    from tinycil_host import datasets, prepare
    D = datasets.load("digits")
    everything = D.X_train.astype(np.float32)
    _, on_base = prepare.prepare_learner(D, [0, 1], frontend_kind="pca", features=8, base_epochs=2)
    _, on_all = prepare.prepare_learner(D, [0, 1], frontend_kind="pca", features=8, base_epochs=2,
                                        frontend_rows=everything)
    # whitened on the rows it was fitted on: unit variance there (int8 weights: to a few %), not elsewhere
    def spread(lrn, X):
        return lrn.features(X).std(axis=0)
    assert np.allclose(spread(on_all, everything), 1.0, atol=0.05)
    assert not np.allclose(spread(on_base, everything), 1.0, atol=0.05)
    with pytest.raises(prepare.PrepareError, match="frontend_rows have 10 inputs"):
        prepare.prepare_learner(D, [0, 1], frontend_kind="pca", features=8, base_epochs=2,
                                frontend_rows=everything[:, :10])
    with pytest.raises(prepare.PrepareError, match="64 inputs get no front-end: pass --frontend pca"):
        prepare.prepare_learner(D, [0, 1], base_epochs=2, frontend_rows=everything)


def test_claims_hold_on_every_data_set_or_name_the_worst_margin():
    from tinycil_host.bench.headline import headline

    def run(acc, flops=100):
        return {"summary": {"final_acc": {"mean": acc}, "inference_flops": {"mean": flops},
                            "train_flops": {"mean": 1.0}}, "runs": [{"frontend_flops": 0}]}

    def data(ours, fixed, ncm, herding, random, knn):
        return {"info": {}, "runs": {"1.0": {"ours": run(ours, 40), "fixed": run(fixed), "ncm": run(ncm),
                                             "herding": run(herding), "random": run(random), "knn": run(knn)}}}
    res = {"datasets": {"a": data(0.80, 0.80, 0.70, 0.79, 0.78, 0.5), "b": data(0.60, 0.62, 0.63, 0.55, 0.55, 0.4)}}
    claims = {c["claim"]: c for c in headline(res, {"memory_percent": 1.0})["claims"]}
    fixed = claims["ours within 1 point of fixed on every data set"]
    assert not fixed["met"] and abs(fixed["value"] + 2.0) < 1e-9 and abs(fixed["per_dataset_points"]["a"]) < 1e-9
    ncm = claims["ours >= nearest class mean on every data set"]
    assert not ncm["met"] and abs(ncm["value"] + 3.0) < 1e-9
    assert claims["ours >= herding exemplars at equal bytes on every data set"]["met"]
    assert claims["ours >= random exemplars at equal bytes on every data set"]["met"]
    flops = claims["ours <= 43 % of fixed's inference FLOPs (trainable part, mean)"]
    assert flops["met"] and abs(flops["value"] - 0.4) < 1e-9
