"""`tinycil deploy | learn | predict | forget | pull | repl | flash`: the board workflow, one command each.

Every board command takes `--port PORT` (a serial port, or `virtual` for a virtual
board: the MicroPython unix port in `--board-dir`, default build/virtual-board).
The functions above `add_command_arguments` are the same steps as a library (the
demo drives a board through them).
"""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import DEVICE_DIR, sample_files
from . import store as host_store
from .board import (Board, BoardError, BoardExecError, check_flash, check_mpy, check_ram, check_version,
                    flash_bytes, ulab_note, version_text)
from .cli import CliError
from .mpy import MACHINE_CODE, compile_package, mpy_cross
from . import virtual_board
from .virtual_board import DEFAULT_HEAP, DEFAULT_ROOT, VirtualBoard, VirtualBoardError

PACKAGE = "tinycil"
LIB = "/lib"
from .limits import DEFAULT_PATH  # the learner folder on the board (not /tinycil: it would shadow the package)
REPORT = "\x1etinycil-json "     # prefix of the lines our board code prints for the host to parse
SAMPLES_PER_CALL = 200           # learn_class's own limit (device/tinycil/learner.py MAX_SAMPLES)
ROW_OVERHEAD = 64                # bytes an array('f') object costs beyond its data, with margin
# firmware offsets of MicroPython's ESP32 images (micropython.org/download)
ESP_OFFSETS = {"esp32": 0x1000, "esp32s2": 0x1000, "esp32s3": 0x0, "esp32c3": 0x0, "esp32c6": 0x0}


# ---- connecting ------------------------------------------------------------------
@contextlib.contextmanager
def open_board(port, board_dir=None, heap=DEFAULT_HEAP, log=print):
    """A connected Board; `virtual` starts a virtual board on `board_dir` for the duration."""
    if port == "virtual":
        root = Path(board_dir or DEFAULT_ROOT)
        try:
            vb = VirtualBoard(root, heap=heap).start()
        except (VirtualBoardError, OSError) as e:
            raise CliError("cannot start the virtual board: %s" % e)
        log("virtual board: MicroPython unix port on %s, filesystem in %s" % (vb.port, root))
        try:
            with _connected(vb.port) as b:
                yield b
        finally:
            vb.stop()
    else:
        with _connected(port) as b:
            yield b


@contextlib.contextmanager
def _connected(port):
    try:
        b = Board.connect(port)
    except BoardError as e:
        raise CliError(str(e))
    try:
        yield b
    except BoardError as e:
        raise CliError(str(e))
    finally:
        b.close()


