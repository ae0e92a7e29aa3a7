"""tinycil host tools: prepare a base learner, check parity, drive boards, benchmark."""
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# The repository (in a source checkout or an editable install); in a wheel install, REPO is
# no repository, and SOURCE_TREE says which of the two this is.
REPO = _HERE.parents[1]
SOURCE_TREE = (REPO / "device" / "tinycil" / "limits.py").is_file() and (REPO / "host" / "tinycil_host").is_dir()
# The device package, used by parity, deploy and the virtual board: the repository's device/
# in a checkout, else the copy a wheel carries as tinycil_host/device/ (pyproject.toml).
DEVICE_DIR = REPO / "device" if SOURCE_TREE else _HERE / "device"

from .limits import VERSION as __version__  # noqa: E402 (limits reads DEVICE_DIR): one version for both sides
