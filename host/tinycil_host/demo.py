"""`tinycil demo`: the whole workflow on a virtual board, no hardware needed.

1. `tinycil prepare` a base learner on digits 0 and 1;
2. start a virtual board (the MicroPython unix port) and `tinycil deploy` package + learner;
3. `tinycil learn` digits 2..9 one class at a time, measuring test accuracy on the board
   after each; 4. `tinycil pull` the result and check the host reads the same learner;
5. print the table and write demo.png and demo.json.
"""
import json
import re
import time
from pathlib import Path

import numpy as np

from . import board_cli, cli, datasets
from .board import Board
from .virtual_board import DEFAULT_HEAP, VirtualBoard

BASE = (0, 1)


def add_arguments(p):
    p.add_argument("--out", default="build/demo", help="folder for the learner, samples, board filesystem, plot")
    p.add_argument("--samples", type=int, default=60, help="samples per new class sent to the board")
    p.add_argument("--heap", default=DEFAULT_HEAP, help="heap of the virtual board")


def _check_args(args):
    # refuse bad options before anything runs: one line each, no traceback
    if args.samples < 3:
        raise cli.CliError("--samples must be at least 3 (learn_class needs 3 or more per class), got %d"
                           % args.samples)
    if not re.fullmatch(r"[0-9]+(w?[KkMm])?", str(args.heap)):
        raise cli.CliError("--heap %r is not a MicroPython heap size (e.g. 192wK, 512K, 2M)" % args.heap)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise cli.CliError("--out %s is a file, not a folder" % out)
    return out


def run(args):
    t0 = time.time()
    out = _check_args(args)
    out.mkdir(parents=True, exist_ok=True)
    ds = datasets.load("digits")

    print("== 1. prepare a base learner on digits %s (tinycil prepare)" % ", ".join(map(str, BASE)))
    learner_dir = out / "learner"
    _prepare(learner_dir)

    samples_dir = out / "samples"
    samples_dir.mkdir(exist_ok=True)
    new_classes = [c for c in range(10) if c not in BASE]
    for c in new_classes:
        np.savez(samples_dir / ("digit%d.npz" % c), X=ds.X_train[ds.y_train == c][:args.samples])

    board_dir = out / "board"
    _wipe(board_dir)  # a fresh board each run
    rows = []
    with VirtualBoard(board_dir, heap=args.heap) as vb:
        print("\n== 2. deploy to a virtual board (MicroPython unix port on %s)" % vb.port)
        _tinycil("deploy", "--port", vb.port, "--learner", learner_dir)
        rows.append(_measure(vb.port, ds, list(BASE), "base", 0.0))
        for c in new_classes:
            print("\n== 3. learn digit %d on the board (tinycil learn)" % c)
            t = time.time()
            _tinycil("learn", "--port", vb.port, "--label", str(c), "--samples", samples_dir / ("digit%d.npz" % c))
            rows.append(_measure(vb.port, ds, list(BASE) + new_classes[:new_classes.index(c) + 1], str(c), time.time() - t))
        print("\n== 4. pull the learner back (tinycil pull)")
        test_file = out / "test.npz"
        np.savez(test_file, X=ds.X_test, y=ds.y_test, classes=np.array(ds.classes))
        _tinycil("pull", "--port", vb.port, "--out", out / "pulled", "--samples", test_file)

    _print_table(rows)
    (out / "demo.json").write_text(json.dumps(rows, indent=1))
    _plot(rows, out / "demo.png")
    print("\nwrote %s and %s; %.0f s in all" % (out / "demo.png", out / "demo.json", time.time() - t0))
    print("\nWith a real board (MicroPython + ulab flashed, see README 'On a real board'):\n"
          "  tinycil deploy  --port /dev/ttyACM0 --learner %s --mpy\n"
          "  tinycil learn   --port /dev/ttyACM0 --label 2 --samples %s\n"
          "  tinycil predict --port /dev/ttyACM0 --samples %s\n"
          "  tinycil pull    --port /dev/ttyACM0 --out build/pulled\n"
          "or without hardware: the same commands with --port virtual."
          % (learner_dir, samples_dir / "digit2.npz", test_file))
    return 0


def _prepare(learner_dir):
    try:
        from .prepare import prepare_learner, print_summary
    except ImportError as e:
        raise cli.CliError("tinycil prepare is not available: %s" % e)
    summary, _ = prepare_learner("digits", BASE, out=learner_dir)
    print_summary(summary)


def _tinycil(*argv):
    """Run a tinycil command as a user would; its own output streams to the terminal."""
    argv = [str(a) for a in argv]
    print("$ tinycil " + " ".join(argv))
    rc = cli.main(argv)
    if rc:
        raise cli.CliError("`tinycil %s` failed (exit %d)" % (argv[0], rc))


def _measure(port, ds, known, label, seconds):
    """Test accuracy on the board over the classes learned so far, and the learner's size."""
    mask = np.isin(ds.y_test, known)
    X = ds.X_test[mask]
    truth = [ds.classes[k] for k in ds.y_test[mask]]
    with Board.connect(port) as b:
        pred = board_cli.predict(b, X)
        info = b.eval("_tc.info()")
    per = {}
    for p, t in zip(pred, truth):
        per.setdefault(t, []).append(p == t)
    return {"after": label, "classes": len(known), "accuracy": board_cli.accuracy(pred, truth),
            "per_class": {k: float(np.mean(v)) for k, v in per.items()}, "hidden": info["hidden"],
            "params": info["params"], "flops": info["flops_per_inference"],
            "replay_bytes": info["memory_bytes_used"], "replay_budget": info["memory_bytes_budget"],
            "learn_seconds": seconds, "test_samples": int(mask.sum())}


def _print_table(rows):
    print("\n== 5. after each class (test accuracy measured on the board, over the classes known so far)")
    print("%-6s %7s %9s %14s %8s %7s %13s %8s" % ("after", "classes", "accuracy", "worst class", "hidden", "FLOPs",
                                                   "replay bytes", "learn s"))
    for r in rows:
        worst = min(r["per_class"].items(), key=lambda kv: kv[1])
        print("%-6s %7d %9.3f %14s %8s %7d %13s %8.1f" % (
            r["after"], r["classes"], r["accuracy"], "%s: %.2f" % worst, "x".join(map(str, r["hidden"])),
            r["flops"], "%d/%d" % (r["replay_bytes"], r["replay_budget"]), r["learn_seconds"]))


def _plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    x = [r["classes"] for r in rows]
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.5))
    ax[0].plot(x, [r["accuracy"] for r in rows], "o-")
    ax[0].set(title="test accuracy on the board", xlabel="classes known", ylim=(0, 1.02))
    ax[1].plot(x, [r["flops"] for r in rows], "o-", color="C1")
    ax[1].set(title="FLOPs per inference (hidden width)", xlabel="classes known")
    for r in rows:
        ax[1].annotate("x".join(map(str, r["hidden"])), (r["classes"], r["flops"]), fontsize=7)
    ax[2].plot(x, [r["replay_bytes"] for r in rows], "o-", color="C2")
    ax[2].axhline(rows[0]["replay_budget"], ls="--", color="gray")
    ax[2].set(title="replay bytes used (budget dashed)", xlabel="classes known")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _wipe(folder):
    import shutil
    if folder.exists():
        shutil.rmtree(folder)
