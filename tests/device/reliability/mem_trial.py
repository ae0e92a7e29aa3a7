# Memory exhaustion trials in one interpreter. For each LEAVE value: copy the saved
# learner BASE to a trial folder, load it, read the samples, then fill the heap with
# ballast until only LEAVE bytes are free ("-" = no ballast) and call learn_class.
# It loads with preallocate=False, so learn_class itself takes its workspace and the
# failures land inside the call (a preallocated learner fails at load instead).
#   mem_trial.py DATA PER BASE WORK LEAVE...
# Prints per trial: TRIAL leave free_before outcome message
#                   CHK classes_same preds_same file_same (after a failure)
#                   RELOAD 1|0|MEM (loading it again in the same interpreter)
import gc
import sys

import relcommon
import tinycil



def learn_under_ballast(l, samples, leave):
    """Fill the heap, largest pieces first, until about `leave` bytes are free, then call
    learn_class. Returns (bytes free before the call, the exception or None), the
    exception kept as is: building its text needs RAM the ballast holds. A function, so
    its names are locals: a new module-level name would grow the module's dict while the
    heap is full."""
    gc.collect()
    ballast = []
    if leave != "-":
        want = gc.mem_free() - int(leave)
        size = 1 << 16
        while want > 64 and size >= 16:
            try:
                if size <= want:
                    ballast.append(bytearray(size))
                    want -= size + 16
                    continue
            except MemoryError:
                pass
            size //= 2
    left = gc.mem_free()
    try:
        l.learn_class("new", samples, verbose=False)
    except Exception as e:
        return left, e
    return left, None


data, per, base, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base_crc = relcommon.crc_file(base + "/learner.bin")
probes = relcommon.rows(data, 0, 2, per) + relcommon.rows(data, 1, 2, per)
for t, leave in enumerate(sys.argv[5:]):
    folder = "%s/t%d" % (work, t)
    relcommon.copy_folder(base, folder)
    gc.collect()
    try:
        l = tinycil.load(folder, verbose=False, preallocate=False)
        samples = relcommon.rows(data, 3, per, per)
        before = (list(l.classes), relcommon.preds(l, probes))
    except MemoryError as e:
        print("TRIAL", leave, gc.mem_free(), "LOADFAIL", e)
        continue
    left, err = learn_under_ballast(l, samples, leave)
    samples = None
    gc.collect()
    if err is None:
        outcome, msg = "OK", ""
    elif isinstance(err, MemoryError):
        outcome, msg = "MEM", str(err)
    elif isinstance(err, RuntimeError):  # out of RAM, and too little left to read the old learner back
        ok = "files are intact" in str(err) and "MemoryError" in str(err)
        outcome, msg = ("MEMFILE" if ok else "OTHER"), "%s: %s" % (type(err).__name__, err)
    else:
        outcome, msg = "OTHER", "%s: %s" % (type(err).__name__, err)
    err = None
    print("TRIAL", leave, left, outcome, msg)
    if outcome != "OK":
        same_classes = int(l.classes == before[0])
        same_preds = int(relcommon.preds(l, probes) == before[1])
        same_file = int(relcommon.crc_file(folder + "/learner.bin") == base_crc)
        print("CHK", same_classes, same_preds, same_file)
        l = None
        gc.collect()
        try:  # in this same, now fragmented heap (informational; the host reloads in a fresh one)
            l2 = tinycil.load(folder, verbose=False)
            print("RELOAD", int(l2.classes == before[0] and relcommon.preds(l2, probes) == before[1]))
        except (MemoryError, ValueError) as e:  # too little RAM: MemoryError, or FormatError
            print("RELOAD MEM", e)                # when the file does not fit (both informational)
        l2 = None
    l = None
    gc.collect()
print("END")
