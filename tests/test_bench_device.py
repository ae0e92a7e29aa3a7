"""bench-device's pieces that need no interpreter: the heap search and the report."""
from tinycil_host import bench_device


def test_smallest_heap_searches_down_and_up_in_2wk_steps():
    tried = []

    def at_least(n):
        def passes(h):
            tried.append(h)
            return h >= n
        return passes

    assert bench_device.smallest_heap(at_least(91), 96) == 92       # binary search below the start
    assert bench_device.smallest_heap(at_least(300), 96) == 300     # doubles from a failing start first
    assert 192 in tried and 384 in tried
    assert bench_device.smallest_heap(lambda h: False, 96, limit=400) is None


def _row(**extra):
    row = {"interpreter": "/x/micropython", "backend": "pure", "issue_heap_wk": 96, "passed_at_issue_heap": True,
           "seconds_per_class": [1.0, 3.0], "final_accuracy": 0.9, "smallest_heap_wk": 90}
    row.update(extra)
    return row


def test_report_states_the_front_end_scenario_or_why_it_was_skipped():
    meta = {"command": "tinycil bench-device", "git": "abc", "date": "d", "machine": "m"}
    fe = {"frontend_bytes": 25350, "file_bytes": 47344, "board_ram": 103484,
          "file": {"smallest_heap_wk": 206, "accuracy": 0.845, "seconds_per_class": [1.0, 1.1]},
          "ram": {"smallest_heap_wk": None, "accuracy": None, "seconds_per_class": []}}
    text = bench_device._report(meta, [_row(frontend=fe)])
    assert "| read from the file (`tinycil.load` default) | 206wK | 1.0 / 1.1 | 0.845 |" in text
    assert "| held in RAM (`frontend_in_ram=True`) | none up to 1024wK | - | - |" in text
    assert "25350 int8 bytes" in text
    text = bench_device._report(meta, [_row(frontend={"skipped": "no such data set: mnist"})])
    assert "scenario was skipped: no such data set: mnist" in text


def test_mnist_scenario_is_the_committed_benchmarks_mnist_learner():
    """bench-device claims to measure the benchmark's MNIST learner: its settings must follow
    bench/results.json when the benchmark is regenerated (the RAM depends on every one of them)."""
    import json
    from pathlib import Path
    res = json.loads((Path(__file__).resolve().parents[1] / "bench" / "results.json").read_text())
    info = res["datasets"]["mnist"]["info"]
    L = bench_device.MNIST_LEARNER
    assert L["features"] == info["n_features"]
    assert L["memory_bytes"] == info["budgets"][str(res["meta"]["settings"]["memory_percent"])]
    for k in ("max_hidden", "min_hidden", "grow_step", "tolerance", "max_classes", "max_per_class", "replay_noise",
              "lr"):
        assert L[k] == info["hyper"][k], k
