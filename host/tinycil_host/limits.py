"""The device package's limits and defaults (device/tinycil/limits.py), read from that file: the
one source both sides use. Plain Python, loaded by path so the host never imports the
device package itself."""
import importlib.util

from . import DEVICE_DIR

_spec = importlib.util.spec_from_file_location("tinycil_device_limits", DEVICE_DIR / "tinycil" / "limits.py")
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

# every constant of the device's limits.py, under its own name (the names are upper case there)
globals().update({k: v for k, v in vars(_mod).items() if k.isupper()})
