"""tinycil host tools: prepare a base learner, check parity, drive boards, benchmark."""
from pathlib import Path

__version__ = "0.3.0"

# The repository's device package, used by parity, deploy and the virtual board.
REPO = Path(__file__).resolve().parents[2]
DEVICE_DIR = REPO / "device"
