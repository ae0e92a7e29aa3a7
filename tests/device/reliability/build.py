# Create a learner in FOLDER and teach it classes 0..N-1 of the data file.
#   build.py DATA PER FOLDER N [SAMPLES] [key=value ...]   (options for tinycil.new, ints/floats)
import sys

import relcommon
import tinycil

data, per, folder, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
opts = {}
for kv in sys.argv[5:]:
    k, v = kv.split("=")
    opts[k] = float(v) if "." in v else int(v)
l = tinycil.new(64, path=folder, overwrite=True, **opts)
for c in range(n):
    l.learn_class("c%d" % c, relcommon.rows(data, c, per, per), verbose=False)
print("BUILT", ",".join(l.classes))
