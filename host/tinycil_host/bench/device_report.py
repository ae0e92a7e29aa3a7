"""bench/device/report.md from bench-device's results (boards.run)."""
import math

from .settings import CLOCKS_MHZ, GOAL_KB, MNIST_CALL, MNIST_LEARNER, MNIST_TEST

# boards and the heap MicroPython leaves free on them (KB; ../shared/ULAB.md, README): which of
# the measured configurations fit, by the smallest heap on a 32-bit build
BOARDS = (("ESP32 (no PSRAM), at start", 56), ("ESP32 (no PSRAM), at most", 110), ("Pico (RP2040)", 200),
          ("Pico 2 (RP2350)", 400), ("ESP32-S3 with 2 MB PSRAM", 2000))


def _kb(v):
    return "%d KB" % v if v else "none up to 1024 KB"


def _kib(b):
    return "-" if b is None else "%.1f KB" % (b / 1024.0)


def _fits(kb, free):
    return bool(kb) and kb <= free


def _met(kb, goal):
    # a smallest heap against its goal (None: no heap up to the search's limit passed)
    return "met" if _fits(kb, goal) else "**missed**"


def _fit_cell(kb, free):
    # the per-board table's cell: "-" when not measured
    return "-" if not kb else ("fits" if kb <= free else "no")


def _frozen(frs):
    """The frozen section from bench-device's list of frozen builds (measured, or skipped with why)."""
    if not frs:
        return []
    L = ["", "## Frozen into the firmware", ""]
    done = [fr for fr in frs if "skipped" not in fr]
    if done:
        L += ["Heap taken (gc.mem_free() before minus after, 256 KB heap) by `import tinycil`, then with every "
              "module a learn_class uses, then with the digits scenario's learner (`tinycil.new(64, max_hidden=32, "
              "memory_bytes=6400)`): the package as .mpy files on the filesystem, and frozen into the interpreter "
              "(device/manifest.py).", "",
              "| backend | package | interpreter | import tinycil | + its modules | + a learner | digits scenario passes from |",
              "|---|---|---|---|---|---|---|"]
    notes = []
    for fr in done:
        f, fz, b = fr.get("files", {}), fr["frozen"], fr["backend"]
        if "skipped" in f:
            L.append("| %s | .mpy files | not measured: %s | | | | |" % (b, f["skipped"]))
        else:
            L.append("| %s | .mpy files | %s | %s | %s | %s | (the table above) |" % (
                b, f["interpreter"], _kib(f["import"]), _kib(f["modules"]), _kib(f["new"])))
            notes.append("Freezing frees %s of heap once the modules are imported (%s)." % (
                _kib(f["modules"] - fz["modules"]), b))
        L.append("| %s | frozen | %s | %s | %s | %s | %s |" % (
            b, fr["interpreter"], _kib(fz["import"]), _kib(fz["modules"]), _kib(fz["new"]),
            _kb(fr["digits_kb"]) if "digits_kb" in fr else "-"))
        m = fr.get("mnist")
        if m:
            notes.append("Frozen (%s), the MNIST learner of the heap table loads and learns its two classes from %s "
                         "with its front-end read from the file, %s with it in RAM (goal %d KB: %s)." % (
                             b, _kb(m["file"]["smallest_heap_kb"]), _kb(m["ram"]["smallest_heap_kb"]), GOAL_KB["mnist"],
                             _met(m["file"]["smallest_heap_kb"], GOAL_KB["mnist"])))
    for n in notes:
        L += ["", n]
    for fr in frs:
        if "skipped" in fr:
            L += ["", "Not measured: %s." % fr["skipped"]]
    return L