def describe(info):
    flash = ("%d KB flash free" % (info["flash_free"] // 1024)) if info["flash_free"] >= 0 else "flash size unknown"
    return "MicroPython %s (%s), %d KB RAM free, %s, ulab %s" % (
        version_text(info["version"]), info["machine"], info["mem_free"] // 1024, flash, info["ulab"] or "absent")


# ---- deploy ----------------------------------------------------------------------
SOURCE_ONLY = MACHINE_CODE  # machine-code modules go as source: the board compiles them


def package_files(mpy_files=False):
    """[(name, bytes)] of the device package; with mpy_files, compiled by mpy-cross (in a
    temporary folder, removed again)."""
    if not mpy_files:
        return [(p.name, p.read_bytes()) for p in sorted((DEVICE_DIR / PACKAGE).glob("*.py"))]
    with tempfile.TemporaryDirectory(prefix="tinycil-mpy-") as out:
        try:
            return [(name, path.read_bytes()) for name, path in compile_package(out)]
        except (FileNotFoundError, RuntimeError) as e:
            raise CliError(str(e))


def mpy_cross_version():
    try:
        exe = mpy_cross()
    except FileNotFoundError as e:
        raise CliError(str(e))
    r = subprocess.run([exe, "--version"], capture_output=True, text=True)
    return r.stdout.strip()


def deploy(board, *, learner=None, mpy=False, path=DEFAULT_PATH, log=print):
    """Copy the device package (and a learner file) to the board; returns the board's info() or None."""
    info = board.probe()
    log("board: " + describe(info))
    check_version(info)
    note = ulab_note(info)
    if note:
        log("note: " + note)
    if mpy:
        check_mpy(info)
        log("mpy: %s; bytecode only, loads on MicroPython 1.19+ (this board loads .mpy v%d)"
            % (mpy_cross_version(), info["mpy"] & 0xFF))
    files = package_files(mpy)
    learner_bytes = _learner_file(learner) if learner else None
    sizes = [len(d) for _, d in files] + ([len(learner_bytes)] if learner_bytes else [])
    check_flash(info, flash_bytes(sizes, info["block"]) + 2 * info["block"])
    install_package(board, files, log)
    if learner_bytes is not None:
        install_learner(board, learner_bytes, path, log)
    out = board_summary(board, path if learner_bytes is not None else None)
    log("on the board: tinycil %s, backend %s" % (out["version"], out["backend"]))
    if out.get("info"):
        log("learner %s: %s" % (path, summary_line(out["info"])))
    return out.get("info")


def _learner_file(folder):
    p = Path(folder)
    f = p / host_store.FILE if p.is_dir() else p
    if not f.exists():
        raise CliError("%s: no learner file (make one with `tinycil prepare --out %s`)" % (f, folder))
    data = f.read_bytes()
    try:
        host_store.decode(data, str(f))
    except host_store.FormatError as e:
        raise CliError("%s is not a valid learner: %s" % (f, e))
    return data


def install_package(board, files, log=print):
    """Stage the package in /lib/tinycil.part, then swap it in with renames.

    A cut transfer leaves only the staging folder; /lib/tinycil stays the old, whole package.
    """
    target = "%s/%s" % (LIB, PACKAGE)
    staging, old = target + ".part", target + ".old"
    board.makedirs(LIB)
    if not board.exists(target) and board.exists(old):
        board.rename(old, target)  # a previous swap was cut between its two renames
    board.remove_tree(old)
    board.remove_tree(staging)
    board.makedirs(staging)
    total = sum(len(d) for _, d in files)
    log("copying %s (%d files, %d bytes) to %s" % (PACKAGE, len(files), total, target))
    for name, data in files:
        board.write("%s/%s" % (staging, name), data)
    if board.exists(target):
        board.rename(target, old)
    board.rename(staging, target)
    board.remove_tree(old)
    board.exec(_DROP_MODULES)


def install_learner(board, data, path=DEFAULT_PATH, log=print):
    """The FORMAT.md atomic save, done from the host: learner.tmp, then renames (old one -> learner.bak)."""
    board.makedirs(path)
    tmp, cur, bak = ("%s/%s" % (path, n) for n in (host_store.TEMP, host_store.FILE, host_store.BACKUP))
    board.write(tmp, data)
    had = board.exists(cur)
    board.remove_tree(bak)
    if had:
        board.rename(cur, bak)
    board.rename(tmp, cur)
    log("learner: %d bytes -> %s%s" % (len(data), cur, " (the board's previous one kept as %s)" % bak if had else ""))


# After a deploy the board must not keep running the old package: drop its modules
# (and everything referring to them) so the next import reads the new files.
_DROP_MODULES = """
import sys, gc
for _k in ('tinycil', '_tc', '_tc_rows'):
    globals().pop(_k, None)
for _k in [k for k in sys.modules if k == 'tinycil' or k.startswith('tinycil.')]:
    del sys.modules[_k]
gc.collect()
"""

# Imported once and kept: re-importing for every command fragments a small heap
# until learn_class cannot find one contiguous block for its sample matrix.
_FRESH_IMPORT = """
import gc
for _k in ('_tc', '_tc_rows'):
    globals().pop(_k, None)
gc.collect()
try:
    import tinycil
except ImportError as e:
    raise ImportError('tinycil is not installed on the board: %s' % e)
gc.collect()
"""


def _board_json(board, code, on_line=None, timeout=120):
    """Run code that prints REPORT + json lines; return those objects (other lines go to on_line)."""
    found = []

    def line(text):
        if text.startswith(REPORT):
            found.append(json.loads(text[len(REPORT):]))
        elif on_line:
            on_line(text)
    try:
        board.exec(code, on_line=line, timeout=timeout)
    except BoardExecError as e:
        raise _explain(board, e)
    return found


def _miss(report):
    if report["met_target"]:
        return ""
    if report.get("growth_stalled"):
        return ", missed; widening did not help"
    return ", missed at max width"


def _explain(board, e):
    if "tinycil is not installed" in e.exception:
        return BoardError("tinycil is not on the board: run `tinycil deploy --port %s` first" % board.port)
    if e.out_of_ram:
        try:
            free = board.mem_free()
        except BoardError:
            free = -1
        return BoardError("the board ran out of RAM (%d bytes free now): %s" % (free, e.exception.split(":", 1)[-1].strip()))
    return BoardError("on the board: %s" % e.exception)


def board_summary(board, path=None):
    code = _FRESH_IMPORT + "import json, tinycil.backend as _b\n_o = {'version': tinycil.__version__, 'backend': _b.available()[0]}\n"
    if path:
        code += "_o['info'] = tinycil.load(%r, verbose=False).info()\n" % path
    code += "print(%r + json.dumps(_o))\ndel _o\n" % REPORT
    return _board_json(board, code)[0]


def summary_line(info):
    return "classes %s; hidden %s of max %d; %d params, %d FLOPs/inference; replay %d of %d bytes; backend %s" % (
        ", ".join(info["classes"]) or "none", info["hidden"], info["max_hidden"], info["params"],
        info["flops_per_inference"], info["memory_bytes_used"], info["memory_bytes_budget"], info["backend"])


# ---- learn and predict -------------------------------------------------------------
def load_learner(board, path=DEFAULT_PATH):
    """Import tinycil afresh and load the learner into `_tc` on the board; returns its info()."""
    if not board.exists("%s/%s" % (path, host_store.FILE)) and not board.exists("%s/%s" % (path, host_store.BACKUP)):
        raise BoardError("no learner in %s on the board: deploy one (`tinycil deploy --learner DIR`) or "
                         "create one at the REPL with tinycil.new(...)" % path)
    code = _FRESH_IMPORT + "import json\n_tc = tinycil.load(%r)\nprint(%r + json.dumps(_tc.info()))\n" % (path, REPORT)
    return _board_json(board, code, on_line=lambda s: print("board:", s))[0]


def _rows_source(X):
    return ",".join("array('f',%r)" % np.ascontiguousarray(r, dtype="<f4").tobytes() for r in X)


def _chunk_rows(board, n_inputs):
    """Rows per exec: about 1 KB of float32 data, less on a board short of RAM."""
    free = board.mem_free()
    budget = max(4 * n_inputs, min(1024, free // 32))
    return max(1, budget // (4 * n_inputs)), free


def send_rows(board, X, var="_tc_rows"):
    """Put the rows in a list of array('f') on the board, a few rows per exec (MicroPython's
    array('f', bytes) copies raw bytes, so a row travels as 4 bytes per value)."""
    per, free = _chunk_rows(board, X.shape[1])
    check_ram({"mem_free": free}, len(X) * (4 * X.shape[1] + ROW_OVERHEAD) * 2 + 16384, "%d samples" % len(X))
    board.exec("from array import array\n%s = []" % var)
    for i in range(0, len(X), per):
        try:
            board.exec("%s.extend([%s])" % (var, _rows_source(X[i:i + per])))
        except BoardExecError as e:
            board.exec("%s = None\nimport gc\ngc.collect()" % var)
            raise _explain(board, e)


def check_label(classes, label, update):
    """learn's rule: a known label only with update, update only on a known label."""
    if label in classes and not update:
        raise BoardError("the learner already knows class %r: to add these samples to it, pass --update "
                         "(or pick a new label)" % label)
    if update and label not in classes:
        raise BoardError("--update: the learner has no class %r to add samples to (classes: %s); without "
                         "--update it is learned as a new class" % (label, ", ".join(classes) or "none"))


def learn(board, label, X, *, path=DEFAULT_PATH, target=None, update=False, on_line=print, timeout=600):
    """learn_class on the board with its progress streamed to on_line; returns (report, info).

    A label the learner knows is refused unless update=True (then the samples are added to
    that class); update=True on a label it does not know is refused too. Both refusals come
    before any sample is sent: the board's files are untouched."""
    if not 3 <= len(X) <= SAMPLES_PER_CALL:
        raise BoardError("learn_class takes 3 to %d samples per class, got %d" % (SAMPLES_PER_CALL, len(X)))
    check_label(load_learner(board, path)["classes"], label, update)
    send_rows(board, X)
    code = ("import json, gc\ntry:\n _r = _tc.learn_class(%r, _tc_rows, target=%r, verbose=True)\n"
            "finally:\n _tc_rows = None\n gc.collect()\n"
            "print(%r + json.dumps(_r))\nprint(%r + json.dumps(_tc.info()))\ndel _r\n" % (label, target, REPORT, REPORT))
    report, info = _board_json(board, code, on_line=on_line, timeout=timeout)
    return report, info


def forget(board, label, *, path=DEFAULT_PATH, on_line=print):
    """Remove class `label` from the board's learner (the device saves it atomically); returns
    its info() after. Refused, with the files untouched, for a label it does not know or its
    only class."""
    classes = load_learner(board, path)["classes"]
    if label not in classes:
        raise BoardError("the learner has no class %r to forget (classes: %s)" % (label, ", ".join(classes) or "none"))
    if len(classes) == 1:
        raise BoardError("%r is the learner's only class: deploy or create a new learner instead" % label)
    code = "import json\n_tc.forget(%r)\nprint(%r + json.dumps(_tc.info()))\n" % (label, REPORT)
    return _board_json(board, code, on_line=on_line)[0]


def predict(board, X, *, path=DEFAULT_PATH, load=True):
    """Predicted class names for rows X, computed on the board a chunk at a time.

    load=False uses the learner load_learner() or learn() left in `_tc`."""
    classes = load_learner(board, path)["classes"] if load else board.eval("_tc.classes")
    per, _ = _chunk_rows(board, X.shape[1])
    out = []
    for i in range(0, len(X), per):
        code = ("from array import array\nprint(%r + __import__('json').dumps([_tc.classes.index(_tc.predict(r)) "
                "for r in [%s]]))" % (REPORT, _rows_source(X[i:i + per])))
        out += _board_json(board, code)[0]
    return [classes[k] for k in out]


def accuracy(pred, labels):
    return float(np.mean([p == t for p, t in zip(pred, labels)])) if labels else float("nan")


def unknown_labels(labels, classes):
    """{label: samples} of the true labels in `labels` that are not among `classes`."""
    out = {}
    for t in labels:
        if t not in classes:
            out[t] = out.get(t, 0) + 1
    return out


def accuracy_lines(pred, labels, classes):
    """What predict prints for a labelled file: accuracy on all samples and, when some true
    labels are unknown to the learner (it can never predict them), which ones, how many
    samples carry them, and the accuracy on the samples of known labels alone."""
    hits = sum(p == t for p, t in zip(pred, labels))
    lines = ["accuracy %.4f (%d of %d)" % (hits / len(pred), hits, len(pred))]
    unknown = unknown_labels(labels, classes)
    if unknown:
        n_unknown = sum(unknown.values())
        n_known = len(labels) - n_unknown
        names = sorted(unknown, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
        known_acc = ("%.4f (%d of %d)" % (hits / n_known, hits, n_known)) if n_known else "n/a (no sample has one)"
        lines.append("%d of the true labels %s unknown to the learner: %s; accuracy on known labels %s, on all %.4f"
                     % (len(unknown), "is" if len(unknown) == 1 else "are",
                        ", ".join("%s (%d sample%s)" % (k, unknown[k], "" if unknown[k] == 1 else "s") for k in names),
                        known_acc, hits / len(pred)))
    return lines


def pull(board, out, path=DEFAULT_PATH):
    """Copy the board's learner folder files to `out` (each written atomically on the host)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    got = []
    for name in (host_store.FILE, host_store.BACKUP):
        src = "%s/%s" % (path, name)
        if not board.exists(src):
            continue
        data = board.get(src)
        tmp = out / (name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, out / name)
        got.append((name, len(data)))
    if not got:
        raise BoardError("no learner in %s on the board" % path)
    return got


# ---- repl ------------------------------------------------------------------------
def repl_command(port, board_dir=None, heap=DEFAULT_HEAP):
    """(argv, env, cwd) of an interactive REPL on the board: for `virtual`, the unix port with
    the virtual board's boot code (its folder as the filesystem, `import tinycil` finds
    /lib/tinycil); for a real port, `mpremote connect PORT repl`."""
    if port == "virtual":
        root = Path(board_dir or DEFAULT_ROOT)
        if root.exists() and not root.is_dir():
            raise CliError("--board-dir %s is a file, not a folder" % root)
        root.mkdir(parents=True, exist_ok=True)
        return virtual_board.command(root, heap)
    if os.name == "posix" and not os.path.exists(port):
        raise CliError("no board on %s: the port does not exist (plug the board in; `mpremote connect list`)" % port)
    return [sys.executable, "-m", "mpremote", "connect", port, "repl"], None, None


def repl(port, board_dir=None, heap=DEFAULT_HEAP):
    argv, env, cwd = repl_command(port, board_dir, heap)
    if port == "virtual":
        root = Path(board_dir or DEFAULT_ROOT)
        print("virtual board REPL: MicroPython unix port, filesystem in %s (Ctrl-D exits); "
              "try: import tinycil; l = tinycil.load()" % root, flush=True)
        if not (root / "lib" / PACKAGE).is_dir():
            print("note: tinycil is not deployed on this board yet (`tinycil deploy --port virtual --board-dir %s`)"
                  % root, flush=True)
    else:
        print("$ mpremote connect %s repl   (Ctrl-] exits)" % port, flush=True)
    try:
        return subprocess.run(argv, env=env, cwd=cwd).returncode
    except OSError as e:
        raise CliError("cannot start the REPL: %s" % e)


# ---- flash -----------------------------------------------------------------------
def flash(port, firmware, chip="esp32", erase=True, log=print):
    fw = Path(firmware)
    if not fw.is_file():
        raise CliError("%s: no such firmware file" % fw)
    if chip == "rp2":
        return _flash_rp2(port, fw, log)
    if chip not in ESP_OFFSETS:
        raise CliError("unknown chip %r: use one of %s, or rp2" % (chip, ", ".join(ESP_OFFSETS)))
    if fw.suffix != ".bin":
        raise CliError("%s: ESP32 firmware is a .bin file (a .uf2 is for rp2 boards: --chip rp2)" % fw)
    if os.name == "posix" and not os.path.exists(port):
        raise CliError("no board on %s: the port does not exist (plug the board in; `mpremote connect list`)" % port)
    try:
        import esptool  # noqa: F401
    except ImportError:
        raise CliError("esptool is not installed: pip install 'tinycil[flash]' (esptool==5.6.0)")
    base = [sys.executable, "-m", "esptool", "--chip", chip, "--port", port]
    steps = ([base + ["erase-flash"]] if erase else []) + [base + ["write-flash", "-z", hex(ESP_OFFSETS[chip]), str(fw)]]
    for cmd in steps:
        log("$ " + " ".join(cmd[2:]))
        if subprocess.run(cmd).returncode != 0:
            raise CliError("esptool failed (hold BOOT while it connects if the board does not answer)")
    log("flashed %s; check with: tinycil deploy --port %s" % (fw.name, port))
    return 0


def _flash_rp2(port, fw, log):
    if fw.suffix != ".uf2":
        raise CliError("%s: rp2 firmware is a .uf2 file" % fw)
    how = ("rp2 boards are flashed by copying the .uf2, not over serial: hold BOOTSEL while plugging the "
           "board in; it appears as a USB drive (RPI-RP2, or RP2350 on a Pico 2); copy %s onto it; the board "
           "reboots into MicroPython. Pass that drive's folder as --port to have it copied for you." % fw.name)
    drive = Path(port)
    if not (drive.is_dir() and (drive / "INFO_UF2.TXT").exists()):
        log(how)
        return 0
    tmp = drive / (fw.name + ".part")
    shutil.copyfile(fw, tmp)
    os.replace(tmp, drive / fw.name)
    log("copied %s to %s; the board reboots into MicroPython" % (fw.name, drive))
    return 0


# ---- command line ----------------------------------------------------------------
def add_command_arguments(name, p):
    if name == "flash":
        p.add_argument("--port", required=True, help="serial port (esp32) or the BOOTSEL drive folder (rp2)")
        p.add_argument("--firmware", required=True, help="MicroPython firmware with ulab (.bin for esp32, .uf2 for rp2)")
        p.add_argument("--chip", default="esp32", choices=sorted(ESP_OFFSETS) + ["rp2"], metavar="CHIP",
                       help="chip of the board: %s or rp2" % ", ".join(sorted(ESP_OFFSETS)))
        p.add_argument("--no-erase", action="store_true", help="write without erasing the flash first")
        return
    p.add_argument("--port", required=True, help="serial port of the board, or `virtual` for a virtual board")
    p.add_argument("--board-dir", default=None, help="filesystem folder of the virtual board (default: %s)"
                   % DEFAULT_ROOT.relative_to(DEFAULT_ROOT.parents[1]))
    p.add_argument("--heap", default=DEFAULT_HEAP, help="heap of the virtual board (micropython -X heapsize)")
    if name == "repl":
        return
    p.add_argument("--path", default=DEFAULT_PATH, help="learner folder on the board")
    if name == "deploy":
        p.add_argument("--learner", help="learner folder (or file) to copy, e.g. build/learner "
                                         "(default: none, only the package is copied)")
        p.add_argument("--mpy", action="store_true", help="compile the package to .mpy with mpy-cross first")
    elif name in ("learn", "predict"):
        p.add_argument("--samples", required=True, help=".npz, .csv or .npy file")
        if name == "learn":
            p.add_argument("--label", required=True, help="name of the class to learn")
            p.add_argument("--update", action="store_true",
                           help="add the samples to a class the learner already knows (without it, a known label "
                                "is refused)")
            p.add_argument("--only", help="in a labelled file, use only the samples with this label "
                                          "(default: every sample in the file)")
            p.add_argument("--target", type=float, default=None,
                           help="accuracy target of the check (default: the learner's own)")
        else:
            p.add_argument("--show", type=int, default=20, help="print this many predictions (all: -1)")
    elif name == "forget":
        p.add_argument("label", help="the class to remove (its replay samples and output unit)")
    elif name == "pull":
        p.add_argument("--out", required=True, help="host folder to copy the learner into")
        p.add_argument("--samples", help="labelled samples to evaluate the pulled learner on, on the host "
                                         "(default: no evaluation)")


def run_command(name, args):
    if name == "flash":
        return flash(args.port, args.firmware, args.chip, erase=not args.no_erase)
    if name == "repl":
        return repl(args.port, args.board_dir, args.heap)
    with open_board(args.port, args.board_dir, args.heap) as board:
        return COMMANDS[name](board, args)


def _cmd_deploy(board, args):
    deploy(board, learner=args.learner, mpy=args.mpy, path=args.path)
    return 0


def _read_samples(path, n_inputs):
    try:
        return sample_files.read(path, n_inputs)
    except sample_files.SampleFileError as e:
        raise CliError(str(e))


def _cmd_learn(board, args):
    info = load_learner(board, args.path)
    X, labels = _read_samples(args.samples, info["n_inputs"])
    if args.only is not None:
        try:
            X = sample_files.select(X, labels, args.only, args.samples)
        except sample_files.SampleFileError as e:
            raise CliError(str(e))
    check_label(info["classes"], args.label, args.update)  # before any sample is sent
    print("%s %r from %d samples on the board (classes so far: %s)" % (
        "adding to" if args.update else "learning", args.label, len(X), ", ".join(info["classes"]) or "none"))
    report, info = learn(board, args.label, X, path=args.path, target=args.target, update=args.update,
                         on_line=lambda s: print("board:", s))
    print("%s %r in %.1f s: check accuracy %.3f (target %.3f%s); hidden %s%s" % (
        "updated" if report.get("updated") else "learned", report["label"], report["seconds"], report["accuracy"],
        report["target"], _miss(report), report["hidden"], " (grew)" if report["grew"] else ""))
    if report.get("far_below_target"):
        print("warning: the check ended far below the target: %r is not really learned (too few or too alike "
              "samples, or inputs at the wrong scale)" % report["label"])
    print("learner: " + summary_line(info))
    return 0


def _cmd_forget(board, args):
    info = forget(board, args.label, path=args.path, on_line=lambda s: print("board:", s))
    print("forgot %r; saved %s/%s" % (args.label, args.path, host_store.FILE))
    print("learner: " + summary_line(info))
    return 0


def _cmd_predict(board, args):
    info = load_learner(board, args.path)
    X, labels = _read_samples(args.samples, info["n_inputs"])
    pred = predict(board, X, path=args.path, load=False)
    show = len(pred) if args.show < 0 else min(args.show, len(pred))
    for i in range(show):
        print("%5d  %s%s" % (i, pred[i], "" if labels is None else "   (true %s)" % labels[i]))
    if show < len(pred):
        print("  ... %d more (--show -1 prints all)" % (len(pred) - show))
    if labels is not None:
        for line in accuracy_lines(pred, labels, info["classes"]):
            print(line)
    return 0


def _cmd_pull(board, args):
    got = pull(board, args.out, args.path)
    for name, n in got:
        print("pulled %s/%s -> %s (%d bytes)" % (args.path, name, Path(args.out) / name, n))
    from .reference import Learner  # the NumPy reference reads and runs the board's file on the host
    try:
        lrn = Learner.load(args.out)
    except host_store.FormatError as e:
        raise CliError("the pulled learner does not decode on the host: %s" % e)
    info = lrn.info()
    print("on the host: classes %s; hidden %s; %d FLOPs/inference; replay %d bytes"
          % (", ".join(info["classes"]), info["hidden"], info["flops_per_inference"], info["memory_bytes_used"]))
    if args.samples and not info["classes"]:
        print("nothing to evaluate: the learner has no classes yet")
    elif args.samples:
        X, labels = _read_samples(args.samples, info["n_inputs"])
        if labels is None:
            raise CliError("%s has no labels to evaluate against" % args.samples)
        pred = [lrn.classes[k] for k in lrn.predict_batch(X)]
        print("host accuracy %.4f on %d samples of %s" % (accuracy(pred, labels), len(X), args.samples))
    return 0


COMMANDS = {"deploy": _cmd_deploy, "learn": _cmd_learn, "predict": _cmd_predict, "forget": _cmd_forget,
            "pull": _cmd_pull}
