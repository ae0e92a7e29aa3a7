# Picks the array kernels: ulab when it is compiled in, pure MicroPython otherwise.

def available():
    names = ["pure"]
    try:
        import ulab  # noqa: F401
        names.insert(0, "ulab")
    except ImportError:
        pass
    return names


def get(name=None):
    """The kernel module for `name` ("ulab", "pure"), or the best available one."""
    if name is None:
        name = available()[0]
    if name == "ulab":
        try:
            from . import _ulab
        except ImportError:
            raise ValueError("backend 'ulab' requested but ulab is not in this firmware; use backend='pure'")
        return _ulab
    if name == "pure":
        from . import _pure
        return _pure
    raise ValueError("unknown backend %r (use 'ulab' or 'pure')" % (name,))