def _romfs(heaps):
    """The ROMFS section: the searches again with the package in a ROMFS image, the image's
    heap block taken off (on a board the image is in flash)."""
    rows = [h for h in heaps if h.get("romfs")]
    if not rows:
        return []
    L = ["", "## The package in a ROMFS image", "",
         "`mpremote romfs build` of the same .mpy files (what `mpremote romfs deploy` writes to a board whose "
         "firmware has a ROMFS partition), mounted with `vfs.VfsRom` and imported from it: the code runs in place "
         "from the image instead of being copied into the heap. The unix port has no ROM partition, so the image "
         "is read into one heap block first; the board's heap is the smallest passing heap minus that block.", "",
         "| interpreter | image | digits scenario passes from | minus the image | goal | MNIST learner, front-end "
         "in the file, minus the image | front-end in RAM, minus the image | goal |", "|---|---|---|---|---|---|---|---|"]
    for h in rows:
        r = h["romfs"]
        img = r["image_kb"]

        def board(kb):
            return int(math.ceil(kb - img)) if kb else None
        m = r.get("mnist") or {}
        f, ram = (board(m[k]["smallest_heap_kb"]) if m else None for k in ("file", "ram"))
        L.append("| %s | %.1f KB | %s | %s | %d KB: %s | %s | %s | %d KB: %s |" % (
            h["tag"], img, _kb(r["digits_kb"]), _kb(board(r["digits_kb"])), GOAL_KB["digits"],
            _met(board(r["digits_kb"]), GOAL_KB["digits"]), _kb(f) if m else "-", _kb(ram) if m else "-",
            GOAL_KB["mnist"], _met(f, GOAL_KB["mnist"]) if m else "-"))
    return L


