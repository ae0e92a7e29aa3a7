# Load every case folder given on the command line with tinycil.load (verbose, so the
# fallback notice is printed) and report the outcome between CASE/DONE markers:
#   OK <crc of the loaded learner re-saved to SCRATCH> <classes>
#   EXC <type> <is ValueError> <message>
import sys

import relcommon
import tinycil

scratch = sys.argv[1]
for folder in sys.argv[2:]:
    print("CASE", folder)
    try:
        l = tinycil.load(folder)
        l.save(scratch)
        print("OK", relcommon.crc(relcommon.read(scratch + "/learner.bin")), ",".join(l.classes))
        l = None
    except Exception as e:
        print("EXC", type(e).__name__, int(isinstance(e, ValueError)), e)
    print("DONE")
print("END")
