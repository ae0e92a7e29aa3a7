"""bench-device's pieces that need no board: the heap search, the report, the emulated board's
runner, and the MNIST learner's settings."""
import json
from pathlib import Path

import pytest

from tinycil_host import qemu_board
from tinycil_host.bench import boards, device_report, settings


def test_smallest_heap_searches_down_and_up_in_steps():
    tried = []

    def at_least(n):
        def passes(h):
            tried.append(h)
            return h >= n
        return passes

    assert boards.smallest_heap(at_least(91), 96) == 92       # binary search below the start
    assert boards.smallest_heap(at_least(300), 96) == 300     # doubles from a failing start first
    assert 192 in tried and 384 in tried
    assert boards.smallest_heap(lambda h: False, 96, limit=400) is None


META = {"command": "tinycil bench-device", "git": "abc", "date": "d", "machine": "m", "cpu": "c"}


def _results(**extra):
    res = {"interpreters": ["/x/m32 (MicroPython 1.28.0, 32-bit, float32, pure)"], "missing": [],
           "host_seconds": {"numpy": 0.25, "ulab-f32-64bit": 0.45, "pure-f64-64bit": 6.0},
           "heaps": [{"interpreter": "/x/m32", "tag": "pure-f32-32bit", "backend": "pure", "digits_kb": 72,
                      "mnist": {"file": {"smallest_heap_kb": 104, "accuracy": 0.8},
                                "ram": {"smallest_heap_kb": None, "accuracy": None}}}],
           "mnist": {"frontend_bytes": 25350, "file_bytes": 47344, "board_ram": 60000},
           "qemu": {"skipped": "TINYCIL_QEMU_FIRMWARE is not set"}}
    res.update(extra)
    return res


def test_report_states_heaps_goals_boards_ratios_and_what_was_not_measured():
    text = device_report.report(META, _results())
    assert "| pure-f32-32bit | 72 KB | 64 KB: **missed** | 104 KB | none up to 1024 KB | 110 KB: met |" in text
    assert "| ESP32 (no PSRAM), at most | about 110 KB | fits | - | fits |" in text
    assert "| ESP32 (no PSRAM), at start | about 56 KB | no | - | no |" in text
    assert "| ulab-f32-64bit | 0.450 | 1.80 |" in text and "pure / ulab: 13.3" in text
    assert "Not measured: TINYCIL_QEMU_FIRMWARE is not set." in text
    q = [{"firmware": "fw.elf", "backend": "ulab", "instructions": [2e9] * 5 + [1e9] * 5, "mean_instructions": 1.5e9,
          "final_accuracy": 0.9, "first_two": 0.88, "heap_kb": 400},
         {"firmware": "fw.elf", "backend": "pure", "error": "Traceback\nMemoryError: out of memory"}]
    text = device_report.report(META, _results(qemu=q))
    assert "| fw.elf | 400 KB | ulab | 1.50G / 2.00G | 11.3 | 6.2 | 0.900 | 0.880 |" in text
    assert "| fw.elf | | pure | failed: MemoryError: out of memory |" in text


def test_an_emulated_board_is_skipped_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.delenv(qemu_board.ENV, raising=False)
    assert "TINYCIL_QEMU_FIRMWARE is not set" in qemu_board.unavailable()
    monkeypatch.setenv(qemu_board.ENV, str(tmp_path / "none.elf"))
    why = qemu_board.unavailable()
    assert "none.elf" in why and ("does not exist" in why or "not installed" in why)


