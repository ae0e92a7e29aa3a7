"""The device package's limits and defaults (device/tinycil/limits.py), read from that file: the
one source both sides use. Plain Python, loaded by path so the host never imports the
device package itself."""
import importlib.util

from . import DEVICE_DIR

_spec = importlib.util.spec_from_file_location("tinycil_device_limits", DEVICE_DIR / "tinycil" / "limits.py")
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

VERSION = _mod.VERSION
FORMAT_VERSION = _mod.FORMAT_VERSION
DEFAULT_PATH = _mod.DEFAULT_PATH
MIN_SAMPLES = _mod.MIN_SAMPLES
MAX_SAMPLES = _mod.MAX_SAMPLES
MAX_ABS = _mod.MAX_ABS
MAX_LABEL_BYTES = _mod.MAX_LABEL_BYTES
LOSS_LIMIT = _mod.LOSS_LIMIT
NOISE_WINDOWS = _mod.NOISE_WINDOWS
MAX_REPEATS = _mod.MAX_REPEATS
CHUNK = _mod.CHUNK
FRONT_BLOCK = _mod.FRONT_BLOCK
NEW = _mod.NEW
HYPER = _mod.HYPER
INT_RANGES = _mod.INT_RANGES
