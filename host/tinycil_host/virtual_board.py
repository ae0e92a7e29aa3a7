"""A virtual board: the MicroPython unix port behind a pseudo-terminal, for mpremote.

    with VirtualBoard("build/virtual-board") as vb:
        Board(vb.port)...          # or: mpremote connect <vb.port> resume ...

The unix port runs on a raw pty (no `\\n` -> `\\r\\r\\n` post-processing), with a
`vfs.VfsPosix` rooted at the board folder mounted at `/`, so `/lib` or
`/tinycil_data` land in that folder and never in the host's root. A second pty is
bridged to it: its slave path is what mpremote opens as a serial port. The unix
port exits on Ctrl-D at an empty raw REPL (no soft reset), so connect with
`resume` semantics; Board does.

The folder persists, which lets separate `tinycil ... --port virtual` calls
share one board's filesystem.
"""
import os
import pty
import select
import signal
import subprocess
import tempfile
import threading
import time
import tty
from pathlib import Path

from . import REPO, SOURCE_TREE
from .mpy import default_interpreter

# build/virtual-board of the checkout; from an installed wheel, of the current folder
DEFAULT_ROOT = (REPO if SOURCE_TREE else Path.cwd()) / "build" / "virtual-board"
# 192 K words: on the 64-bit unix port about the 192 KB a Pico has free after boot
DEFAULT_HEAP = "192wK"

# Runs before the REPL starts (micropython -i -c BOOT). Kept free of host paths
# except the root folder, which VfsPosix needs.
_BOOT = r"""
import vfs, os, sys
vfs.umount('/')
vfs.mount(vfs.VfsPosix(%(root)r), '/')
os.chdir('/')
sys.path[:] = ['', '.frozen', '/lib']
class _BoardOs:
    # `import os` gets this: the real os, with two fixes that make the unix port
    # behave like a board's filesystem.
    def __getattr__(self, k):
        return getattr(_os, k)
    def rename(self, old, new):
        # VfsPosix.rename(abs, abs) builds both host paths in one shared buffer, so
        # the first is clobbered (ENOENT); a relative target avoids the buffer.
        if new.startswith('/'):
            up = [p for p in _os.getcwd().split('/') if p]
            new = '/'.join(['..'] * len(up) + [p for p in new.split('/') if p])
        return _os.rename(old, new)
    def statvfs(self, path):
        s = _os.statvfs(path)
        if _FLASH is None:
            return s
        bs = 4096
        total = _FLASH // bs
        free = max(0, total - (_du('/') + bs - 1) // bs)
        return (bs, bs, total, free, free, 0, 0, 0, 0, s[9])
def _du(p):
    n = 0
    for e in _os.ilistdir(p):
        q = p.rstrip('/') + '/' + e[0]
        n += _du(q) if e[1] & 0x4000 else _os.stat(q)[6]
    return n
_FLASH = %(flash)r
_os = os
sys.modules['os'] = _BoardOs()
if %(version)r:
    class _Impl:
        name = 'micropython'
        version = %(version)r
        _mpy = sys.implementation._mpy
        _machine = sys.implementation._machine
    class _OldSys:
        implementation = _Impl
        def __getattr__(self, k):
            return getattr(_sys, k)
    _sys = sys
    sys.modules['sys'] = _OldSys()
"""


class VirtualBoardError(RuntimeError):
    pass


def command(root, heap=DEFAULT_HEAP, *, flash_bytes=None, version=None, interpreter=None):
    """(argv, env, cwd) that start the unix port as the board rooted in `root`: the boot code
    above, then its interactive REPL. VirtualBoard runs it on a pty; `tinycil repl --port
    virtual` runs it on the user's terminal, so both see the same filesystem and sys.path."""
    boot = _BOOT % {"root": str(Path(root).resolve()), "flash": flash_bytes,
                    "version": tuple(version) if version else None}
    argv = [interpreter or default_interpreter(), "-X", "heapsize=%s" % heap, "-i", "-c", boot]
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    # cwd outside the board folder: the boot code chdirs into the board's '/'
    return argv, env, tempfile.gettempdir()


