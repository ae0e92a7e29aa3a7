"""A one-line progress bar on stderr (no dependency): `with Bar(total, "train") as bar: bar.update(...)`."""
import sys
import time


class Bar:
    def __init__(self, total, label="", width=28, stream=None, enabled=None):
        self.total = max(1, int(total))
        self.label = label
        self.width = width
        self.stream = stream or sys.stderr
        # a bar only makes sense on a terminal; logs and pipes get nothing
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.t0 = time.monotonic()
        self.note = ""

    def update(self, step=1, note=None):
        self.done = min(self.total, self.done + step)
        if note is not None:
            self.note = note
        if self.enabled:
            filled = self.width * self.done // self.total
            self.stream.write("\r%s [%s%s] %d/%d %s %.0fs " % (
                self.label, "#" * filled, "." * (self.width - filled), self.done, self.total,
                self.note, time.monotonic() - self.t0))
            self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
