# After power-loss trials: for every trial folder, load the learner in a fresh
# interpreter state, re-save it to a scratch folder (saves are deterministic, so equal
# bytes mean an equal learner), check that a new save in place works and reloads equally.
#   power_check.py SCRATCH FOLDER...   -> prints "RES folder crc classes" or "ERR folder msg"
import sys

import relcommon
import tinycil

scratch = sys.argv[1]
for folder in sys.argv[2:]:
    try:
        l = tinycil.load(folder, verbose=False)
        l.save(scratch)
        a = relcommon.read(scratch + "/learner.bin")
        l.save()  # recovery: saving in place over whatever the reset left
        l2 = tinycil.load(folder, verbose=False)
        l2.save(scratch)
        b = relcommon.read(scratch + "/learner.bin")
        print("RES", folder, relcommon.crc(a), relcommon.crc(b), ",".join(l.classes))
        l = l2 = a = b = None
    except Exception as e:
        print("ERR", folder, type(e).__name__, e)
print("END")
