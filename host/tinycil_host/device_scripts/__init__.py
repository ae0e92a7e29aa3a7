"""Scripts that run under MicroPython (shipped with the package)."""
