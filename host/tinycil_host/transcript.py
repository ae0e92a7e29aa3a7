"""The README's REPL transcript, made from real output.

The block between `<!-- transcript: repl -->` and `<!-- end transcript -->` in README.md is a
MicroPython session. `python -m tinycil_host.transcript README.md` runs its `>>>` lines under
the project's MicroPython unix port (device_scripts/repl_session.py), in a folder holding the
sample files the session reads (raw digits from scikit-learn, pixel values 0..16, one sample
per line), and writes what it printed back into the block; tests/test_readme.py checks the
README still matches."""
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import mpy

SCRIPT = Path(__file__).parent / "device_scripts" / "repl_session.py"
BLOCK = re.compile(r"(<!-- transcript: repl -->\n```python\n)(.*?)(```\n<!-- end transcript -->)", re.S)
# file -> (digit, first sample, number of samples) of scikit-learn's digits of that class
SAMPLE_FILES = {"zero.csv": (0, 0, 30), "one.csv": (1, 0, 30), "two.csv": (2, 0, 30),
                "two_test.csv": (2, 30, 20), "two_more.csv": (2, 50, 10)}


class TranscriptError(ValueError):
    pass


def write_sample_files(folder):
    """The session's sample files: raw 8x8 digits, comma-separated integers, a sample per line."""
    from sklearn.datasets import load_digits
    d = load_digits()
    for name, (digit, start, n) in SAMPLE_FILES.items():
        X = d.data[d.target == digit][start:start + n].astype(np.int64)
        Path(folder, name).write_text("".join(",".join(str(v) for v in row) + "\n" for row in X))


def commands(block):
    """The `>>>` lines of a transcript block."""
    return [ln[4:] for ln in block.splitlines() if ln.startswith(">>> ")]


def run(cmds, interpreter=None):
    """What the session prints under MicroPython, in a fresh folder."""
    with tempfile.TemporaryDirectory() as tmp:
        write_sample_files(tmp)
        Path(tmp, "session.txt").write_text("".join(c + "\n" for c in cmds))
        r = mpy.run(SCRIPT, args=["session.txt"], interpreter=interpreter, cwd=tmp, timeout=300)
    if r.returncode != 0:
        raise TranscriptError("the session failed under MicroPython:\n" + r.stdout[-2000:] + r.stderr[-2000:])
    return r.stdout


def block_of(text):
    m = BLOCK.search(text)
    if not m:
        raise TranscriptError("no `<!-- transcript: repl -->` block with a ```python fence")
    return m


def regenerate(path):
    """Rewrite the transcript block of `path` with real output; True when it changed."""
    text = Path(path).read_text()
    m = block_of(text)
    out = run(commands(m.group(2)))
    new = text[:m.start(2)] + out + text[m.end(2):]
    Path(path).write_text(new)
    return new != text


if __name__ == "__main__":
    changed = regenerate(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print("transcript %s" % ("rewritten" if changed else "unchanged"))