def report(meta, res):
    L = ["# Device benchmark: the learner on boards", "",
         "Regenerate with `make bench-device` (= `.venv/bin/tinycil bench-device --out bench/device`); the "
         "interpreters come from `$MICROPYTHON`, the emulated boards from `$TINYCIL_QEMU_FIRMWARE` "
         "(built by hand outside the repository, see the README).", "",
         "Command: `%s` (commit %s, %s, %s, %s)" % (meta["command"], meta["git"], meta["date"], meta["cpu"],
                                                   meta["machine"]), "",
         "The digits scenario: ten classes learned one at a time from 50 samples of 64 features each, "
         "`tinycil.new(64, max_hidden=32, memory_bytes=6400)` otherwise at its defaults (the acceptance test "
         "in tests/device/test_digits.py asks for >= 0.88 final accuracy, >= 0.85 on the first two classes).", ""]
    L += ["Interpreters: " + "; ".join(res["interpreters"]) + "."]
    for why in res.get("missing", []):
        L.append("Not measured: %s." % why)

    L += ["", "## Heap on a 32-bit interpreter (the package compiled to .mpy)", "",
          "`-X heapsize=NK` on a 32-bit build is a heap of N KB, as on a board (the 64-bit unix port's `wK` "
          "is not: float arrays keep their size while the word doubles).", ""]
    heaps = res.get("heaps", [])
    if heaps:
        L += ["| interpreter | digits scenario passes from | goal | MNIST learner, front-end in the file | "
              "front-end in RAM | goal |", "|---|---|---|---|---|---|"]
        for h in heaps:
            m = h.get("mnist") or {}
            f, r = m.get("file", {}), m.get("ram", {})
            L.append("| %s | %s | %d KB: %s | %s | %s | %d KB: %s |" % (
                h["tag"], _kb(h["digits_kb"]), GOAL_KB["digits"],
                _met(h["digits_kb"], GOAL_KB["digits"]),
                _kb(f.get("smallest_heap_kb")) if m else "-", _kb(r.get("smallest_heap_kb")) if m else "-",
                GOAL_KB["mnist"], _met(f.get("smallest_heap_kb"), GOAL_KB["mnist"]) if m else "-"))
        mi = res.get("mnist", {})
        if "skipped" in mi:
            L += ["", "The MNIST learner was skipped: %s." % mi["skipped"]]
        elif mi:
            L += ["", "The MNIST learner: the benchmark's (PCA 784 -> %d front-end of %d int8 bytes, max_hidden %d, "
                  "{:,} bytes of replay = 1 %% of MNIST, a %d-byte int8 file, %d bytes of buffers by FORMAT.md 8 "
                  "with max_samples = %d), loaded with that max_samples and taught two more classes from %d samples "
                  "each; accuracy on %d test rows of its four classes.".format(MNIST_LEARNER["memory_bytes"]) % (
                      MNIST_LEARNER["features"], mi["frontend_bytes"], MNIST_LEARNER["max_hidden"], mi["file_bytes"], mi["board_ram"], MNIST_CALL, MNIST_CALL, MNIST_TEST * 4)]
        frozen = [fz for fz in res.get("frozen") or [] if "digits_kb" in fz]  # builds whose heaps were measured
        L += ["", "Which boards these fit (heap MicroPython leaves free; the smallest passing heap above%s):" % (
                  ", and frozen below" if frozen else ""), "",
              "| board | free heap | digits, pure | digits, ulab | MNIST learner (front-end in the file) |%s" % "".join(
                  " digits, frozen (%s) | MNIST learner, frozen (%s) |" % (fz["backend"], fz["backend"]) for fz in frozen),
              "|---|---|---|---|---|%s" % ("---|---|" * len(frozen))]
        by = {h["backend"]: h for h in heaps}
        for name, free in BOARDS:
            cells = [_fit_cell(by[b]["digits_kb"] if b in by else None, free) for b in ("pure", "ulab")]
            mk = [h["mnist"]["file"]["smallest_heap_kb"] for h in heaps if h.get("mnist")]
            cells.append(_fit_cell(min([k for k in mk if k] or [0]), free))
            for fz in frozen:
                cells.append(_fit_cell(fz["digits_kb"], free))
                cells.append(_fit_cell(fz["mnist"]["file"]["smallest_heap_kb"] if fz.get("mnist") else None, free))
            L.append("| %s | about %d KB | %s |" % (name, free, " | ".join(cells)))
    else:
        L.append("No 32-bit interpreter was named (or --no-search): no heap measured.")

    L += _romfs(heaps)
    L += _frozen(res.get("frozen"))

    L += ["", "## Time on an emulated Cortex-M3 board", ""]
    q = res.get("qemu")
    if isinstance(q, dict):
        L.append("Not measured: %s." % q["skipped"])
    else:
        L += ["MicroPython's qemu port (MPS2_AN385: Cortex-M3, float32 in software as on an RP2040's M0+, ulab "
              "compiled in) under `qemu-system-arm -icount shift=0`: `time.ticks_us()` advances one microsecond per "
              "1000 instructions, an exact count. Seconds assume one cycle per instruction.", "",
              "| firmware | heap | backend | instructions per learn_class (mean / max) | %s | final accuracy | "
              "first two |" % " | ".join("s at %d MHz" % c for c in CLOCKS_MHZ),
              "|---|---|---|---|%s---|---|" % ("---|" * len(CLOCKS_MHZ))]
        for r in q:
            if "error" in r:
                L.append("| %s | | %s | failed: %s | %s | | |" % (r["firmware"], r["backend"],
                                                               r["error"].splitlines()[-1][:80], " | ".join(["-"] * len(CLOCKS_MHZ))))
                continue
            mean = r["mean_instructions"]
            L.append("| %s | %d KB | %s | %.2fG / %.2fG | %s | %.3f | %.3f |" % (
                r["firmware"], r["heap_kb"], r["backend"], mean / 1e9, max(r["instructions"]) / 1e9,
                " | ".join("%.1f" % (mean / (c * 1e6)) for c in CLOCKS_MHZ), r["final_accuracy"], r["first_two"]))

    L += ["", "## Time on this machine, side by side", ""]
    hs = res["host_seconds"]
    L += ["The digits scenario's ten learn_class calls, the fastest of the runs, interleaved in one run:", "",
          "| runtime | seconds | / NumPy reference |", "|---|---|---|"]
    for k, v in hs.items():
        L.append("| %s | %.3f | %.2f |" % ("NumPy reference (float32)" if k == "numpy" else k, v, v / hs["numpy"]))
    ul = [v for k, v in hs.items() if k.startswith("ulab")]
    pu = [v for k, v in hs.items() if k.startswith("pure")]
    if ul and pu:
        L += ["", "pure / ulab: %.1f (fastest ulab build)." % (min(pu) / min(ul))]

    if res.get("seeds"):
        f = [v[0] for v in res["seeds"].values()]
        t = [v[1] for v in res["seeds"].values()]
        L += ["", "## The scenario at other learner seeds", "",
              "PyPI unix port, pure backend; the test runs seed 1.", "",
              "| seed | final accuracy | first two classes |", "|---|---|---|"]
        L += ["| %s | %.3f | %.3f |" % (k, v[0], v[1]) for k, v in res["seeds"].items()]
        L.append("| mean (min) | %.3f (%.3f) | %.3f (%.3f) |" % (sum(f) / len(f), min(f), sum(t) / len(t), min(t)))
    return "\n".join(L) + "\n"
