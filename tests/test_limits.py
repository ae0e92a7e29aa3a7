"""One source for every limit: device/tinycil/limits.py. FORMAT.md quotes the limits it names
with their values, states the file's struct formats and defaults as store.py and limits.py
have them, and the host reads the same values."""
import re

from tinycil_host import DEVICE_DIR, limits as host_limits
from tinycil_host import store as host_store

import importlib.util

_spec = importlib.util.spec_from_file_location("dev_limits", DEVICE_DIR / "tinycil" / "limits.py")
dev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dev)
FORMAT = (DEVICE_DIR / "FORMAT.md").read_text()


def _device_store_constants():
    text = (DEVICE_DIR / "tinycil" / "store.py").read_text()
    return dict(re.findall(r'^(HEAD|HYPR)\s*=\s*"([^"]+)"', text, re.M))


def test_every_limit_format_md_quotes_has_the_value_of_limits_py():
    quoted = re.findall(r"\b([A-Z][A-Z_]+) = ([0-9.]+)", FORMAT)
    assert len(quoted) >= 6, "FORMAT.md quotes no limits as NAME = value"
    for name, value in quoted:
        assert hasattr(dev, name), "FORMAT.md quotes %s, which limits.py does not define" % name
        assert float(value) == float(getattr(dev, name)), "FORMAT.md says %s = %s, limits.py %r" % (
            name, value, getattr(dev, name))


def test_format_md_states_the_struct_formats_the_code_writes():
    dev_fmt = _device_store_constants()
    assert FORMAT.count("`%s`" % dev_fmt["HEAD"]) >= 1 and FORMAT.count("`%s`" % dev_fmt["HYPR"]) >= 1
    assert "version = %d (FORMAT_VERSION = %d)" % (dev.FORMAT_VERSION, dev.FORMAT_VERSION) in FORMAT
    for k in ("HEAD", "HYPR"):
        assert getattr(host_store, k, dev_fmt[k]) == dev_fmt[k], "host store.py's %s differs" % k


def test_format_md_lists_the_hyperparameter_defaults_of_limits_py():
    m = re.search(r"defaults \(limits\.HYPER\) ([0-9., ]+)\.", FORMAT)
    assert m, "FORMAT.md's HYPR row lost its defaults"
    stated = [float(v) for v in m.group(1).rstrip(".").split(", ")]
    assert stated == [float(v) for _, v in dev.HYPER]


def test_the_host_reads_the_device_limits():
    for name in dir(dev):
        if name.isupper():
            assert getattr(host_limits, name) == getattr(dev, name), name


def test_no_copy_of_a_limit_is_assigned_elsewhere():
    root = DEVICE_DIR.parent
    names = [n for n in dir(dev) if n.isupper()]
    pat = re.compile(r"^\s*(%s)\s*=" % "|".join(names), re.M)
    for sub in ("device/tinycil", "host/tinycil_host"):
        for f in (root / sub).rglob("*.py"):
            if f.name == "limits.py":
                continue
            hits = pat.findall(f.read_text())
            assert not hits, "%s assigns %s: import it from limits.py" % (f.relative_to(root), hits)
