"""tinycil's public device API, for scripts on a board (main.py) and editors."""
from typing import Any, Optional, Sequence, Union

from .learner import DEFAULT_PATH as DEFAULT_PATH, Learner as Learner

__version__: str

class FormatError(ValueError): ...

def new(n_inputs: int, *, path: Optional[str] = ..., overwrite: bool = ..., n_features: Optional[int] = ...,
        max_hidden: int = ..., min_hidden: int = ..., grow_step: int = ..., max_classes: int = ...,
        n_layers: int = ..., memory_bytes: int = ..., target: float = ..., backend: Optional[str] = ...,
        seed: int = ..., input_offset: Union[float, Sequence[float], None] = ...,
        input_scale: Union[float, Sequence[float], None] = ..., max_samples: int = ...,
        preallocate: bool = ..., **hyper: Any) -> Learner: ...
def load(path: str = ..., *, backend: Optional[str] = ..., verbose: bool = ...,
         preallocate: bool = ..., frontend_in_ram: bool = ..., max_samples: int = ...) -> Learner: ...
