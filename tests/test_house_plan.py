"""The house plan: every device module has its host twin under the same name (or is one of the
few with a stated reason not to), and the package lists are complete."""
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEVICE = REPO / "device" / "tinycil"
HOST = REPO / "host" / "tinycil_host"

# device module -> its host twin (relative to host/tinycil_host)
TWINS = {
    "__init__": "reference/__init__.py",
    "learner": "reference/learner.py",
    "samples": "reference/samples.py",
    "state": "reference/state.py",
    "forget": "reference/forget.py",
    "distill": "reference/distill.py",
    "net": "reference/net.py",
    "replay": "reference/replay.py",
    "noise": "reference/noise.py",
    "rng": "reference/rng.py",
    "frontend": "frontend.py",
    "limits": "limits.py",          # loads the device's file: one source for every limit
    "store": "store.py",            # the file format, both directions
    "store_read": "store.py",
}
# the backend's kernels: NumPy is the host's backend; their contract is stubs/tinycil/_backend.pyi.
# alloc: how a board makes a zeroed array in one heap block (NumPy's np.zeros is the host's)
NO_TWIN = {"backend", "_pure", "_ulab", "_int8", "_viper", "alloc"}


def test_every_device_module_has_its_host_twin():
    modules = {p.stem for p in DEVICE.glob("*.py")}
    assert modules == set(TWINS) | NO_TWIN, "a device module without a twin (or a stale entry)"
    for mod, twin in TWINS.items():
        path = HOST / twin
        assert path.is_file(), twin
        if twin.startswith("reference/") and mod != "__init__":
            # the twin says whose twin it is in its first line
            assert ("device/tinycil/%s.py" % mod) in path.read_text().splitlines()[0], twin


def test_the_reference_package_names_every_twin():
    doc = (HOST / "reference" / "__init__.py").read_text()
    for mod, twin in TWINS.items():
        if twin.startswith("reference/") and mod != "__init__":
            assert mod in doc.split("reference/X.py:")[1].split(".\n")[0], mod
