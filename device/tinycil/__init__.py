"""tinycil: on-device class-incremental learning for MicroPython boards.

    import tinycil
    l = tinycil.new(n_inputs=64, max_hidden=32, memory_bytes=6400)
    l.learn_class("clap", samples)
    l.predict(x)
"""
import gc

from . import store
from .state import apply
from .learner import Learner
from .limits import DEFAULT_PATH, HYPER, MAX_SAMPLES, VERSION as __version__
from .store import FormatError


def new(n_inputs, *, path=DEFAULT_PATH, overwrite=False, **options):
    """A fresh learner with its capacity fixed up front; saved at once to folder `path`.

    Refuses to replace a learner already saved at `path` unless overwrite=True.
    Pass path=None for a learner that lives in RAM only.
    """
    if path is not None and not overwrite and store.exists(store.join(path, store.FILE)):
        raise ValueError("a learner is already saved in %s: tinycil.load(%r) it, or pass overwrite=True"
                         % (path, path))
    l = Learner(n_inputs, path=path, **options)
    if path is not None:
        l.save()
    return l


def load(path=DEFAULT_PATH, *, backend=None, verbose=True, preallocate=True, frontend_in_ram=False,
         max_samples=MAX_SAMPLES):
    """The learner saved in folder `path` (falls back to its backup copy, saying so).

    preallocate=False leaves out learn_class's buffers until its first call: for a
    board that only predicts. max_samples sizes those buffers: the most samples one
    learn_class call takes (fewer, less RAM). A frozen front-end's weights are read from
    the file as features are computed (1 KB at a time); frontend_in_ram=True holds them
    in RAM instead: faster, and as many bytes as the weights."""
    gc.collect()  # the state's small objects then go into the lowest holes, not across the heap
    st = store.load_state(path, log=print if verbose else None, lazy_frontend=not frontend_in_ram)
    try:  # the learner's buffers are made first, then filled from the file row by row
        return from_state(st, path=path, backend=backend, preallocate=preallocate, max_samples=max_samples)
    finally:
        store.release(st)


def from_state(st, path=None, backend=None, preallocate=True, max_samples=MAX_SAMPLES):
    head = st["head"]
    (n_inputs, n_features, max_hidden, min_hidden, grow_step, max_classes, n_layers, _width,
     memory_bytes, target, rng_state, flags, _calls, _ncm_var) = head
    hyper = {}
    for (k, _), v in zip(HYPER, st["hypr"]):
        hyper[k] = v
    l = Learner(n_inputs, n_features=n_features, max_hidden=max_hidden, min_hidden=min_hidden,
                grow_step=grow_step, max_classes=max_classes, n_layers=n_layers,
                memory_bytes=memory_bytes, target=target, path=path, backend=backend,
                frontend=st["frontend"], preallocate=preallocate,  # the input scaling: apply reads it
                frontend_file=st.get("file"), max_samples=max_samples, **hyper)
    apply(l, st)
    return l
