# Memory exhaustion trials in one interpreter. For each LEAVE value: copy the saved
# learner BASE to a trial folder, load it, read the samples, then fill the heap with
# ballast until only LEAVE bytes are free ("-" = no ballast) and call learn_class.
#   mem_trial.py DATA PER BASE WORK LEAVE...
# Prints per trial: TRIAL leave free_before outcome message
#                   CHK classes_same preds_same file_same (after a failure)
#                   RELOAD 1|0|MEM (loading it again in the same interpreter)
import gc
import sys

import relcommon
import tinycil

data, per, base, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base_crc = relcommon.crc_file(base + "/learner.bin")
probes = relcommon.rows(data, 0, 2, per) + relcommon.rows(data, 1, 2, per)
for t, leave in enumerate(sys.argv[5:]):
    folder = "%s/t%d" % (work, t)
    relcommon.copy_folder(base, folder)
    gc.collect()
    try:
        l = tinycil.load(folder, verbose=False)
        samples = relcommon.rows(data, 3, per, per)
        before = (list(l.classes), relcommon.preds(l, probes))
    except MemoryError as e:
        print("TRIAL", leave, gc.mem_free(), "LOADFAIL", e)
        continue
    gc.collect()
    free = gc.mem_free()
    ballast = []
    if leave != "-":
        # fill the heap, largest pieces first, until about `leave` bytes are free
        want = free - int(leave)
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
        outcome, msg = "OK", ""
    except MemoryError as e:
        outcome, msg = "MEM", str(e)
    except RuntimeError as e:  # out of RAM, and too little left to read the old learner back
        ok = "files are intact" in str(e) and "MemoryError" in str(e)
        outcome, msg = ("MEMFILE" if ok else "OTHER"), "%s: %s" % (type(e).__name__, e)
    except Exception as e:
        outcome, msg = "OTHER", "%s: %s" % (type(e).__name__, e)
    ballast = None
    samples = None
    gc.collect()
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
