# What the package costs in heap, for bench-device's "frozen into the firmware" rows: imported,
# with every module a learn_class uses, then with a learner (the digits scenario's). Run it where
# tinycil comes from the filesystem (.mpy) and where it is frozen into the interpreter.
# Unix port: micropython -X heapsize=256K import_heap.py FOLDER BACKEND   (a board: _argv.txt)
# Prints: IMPORT <bytes for import tinycil> <bytes with the modules>, then NEW <bytes with the
# learner too> (or NEW MemoryError), every figure gc.mem_free() before minus after.
import gc
import sys

args = [a for a in sys.argv[1:] if a]
if not args:
    with open("_argv.txt") as f:
        args = [a for a in f.read().split("\n") if a]
path, backend = args[0], args[1]
gc.collect()
f0 = gc.mem_free()
import tinycil  # noqa: E402
gc.collect()
f1 = gc.mem_free()
import tinycil.backend, tinycil.learner, tinycil.distill, tinycil.net, tinycil.replay  # noqa: E401,E402,F401
import tinycil.samples, tinycil.state, tinycil.store, tinycil.store_read, tinycil.rng, tinycil._int8  # noqa: E401,E402,F401
if backend == "ulab":
    import tinycil._ulab  # noqa: F401
else:
    import tinycil._pure  # noqa: F401
gc.collect()
f2 = gc.mem_free()
print("FROM", getattr(tinycil, "__file__", "?"))
print("IMPORT %d %d" % (f0 - f1, f0 - f2))
try:
    l = tinycil.new(64, max_hidden=32, memory_bytes=6400, path=path, backend=backend, overwrite=True)
    gc.collect()
    print("NEW %d" % (f0 - gc.mem_free()))
except MemoryError as e:
    print("NEW MemoryError", e)
