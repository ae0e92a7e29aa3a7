# One test runner for the unix port and for boards.
#   unix port:  micropython tests/device/run.py [DATA_DIR] [BACKEND] [MODULE ...]
#   a board:    mpremote mount . run tests/device/run.py   (from the repository root;
#               `python -m tinycil_host.device_data` first writes build/device-test-data)
# Finds test_*.py beside this file, calls every test_* function with a context
# dict, and ends with the line "N passed, N failed".
import gc
import os
import sys

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."


def _setup_path():
    # the package from the repository, or from $TINYCIL_DEVICE (the unix port: a compiled copy)
    getenv = getattr(os, "getenv", lambda k: None)
    package = getenv("TINYCIL_DEVICE") or HERE + "/../../device"
    for p in (HERE, package):
        if p not in sys.path:
            sys.path.insert(0, p)


def main(argv):
    _setup_path()
    data_dir = argv[1] if len(argv) > 1 else "build/device-test-data"
    backend = argv[2] if len(argv) > 2 and argv[2] != "auto" else None
    only = argv[3:]
    import tinycil.backend
    backend = backend or tinycil.backend.available()[0]
    ctx = {"data": data_dir, "backend": backend, "tmp": _tmpdir(data_dir)}
    print("tinycil device tests: backend %s, data %s" % (backend, data_dir))
    mods = sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    if only:
        mods = [m for m in mods if m in only]
    passed = failed = 0
    for name in mods:
        mod = __import__(name)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            gc.collect()
            try:
                getattr(mod, attr)(ctx)
                passed += 1
                print("PASS %s.%s" % (name, attr))
            except Exception as e:
                failed += 1
                print("FAIL %s.%s: %s: %s" % (name, attr, type(e).__name__, e))
                sys.print_exception(e) if hasattr(sys, "print_exception") else None
    print("%d passed, %d failed" % (passed, failed))
    return failed


def _tmpdir(data_dir):
    d = data_dir + "/tmp"
    try:
        os.mkdir(d)
    except OSError:
        pass
    return d


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv) else 0)