class VirtualBoard:
    """The unix port on a pty, rooted in `root`; `.port` is the path mpremote opens.

    flash_bytes: simulate a flash of that size (os.statvfs reports it, minus what is used).
    version: make `sys.implementation.version` report this tuple (to test old-firmware checks).
    """

    def __init__(self, root=DEFAULT_ROOT, *, heap=DEFAULT_HEAP, flash_bytes=None, version=None,
                 interpreter=None):
        self.root = Path(root).resolve()
        self.heap = heap
        self.flash_bytes = flash_bytes
        self.version = tuple(version) if version else None
        self.interpreter = interpreter or default_interpreter()
        self.port = None
        self._proc = None
        self._board_fd = None      # our end of the unix port's pty
        self._host_fd = None       # our end of the pty mpremote opens
        self._host_slave = None    # kept open so the bridge pty never hangs up between connections
        self._thread = None
        self._stop = threading.Event()
        self._cut_after = None     # host->board bytes still forwarded before a simulated cable pull
        self.log = bytearray()     # everything the board printed, for debugging failed tests

    # ---- lifecycle -----------------------------------------------------------
    def start(self, timeout=20):
        self.root.mkdir(parents=True, exist_ok=True)
        board_master, board_slave = pty.openpty()
        tty.setraw(board_slave)  # raw: the REPL's bytes pass unchanged, as on a UART
        cmd, env, cwd = command(self.root, self.heap, flash_bytes=self.flash_bytes, version=self.version,
                                interpreter=self.interpreter)
        self._proc = subprocess.Popen(cmd, stdin=board_slave, stdout=board_slave, stderr=board_slave,
                                      cwd=cwd, env=env, close_fds=True, start_new_session=True)
        os.close(board_slave)
        self._board_fd = board_master
        banner = self._read_until(b">>> ", timeout)
        if not banner.endswith(b">>> "):
            self.stop()
            raise VirtualBoardError("the unix port did not reach its REPL: %r" % banner[-300:])
        host_master, host_slave = pty.openpty()
        tty.setraw(host_slave)
        self._host_fd = host_master
        self._host_slave = host_slave
        self.port = os.ttyname(host_slave)
        self._stop.clear()
        self._thread = threading.Thread(target=self._bridge, name="virtual-board-bridge", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._proc is not None:
            if self._proc.poll() is None:
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)  # our own child's session only
                except ProcessLookupError:
                    pass
            self._proc.wait(timeout=10)
            self._proc = None
        for name in ("_board_fd", "_host_fd", "_host_slave"):
            fd = getattr(self, name)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def cut_after(self, n_bytes):
        """Pull the cable after `n_bytes` more bytes from the host: the host's port then fails."""
        self._cut_after = n_bytes

    def path(self, board_path):
        """The host path of a path on the board's filesystem."""
        return self.root / board_path.lstrip("/")

    # ---- plumbing --------------------------------------------------------------
    def _read_until(self, ending, timeout):
        data = b""
        end = time.monotonic() + timeout
        while not data.endswith(ending) and time.monotonic() < end:
            r, _, _ = select.select([self._board_fd], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(self._board_fd, 4096)
                except OSError:
                    break
                data += chunk
                self.log += chunk
        return data

    def _bridge(self):
        board, host = self._board_fd, self._host_fd
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([board, host], [], [], 0.1)
            except (OSError, ValueError):
                return
            try:
                if board in r:
                    data = os.read(board, 4096)
                    self.log += data
                    os.write(host, data)
                if host in r:
                    data = os.read(host, 4096)
                    if self._cut_after is not None:
                        data = data[:self._cut_after]
                        self._cut_after -= len(data)
                        if self._cut_after <= 0:
                            os.write(board, data)
                            self._pull_cable()
                            return
                    os.write(board, data)
            except OSError:
                return  # the board process ended

    def _pull_cable(self):
        # Closing both ends of the host pty makes the host's next read or write fail,
        # as when a USB cable is pulled.
        self._cut_after = None
        for name in ("_host_fd", "_host_slave"):
            fd = getattr(self, name)
            setattr(self, name, None)
            if fd is not None:
                os.close(fd)
