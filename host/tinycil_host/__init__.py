"""tinycil host tools: prepare a base learner, check parity, drive boards, benchmark."""
from pathlib import Path

# The repository's device package, used by parity, deploy and the virtual board.
REPO = Path(__file__).resolve().parents[2]
DEVICE_DIR = REPO / "device"

from .limits import VERSION as __version__  # noqa: E402 (limits reads DEVICE_DIR): one version for both sides
