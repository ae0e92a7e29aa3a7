"""`tinycil bench-device`: what a board needs and how long it takes, measured on interpreters with
a board's word size and float, and on an emulated Cortex-M3 board.

- **Heap** (issue "Fit the boards"): on every 32-bit interpreter $MICROPYTHON names, the package
  compiled to .mpy, the smallest `-X heapsize` (a board's KB there) at which the digits scenario
  (tests/device/test_digits.py: ten classes one at a time, 50 samples of 64 features,
  max_hidden 32, memory_bytes 6400) passes, and at which the benchmark's MNIST learner (PCA
  784 -> 32 front-end) loads and learns two more classes, its front-end read from the file and
  held in RAM. Then both again with the same .mpy files in a ROMFS image (`mpremote romfs
  build`; on a board `mpremote romfs deploy`), from which the code runs in place: the image
  sits in the unix port's heap, and the report takes its size off.
- **Board time**: on every qemu firmware $TINYCIL_QEMU_FIRMWARE names (MicroPython's qemu port,
  MPS2_AN385, run with `-icount shift=0`: a microsecond of the board's clock is 1000 guest
  instructions), the instructions of each learn_class of the digits scenario, ulab and pure
  backends, and seconds at 133 MHz (RP2040) and 240 MHz (ESP32) assuming one cycle per
  instruction.
- **Host time** (issue "The ulab path"): the same scenario side by side in one run on this
  machine: the NumPy reference, every ulab interpreter and the pure backend; the ratios.
- **Seeds**: the scenario at other learner seeds (the test runs seed 1).
- **Frozen** (optional): on each 32-bit unix build $TINYCIL_FROZEN_MICROPYTHON names (':'-separated,
  e.g. one without ulab and one with it), tinycil frozen into it (device/manifest.py, README
  "Freezing into firmware"), the heap that `import tinycil`,
  the modules learn_class uses and a learner take, beside the same figures on the 32-bit
  $MICROPYTHON interpreter of its backend and float with the package as .mpy files; and the digits
  scenario's smallest heap frozen. Skipped, with the reason, when the variable is not set.
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import REPO, device_data, mpy, qemu_board
from ..errors import UserError
from .device_report import report
from .settings import GOAL_KB, MNIST_BASE, MNIST_CALL, MNIST_LEARNER, MNIST_NEW, MNIST_TEST

RUNNER = REPO / "tests" / "device" / "run.py"
SCRIPTS = Path(__file__).resolve().parents[1] / "device_scripts"
TIMING = SCRIPTS / "board_timing.py"
SEEDS_SCRIPT = SCRIPTS / "digits_seeds.py"
FRONTEND_SCRIPT = SCRIPTS / "frontend_heap.py"
IMPORT_SCRIPT = SCRIPTS / "import_heap.py"
ROMFS_SCRIPT = SCRIPTS / "romfs_run.py"
FROZEN_ENV = "TINYCIL_FROZEN_MICROPYTHON"
class BenchDeviceError(UserError):
    pass


def add_arguments(p):
    p.add_argument("--out", default="bench/device", help="folder for report.md and results.json (default %(default)s)")
    p.add_argument("--no-search", action="store_true", help="skip the smallest-heap searches")
    p.add_argument("--seeds", default="1,7,13,21,33,42",
                   help="learner seeds for the spread table (comma list; 'none' to skip; default %(default)s)")
    p.add_argument("--repeats", type=int, default=3,
                   help="host timing runs per interpreter, the fastest counts (default %(default)s)")


# ---- searches and runs ----------------------------------------------------------------------
def smallest_heap(passes, start, lo=16, limit=1024, step=2):
    """The smallest heap (in `step` units) at which passes(heap) holds: from `start` up by
    doubling until one passes (None past `limit`), then a binary search below it."""
    hi = start
    while not passes(hi):
        print("  heap %d: fails" % hi, flush=True)
        lo = hi
        hi *= 2
        if hi > limit:
            return None
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        ok = passes(mid)
        print("  heap %d: %s" % (mid, "passes" if ok else "fails"), flush=True)
        if ok:
            hi = mid
        else:
            lo = mid
    return hi


class Romfs:
    """The compiled package as a ROMFS image (built by mpremote, as `mpremote romfs deploy` would
    put it on a board): scripts run through ROMFS_SCRIPT, which mounts it at /rom."""

    def __init__(self, package, image):
        r = subprocess.run([sys.executable, "-m", "mpremote", "romfs", "--no-mpy", "-o", str(image), "build",
                            str(package)], capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or not Path(image).exists():
            raise BenchDeviceError("mpremote romfs build failed: %s" % (r.stderr or r.stdout)[-300:])
        self.image = Path(image)
        self.kb = self.image.stat().st_size / 1024


def _command(it, script, args, package, kb):
    """(argv, env) running `script` under `it` at a `kb` KB heap with tinycil from `package`: a
    folder of .mpy files, a Romfs image, or None (frozen into `it`: nothing of it on the path).
    TINYCIL_DEVICE tells tests/device/run.py where the package is."""
    if isinstance(package, Romfs):
        cmd, env = mpy.command(ROMFS_SCRIPT, args=[package.image, script] + list(args), interpreter=it.path,
                               heap="%dK" % kb)
        env.update(TINYCIL_DEVICE="/rom", MICROPYPATH=".frozen")
        return cmd, env
    cmd, env = mpy.command(script, args=args, interpreter=it.path, heap="%dK" % kb)
    if package is None:
        env.update(TINYCIL_DEVICE="/frozen-only", MICROPYPATH=".frozen")
    else:
        env.update(TINYCIL_DEVICE=str(package), MICROPYPATH=str(package) + ":" + env["MICROPYPATH"])
    return cmd, env


def digits_passes(it, package, data_dir, kb):
    """The acceptance test under interpreter `it` with the package as `package` (see _command)
    at a `kb` KB heap."""
    cmd, env = _command(it, RUNNER, [data_dir, it.backend, "test_digits"], package, kb)
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    return re.search(r"^1 passed, 0 failed$", r.stdout, re.M) is not None


def frozen_interpreters():
    """([Interpreter, ...], [why not, ...]): the 32-bit builds $TINYCIL_FROZEN_MICROPYTHON names
    (':'-separated) with tinycil frozen into them, and a reason for each name that is not one."""
    paths = [p for p in os.environ.get(FROZEN_ENV, "").strip().split(":") if p]
    if not paths:
        return [], ["%s is not set: no interpreter with tinycil frozen in (README, Freezing into firmware)"
                    % FROZEN_ENV]
    found, why = [], []
    for path in paths:
        try:
            it = mpy.probe(path)
        except (OSError, subprocess.TimeoutExpired) as e:
            why.append("%s names %s" % (FROZEN_ENV, e))
            continue
        if not it.board_like:
            why.append("%s names %s, a %d-bit build: its heap is not a board's" % (FROZEN_ENV, path, it.word_bits))
            continue
        r = subprocess.run([path, "-c", "import tinycil; print('FROZEN', tinycil.__version__)"], capture_output=True,
                           text=True, timeout=60, env=dict(os.environ, MICROPYPATH=".frozen"))
        if "FROZEN " not in r.stdout:
            why.append("%s names %s, which has no tinycil frozen in" % (FROZEN_ENV, path))
            continue
        found.append(it)
    return found, why


def import_heap(it, package, work):
    """{"import": B, "modules": B, "new": B or None}: heap bytes of `import tinycil`, then with the
    modules learn_class uses, then with the digits scenario's learner, under `it` at a 256 KB heap;
    the package from folder `package` (.mpy), or frozen into `it` when package is None."""
    cmd, env = mpy.command(IMPORT_SCRIPT, args=[work, it.backend], interpreter=it.path, heap="256K")
    env["MICROPYPATH"] = ".frozen" if package is None else str(package)
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    m = re.search(r"^IMPORT (\d+) (\d+)$", r.stdout, re.M)
    if not m:
        raise BenchDeviceError("the import-heap run failed under %s: %s" % (it.describe(), (r.stderr or r.stdout)[-300:]))
    n = re.search(r"^NEW (\d+)$", r.stdout, re.M)
    return {"import": int(m.group(1)), "modules": int(m.group(2)), "new": int(n.group(1)) if n else None}


def frozen_rows(fz, board_like, data_dir, search, prepared=None):
    """bench-device's frozen-firmware results for interpreter `fz` (see the module's docstring);
    with `prepared` (mnist_learner's), the MNIST learner's smallest heaps frozen too."""
    out = {"interpreter": fz.describe(), "backend": fz.backend}
    work = data_dir / "import-heap"
    work.mkdir(parents=True, exist_ok=True)
    out["frozen"] = import_heap(fz, None, work)
    stock = [it for it in board_like if it.path != fz.path and (it.backend, it.float_bits) == (fz.backend, fz.float_bits)]
    if stock:
        with tempfile.TemporaryDirectory(prefix="tinycil-mpy-") as pkg:
            mpy.compile_package(pkg, march="x86")
            out["files"] = dict(import_heap(stock[0], pkg, work), interpreter=stock[0].describe())
    else:
        out["files"] = {"skipped": "no 32-bit interpreter in $MICROPYTHON with the %s backend and float%d to compare"
                                   % (fz.backend, fz.float_bits)}
    if search:
        print("%s (tinycil frozen): smallest heap" % fz.describe(), flush=True)
        out["digits_kb"] = smallest_heap(lambda kb: digits_passes(fz, None, data_dir, kb), GOAL_KB["digits"])
        if prepared:
            out["mnist"] = mnist_heaps(fz, None, prepared[0], prepared[1], data_dir)
    return out


def host_times(interps, data_file, repeats):
    """Seconds of the digits scenario's ten learn_class calls, side by side on this machine:
    {"numpy": s, <tag>: s, ...}, each the fastest of `repeats` runs, the runs interleaved."""
    from ..datasets import load
    from ..reference import Learner
    d = load("digits")
    rows = {c: d.X_train[d.y_train == c][:50] / np.float32(16) for c in range(10)}
    best = {}
    for _ in range(repeats):
        lrn = Learner(64, max_hidden=32, memory_bytes=6400, input_scale=1.0)
        t = time.perf_counter()
        for c in range(10):
            lrn.learn_class(str(c), rows[c])
        best["numpy"] = min(best.get("numpy", 1e9), time.perf_counter() - t)
        for it in interps:
            r = mpy.run(TIMING, args=[data_file, it.backend], interpreter=it.path, heap="4M" if it.board_like else "1024wK",
                        extra_path=[REPO / "tests" / "device"], timeout=1800)
            us = [int(v) for v in re.findall(r"^CLASS \d+ (\d+)$", r.stdout, re.M)]
            if len(us) != 10:
                raise BenchDeviceError("the timing run failed under %s: %s" % (it.describe(), (r.stderr or r.stdout)[-300:]))
            best[it.tag()] = min(best.get(it.tag(), 1e9), sum(us) / 1e6)
    return best


def qemu_runs(firmware, data_file):
    """The digits scenario on each emulated board, ulab and pure backends: instructions per
    learn_class, accuracy, the board's heap."""
    out = []
    with tempfile.TemporaryDirectory(prefix="tinycil-qemu-") as tmp:
        mount = Path(tmp)
        mpy.compile_package(mount, march="armv7m")
        shutil.copy(REPO / "tests" / "device" / "util.py", mount / "util.py")
        shutil.copy(TIMING, mount / TIMING.name)
        shutil.copy(data_file, mount / "digits.bin")
        for fw in firmware:
            for backend in ("ulab", "pure"):
                print("  %s, %s backend" % (Path(fw).name, backend), flush=True)
                with qemu_board.QemuBoard(fw) as qb:
                    rc, text = qb.run(TIMING.name, mount, args=["digits.bin", backend], timeout=7200)
                us = [int(v) for v in re.findall(r"^CLASS \d+ (\d+)$", text, re.M)]
                res = re.search(r"^RESULT ([0-9.]+) ([0-9.]+) (\d+)$", text, re.M)
                row = {"firmware": Path(fw).name, "backend": backend}
                if len(us) == 10 and res:
                    instr = [u * 1000 for u in us]
                    row.update(instructions=instr, mean_instructions=sum(instr) / 10.0,
                               final_accuracy=float(res.group(1)), first_two=float(res.group(2)),
                               heap_kb=int(res.group(3)) // 1024)
                else:
                    row["error"] = text.strip()[-400:]
                out.append(row)
    return out


def seed_spread(data_dir, seeds, procs=2):
    """{seed: (final accuracy, first two classes)} of the scenario on the PyPI unix port."""
    out = {}
    groups = [g for g in (seeds[i::procs] for i in range(procs)) if g]
    runs = []
    for g in groups:
        cmd, env = mpy.command(SEEDS_SCRIPT, args=[REPO, data_dir, "pure"] + g, heap="256wK")
        runs.append(subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True))
    for p in runs:
        text = p.communicate(timeout=3600)[0]
        for m in re.finditer(r"^SEED (\d+) ([0-9.]+) ([0-9.]+)$", text, re.M):
            out[int(m.group(1))] = (float(m.group(2)), float(m.group(3)))
        if p.returncode:
            raise BenchDeviceError("the seed runs failed:\n" + text[-800:])
    return out


def mnist_learner(data_dir):
    """The benchmark's MNIST learner prepared on the host, and its data file for the board
    (None, reason when MNIST is not in the shared data)."""
    from .. import datasets
    from ..prepare import prepare_learner
    from ..reference import board_ram
    try:
        ds = datasets.load("mnist")
    except datasets.DatasetError as e:
        return None, str(e)
    seen = MNIST_BASE + MNIST_NEW
    base = {c: ds.X_train[ds.y_train == c][:300] for c in MNIST_BASE}
    test = np.concatenate([np.flatnonzero(ds.y_test == c)[:MNIST_TEST] for c in seen])
    sub = datasets.Dataset("mnist", np.concatenate(list(base.values())),
                           np.concatenate([np.full(300, c) for c in MNIST_BASE]),
                           ds.X_test[test], ds.y_test[test], list(ds.classes), ds.input_shape)
    prepared = data_dir / "mnist_learner"
    summary, lrn = prepare_learner(sub, list(MNIST_BASE), out=prepared, seed=1, **MNIST_LEARNER)
    data = device_data.write_rows(data_dir / "mnist.bin", {c: ds.X_train[ds.y_train == c][:MNIST_CALL] for c in seen},
                                  ds.y_test[test], ds.X_test[test])
    hp = lrn.hp
    nf = MNIST_LEARNER["features"]
    ram = board_ram(ds.n_features, nf, MNIST_LEARNER["max_hidden"], MNIST_LEARNER["max_classes"], 1, hp["batch"],
                    MNIST_LEARNER["memory_bytes"], hp["max_per_class"], hp["embed_dim"], max_samples=MNIST_CALL,
                    widest_frontend=nf, val_every=hp["val_every"], replay_noise=hp["replay_noise"],
                    momentum=hp["momentum"], distill_momentum=hp["distill_momentum"])
    info = {"frontend_bytes": summary["frontend"]["bytes"], "file_bytes": summary["file_bytes_int8"],
            "board_ram": ram["total"]}
    return (prepared, data, info), None


def mnist_heaps(it, package, prepared, data, data_dir):
    """The smallest KB heap at which the MNIST learner loads and learns two classes under `it`,
    its front-end's weights read from the file and held in RAM; the package compiled into
    folder `package`, or (None) frozen into `it`."""
    out = {}

    def run_mode(mode, kb):
        work = data_dir / ("mnist_work_" + mode)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        shutil.copy(prepared / "learner.bin", work / "learner.bin")
        cmd, env = _command(it, FRONTEND_SCRIPT, [REPO, data, work, mode, MNIST_CALL], package, kb)
        r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        m = re.search(r"^RESULT \w+ ([0-9.]+) (.*)$", r.stdout, re.M)
        return float(m.group(1)) if m else None

    for mode in ("file", "ram"):
        print("  MNIST learner, front-end in %s" % mode, flush=True)
        kb = smallest_heap(lambda h: run_mode(mode, h) is not None, 128)
        out[mode] = {"smallest_heap_kb": kb, "accuracy": run_mode(mode, kb) if kb else None}
    return out


def romfs_heaps(it, pkg, data_dir, prepared):
    """The same searches with the compiled package in a ROMFS image (Romfs), which the unix port
    holds in the heap: {"image_kb", "digits_kb", "mnist"}, every heap as found (image included)."""
    print("%s: smallest heaps, the package in a ROMFS image" % it.describe(), flush=True)
    rom = Romfs(pkg, data_dir / "tinycil.romfs")
    out = {"image_kb": rom.kb}
    out["digits_kb"] = smallest_heap(lambda kb: digits_passes(it, rom, data_dir, kb), 2 * GOAL_KB["digits"])
    if prepared:
        out["mnist"] = mnist_heaps(it, rom, prepared[0], prepared[1], data_dir)
    return out


# ---- the command ----------------------------------------------------------------------------
def run(args):
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise BenchDeviceError("--out %s is a file, not a folder" % out)
    try:
        seeds = [] if args.seeds in ("", "none") else [int(v) for v in args.seeds.split(",")]
    except ValueError:
        raise BenchDeviceError("--seeds takes a comma list of integers, e.g. 1,7,13")
    data_dir = REPO / "build" / "bench-device-data"  # derived from a data set: never in the repo
    digits = device_data.write_digits(data_dir / "digits.bin", per_class=50)
    found = mpy.interpreters()
    usable = [it for _, it in found if not isinstance(it, str)]
    missing = [(p, it) for p, it in found if isinstance(it, str)]
    board_like = [it for it in usable if it.board_like]
    res = {"interpreters": [it.describe() for it in usable], "missing": [why for _, why in missing]}

    print("host: the digits scenario side by side", flush=True)
    res["host_seconds"] = host_times([it for it in usable if it.backend == "ulab"] + usable[:1], digits, args.repeats)

    res["heaps"] = []
    prepared = None
    if not args.no_search and board_like:
        prepared, why = mnist_learner(data_dir)
        res["mnist"] = prepared[2] if prepared else {"skipped": why}
    for it in board_like if not args.no_search else []:
        print("%s: smallest heaps" % it.describe(), flush=True)
        with tempfile.TemporaryDirectory(prefix="tinycil-mpy-") as pkg:
            mpy.compile_package(pkg, march="x86")
            row = {"interpreter": it.describe(), "tag": it.tag(), "backend": it.backend}
            row["digits_kb"] = smallest_heap(lambda kb: digits_passes(it, pkg, data_dir, kb), GOAL_KB["digits"])
            if prepared:
                row["mnist"] = mnist_heaps(it, pkg, prepared[0], prepared[1], data_dir)
            row["romfs"] = romfs_heaps(it, pkg, data_dir, prepared)
        res["heaps"].append(row)

    found, why = frozen_interpreters()
    res["frozen"] = [frozen_rows(fz, board_like, data_dir, not args.no_search, prepared) for fz in found]
    res["frozen"] += [{"skipped": w} for w in why]

    why = qemu_board.unavailable()
    res["qemu"] = {"skipped": why} if why else qemu_runs(qemu_board.named_firmware(), digits)

    if seeds:
        print("seeds %s" % ",".join(map(str, seeds)), flush=True)
        res["seeds"] = {str(k): v for k, v in sorted(seed_spread(data_dir, seeds).items())}
    meta = {"command": "tinycil bench-device" + (" --no-search" if args.no_search else ""),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.platform(),
            "cpu": _cpu(), "git": _git()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"meta": meta, "results": res}, indent=1))
    (out / "report.md").write_text(report(meta, res))
    print((out / "report.md").read_text())
    return 0


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git():
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"