@pytest.mark.skipif(bool(qemu_board.unavailable()), reason=qemu_board.unavailable() or "")
def test_the_emulated_board_counts_instructions(tmp_path):
    """With a firmware named: a script on the board (mpremote mount) sees an instruction clock
    (ticks_us x 1000) that gives the same count, run after run, up to the serial line's
    interrupts (a microsecond here or there)."""
    (tmp_path / "count.py").write_text(
        "import time, gc\nt = time.ticks_us()\ns = 0\nfor i in range(1000):\n    s += i\n"
        "print('US', time.ticks_diff(time.ticks_us(), t), gc.mem_free() + gc.mem_alloc())\n")
    counts = []
    for _ in range(2):
        with qemu_board.QemuBoard(qemu_board.named_firmware()[0]) as qb:
            rc, out = qb.run("count.py", tmp_path)
        assert rc == 0, out
        counts.append(out.split("US")[1].split()[0])
    a, b = int(counts[0]), int(counts[1])
    assert a > 100 and abs(a - b) <= max(2, a // 100), counts


def test_mnist_scenario_is_the_committed_benchmarks_mnist_learner():
    """bench-device claims to measure the benchmark's MNIST learner: its settings must follow
    bench/results.json when the benchmark is regenerated (the RAM depends on every one of them)."""
    res = json.loads((Path(__file__).resolve().parents[1] / "bench" / "results.json").read_text())
    info = res["datasets"]["mnist"]["info"]
    L = settings.MNIST_LEARNER
    assert L["features"] == info["n_features"]
    assert L["memory_bytes"] == info["budgets"][str(res["meta"]["settings"]["memory_percent"])]
    for k in ("max_hidden", "min_hidden", "grow_step", "tolerance", "max_classes", "max_per_class", "replay_noise",
              "lr", "ncm_weight", "ncm_separate", "grow_undo"):
        assert L[k] == info["hyper"][k], k


def test_the_frozen_rows_are_skipped_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.delenv(boards.FROZEN_ENV, raising=False)
    found, why = boards.frozen_interpreters()
    assert found == [] and "TINYCIL_FROZEN_MICROPYTHON is not set" in why[0]
    monkeypatch.setenv(boards.FROZEN_ENV, "%s:%s" % (tmp_path / "none", tmp_path / "other"))
    found, why = boards.frozen_interpreters()
    assert found == [] and len(why) == 2 and "does not exist" in why[0] and "other" in why[1]
    text = device_report.report(META, _results(frozen=[{"skipped": w} for w in why]))
    assert "## Frozen into the firmware" in text and text.count("Not measured: TINYCIL_FROZEN_MICROPYTHON names") == 2


def test_report_states_the_heap_freezing_frees():
    fr = {"interpreter": "/x/frozen (32-bit)", "backend": "pure", "digits_kb": 94,
          "frozen": {"import": 7040, "modules": 9712, "new": 66176},
          "files": {"interpreter": "/x/m32", "import": 43488, "modules": 59888, "new": 116352}}
    fu = dict(fr, interpreter="/x/frozen-ulab (32-bit)", backend="ulab", digits_kb=110,
              frozen={"import": 7040, "modules": 10240, "new": 70000}, files={"skipped": "no ulab build"})
    text = device_report.report(META, _results(frozen=[fr, fu]))
    assert "| pure | .mpy files | /x/m32 | 42.5 KB | 58.5 KB | 113.6 KB | (the table above) |" in text
    assert "| pure | frozen | /x/frozen (32-bit) | 6.9 KB | 9.5 KB | 64.6 KB | 94 KB |" in text
    assert "| ulab | .mpy files | not measured: no ulab build |" in text
    assert "| ulab | frozen | /x/frozen-ulab (32-bit) | 6.9 KB | 10.0 KB | 68.4 KB | 110 KB |" in text
    # one pair of frozen columns per build in the board table: 94 KB fits 110, 110 KB fits too, neither 56
    assert "| ESP32 (no PSRAM), at most | about 110 KB | fits | - | fits | fits | - | fits | - |" in text
    assert "| ESP32 (no PSRAM), at start | about 56 KB | no | - | no | no | - | no | - |" in text
    assert "Freezing frees 49.0 KB of heap once the modules are imported (pure)" in text


def test_report_takes_the_romfs_image_off_the_heap_it_found():
    res = _results()
    res["heaps"][0]["romfs"] = {"image_kb": 57.4, "digits_kb": 154,
                                "mnist": {"file": {"smallest_heap_kb": 166}, "ram": {"smallest_heap_kb": 190}}}
    text = device_report.report(META, res)
    # 154 - 57.4 = 96.6: 97 KB (rounded up); MNIST 166 - 57.4 = 108.6: 109 KB, within 110
    assert "| pure-f32-32bit | 57.4 KB | 154 KB | 97 KB | 64 KB: **missed** | 109 KB | 133 KB | 110 KB: met |" in text
    assert "## The package in a ROMFS image" not in device_report.report(META, _results())


def test_a_romfs_image_of_the_compiled_package_is_built_and_imported(tmp_path):
    """mpremote builds the image; the unix port imports tinycil from it (runs in place)."""
    from tinycil_host import mpy
    mpy.compile_package(tmp_path / "pkg", march="x86")
    rom = boards.Romfs(tmp_path / "pkg", tmp_path / "t.romfs")
    assert 10 < rom.kb < 200
    it = mpy.probe()
    script = tmp_path / "where.py"
    script.write_text("import tinycil\nprint('FROM', tinycil.__file__)\n")
    cmd, env = boards._command(it, script, [], rom, 256)
    import subprocess
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert "FROM /rom/tinycil/__init__.mpy" in r.stdout, r.stderr
