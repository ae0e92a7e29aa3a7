"""ulab (github v923z/micropython-ulab): the subset tinycil uses. Compiled into firmware; no registry has it."""
from . import numpy as numpy

__version__: str
