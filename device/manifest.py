# Freezes tinycil into a MicroPython firmware, the way micropython-lib packages are frozen:
# put `include("path/to/tinycil/device/manifest.py")` in the board's manifest and build it with
# FROZEN_MANIFEST=that-manifest (README "Freezing into firmware").
# _viper.py is machine code (@micropython.viper): the port's mpy-cross must be given the CPU
# (MPY_CROSS_FLAGS=-march=..., which the rp2, esp32, stm32 and qemu ports set; the unix port
# needs it on the make line). include(..., viper=False) leaves it out for a port without a
# native emitter: the package then uses its bytecode kernels, with the same results.
# tests/test_manifest.py keeps this list, device/package.json and device/tinycil/ the same.
options.defaults(viper=True)

metadata(description="On-device class-incremental learning for MicroPython boards.", version="0.4.0")

FILES = (
    "__init__.py",
    "_int8.py",
    "_pure.py",
    "_ulab.py",
    "alloc.py",
    "backend.py",
    "distill.py",
    "forget.py",
    "frontend.py",
    "learner.py",
    "limits.py",
    "net.py",
    "noise.py",
    "replay.py",
    "rng.py",
    "samples.py",
    "state.py",
    "store.py",
    "store_read.py",
)

package("tinycil", files=FILES + (("_viper.py",) if options.viper else ()), base_path=".")
