"""device/manifest.py (freezing tinycil into firmware) lists what device/package.json and the
device/tinycil folder hold, at the version of device/tinycil/limits.py. The manifest is run the
way MicroPython's tools/manifestfile.py runs it: exec'd with metadata/package/module/require/
include/options in its globals, from its own folder."""
import json
import os

from tinycil_host import DEVICE_DIR, limits

MANIFEST = DEVICE_DIR / "manifest.py"


class _Options:
    """manifestfile.IncludeOptions: include(path, **kwargs) values, else the manifest's defaults."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._defaults = {}

    def defaults(self, **kwargs):
        self._defaults = kwargs

    def __getattr__(self, name):
        return self._kwargs.get(name, self._defaults.get(name))


def run_manifest(**include_kwargs):
    """{"metadata": {...}, "files": ["tinycil/x.py", ...]} that the manifest asks to freeze."""
    got = {"metadata": {}, "files": []}

    def metadata(**kw):
        got["metadata"].update(kw)

    def package(package_path, files=None, base_path=".", opt=None):
        root = os.path.join(base_path, package_path)
        assert os.path.isdir(root), root
        if files is None:  # every .py below the package, as manifestfile does
            files = sorted(os.path.relpath(os.path.join(d, f), root)
                           for d, _, fs in os.walk(root) for f in fs if f.endswith(".py"))
        for f in files:
            assert os.path.isfile(os.path.join(root, f)), f
            got["files"].append(package_path + "/" + f)

    def module(module_path, base_path=".", opt=None):
        assert os.path.isfile(os.path.join(base_path, module_path)), module_path
        got["files"].append(module_path)

    def require(name, **kw):
        raise AssertionError("tinycil needs no other package, but the manifest requires %r" % name)

    def include(path, **kw):
        raise AssertionError("the manifest includes %r" % path)

    g = {"metadata": metadata, "package": package, "module": module, "require": require,
         "include": include, "options": _Options(**include_kwargs)}
    prev = os.getcwd()
    os.chdir(MANIFEST.parent)  # manifestfile resolves paths from the manifest's folder
    try:
        exec(MANIFEST.read_text(), g)
    finally:
        os.chdir(prev)
    return got


def folder_files():
    return sorted("tinycil/" + p.name for p in (DEVICE_DIR / "tinycil").glob("*.py"))


def test_manifest_freezes_every_module_of_the_package():
    got = run_manifest()
    assert sorted(got["files"]) == folder_files(), "device/manifest.py and device/tinycil/ drifted"
    assert len(set(got["files"])) == len(got["files"])


def test_manifest_and_package_json_list_the_same_files_and_version():
    got = run_manifest()
    pkg = json.loads((DEVICE_DIR / "package.json").read_text())
    assert sorted(got["files"]) == sorted(dst for dst, _ in pkg["urls"]), "manifest.py and package.json drifted"
    assert got["metadata"]["version"] == limits.VERSION == pkg["version"]
    assert got["metadata"].get("description")


def test_manifest_without_viper_leaves_out_only_the_machine_code():
    got = run_manifest(viper=False)
    assert sorted(got["files"]) == [f for f in folder_files() if f != "tinycil/_viper.py"]
