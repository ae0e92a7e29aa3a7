"""An emulated Cortex-M3 board: a MicroPython qemu-port firmware the user names, run under
qemu-system-arm with `-icount shift=0`, driven by mpremote over its serial pty.

With `-icount shift=0` one guest instruction is one nanosecond of virtual time, so on the
board `time.ticks_diff(time.ticks_us(), t0) * 1000` is an exact, repeatable instruction
count: the honest stand-in for "how long on a board". The firmware (MicroPython's
`ports/qemu`, BOARD=MPS2_AN385, float32 in software as on an RP2040, ulab compiled in, a
fixed GC heap) is built by hand outside this repository; this module only runs what
$TINYCIL_QEMU_FIRMWARE names (os.pathsep-separated .elf files).

    with QemuBoard(firmware) as qb:
        out = qb.run(script, mount=folder)   # mpremote connect <pty> mount <folder> run <script>
"""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ENV = "TINYCIL_QEMU_FIRMWARE"
QEMU = "qemu-system-arm"


class QemuError(RuntimeError):
    pass


def named_firmware():
    """The firmware files $TINYCIL_QEMU_FIRMWARE names."""
    return [p for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]


def unavailable():
    """Why no emulated board can run here (None when one can)."""
    if not named_firmware():
        return "%s is not set: no qemu firmware (MicroPython ports/qemu, MPS2_AN385) to run" % ENV
    if not shutil.which(QEMU):
        return "%s is not installed (Debian package qemu-system-arm)" % QEMU
    missing = [p for p in named_firmware() if not os.path.isfile(p)]
    if missing:
        return "%s names %s, which does not exist" % (ENV, missing[0])
    return None


def _mpremote():
    here = Path(sys.executable).parent / "mpremote"
    return str(here) if here.exists() else "mpremote"


class QemuBoard:
    """qemu-system-arm -machine mps2-an385 -icount shift=0 ... -serial pty -kernel FIRMWARE."""

    def __init__(self, firmware):
        self.firmware = str(firmware)
        self.port = None
        self._proc = None

    def start(self, timeout=20):
        cmd = [QEMU, "-machine", "mps2-an385", "-icount", "shift=0", "-nographic", "-monitor", "null",
               "-semihosting", "-serial", "pty", "-kernel", self.firmware]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + timeout
        line = ""
        while time.time() < deadline:
            line = self._proc.stdout.readline()
            m = re.search(r"redirected to (/dev/pts/\d+)", line)
            if m:
                self.port = m.group(1)
                return self
            if self._proc.poll() is not None:
                break
        self.stop()
        raise QemuError("qemu did not start %s: %s" % (self.firmware, line.strip()))

    def run(self, script, mount, args=(), timeout=3600):
        """Run `script` (a file inside `mount`) on the board with `mount` as /remote, its
        argument list in sys.argv (a script cannot take a command line on a board, so they are
        written beside it as _argv.txt). Returns (returncode, output)."""
        mount = Path(mount)
        (mount / "_argv.txt").write_text("\n".join(str(a) for a in args))
        cmd = [_mpremote(), "connect", self.port, "mount", str(mount), "run", str(Path(script))]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=mount)
        except subprocess.TimeoutExpired as e:
            return 124, (e.stdout or "") if isinstance(e.stdout, str) else ""
        return r.returncode, r.stdout + r.stderr

    def stop(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
