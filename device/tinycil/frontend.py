# A frozen front-end (FORMAT.md 2 FRNT, 8): int8 layers y_i = scale_i * sum_j q_ij x_j + bias_i
# between the input scaling and the network. Imported only by learners that have one.
from array import array

from .limits import FRONT_BLOCK


def _ends_early(file):
    return OSError("front-end weights: %s ends early" % file)


class FrontEnd:
    """Layers (q, n_out, n_in, relu, scales, bias) as decoded from a file (store_read). q is
    the weights' bytes, held once in RAM as the backend's int8 matrix, or their position in
    `file`, read from there FRONT_BLOCK bytes at a time (whole rows) into one scratch block."""

    def __init__(self, B, layers, n_inputs, n_features, file=None):
        self.B = B
        self.file = file
        self.fh = None  # the file, open while features are computed
        self.layers = []
        prev = n_inputs
        block = 0
        for (q, n_out, n_in, relu, scales, bias) in layers:
            if n_in != prev:
                raise ValueError("front-end layer takes %d inputs, previous gives %d" % (n_in, prev))
            if isinstance(q, int):
                if file is None:
                    raise ValueError("front-end weights left in a file, but no file named")
                rows = max(1, min(n_out, FRONT_BLOCK // n_in))
                block = max(block, rows * n_in)
                W, at = None, q
            else:
                rows, W, at = n_out, B.int8_matrix(q, n_out, n_in), None
            self.layers.append([W, array("f", scales), array("f", bias), n_out, n_in, relu, at, rows])
            prev = n_out
        if prev != n_features:
            raise ValueError("front-end gives %d features, network takes %d" % (prev, n_features))
        self.block = B.int8_scratch(block)  # empty when every layer is in RAM
        self.view = memoryview(self.block)  # readinto targets, without a new object per sample
        for f in self.layers:  # every streamed layer sees the block as its own rows x n_in
            if f[6] is not None:
                f[0] = B.int8_view(self.block, f[7], f[4])

    def flops(self):
        return sum(2 * f[3] * f[4] for f in self.layers)

    def streamed(self):
        return any(f[6] is not None for f in self.layers)

    def apply(self, v, out):
        """Run every layer on row 0 of v; returns the buffer (v or out) holding the result."""
        B = self.B
        for (W, scales, bias, n_out, n_in, relu, at, rows) in self.layers:
            if at is None:
                B.qlinear(v, W, scales, bias, out, n_in, n_out, relu)
            else:
                f = self._handle()
                f.seek(at)
                for i0 in range(0, n_out, rows):
                    k = min(rows, n_out - i0)
                    if f.readinto(self.view[:k * n_in]) != k * n_in:
                        raise _ends_early(self.file)
                    B.qlinear(v, W, scales, bias, out, n_in, k, relu, i0)
            v, out = out, v
        return v

    def _handle(self):
        if self.fh is None:
            file = self.file
            if file is None:
                raise OSError("front-end weights: no file to read them from")
            self.fh = open(file, "rb")
        return self.fh

    def close(self):
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def point(self, file, positions):
        """The streamed weights are now at `positions` (one per layer) in `file`."""
        self.close()
        self.file = file
        for f, at in zip(self.layers, positions):
            if f[6] is not None:
                f[6] = at

    def state(self):
        """The layers for store.write_to: RAM weights as their bytes (no copy), file weights
        as a function copying them piece by piece."""
        return [(self.B.int8_buffer(W) if at is None else self._copier(at, n_out * n_in),
                 n_out, n_in, relu, sc, bias)
                for (W, sc, bias, n_out, n_in, relu, at, _rows) in self.layers]

    def _copier(self, at, n):
        def copy(emit):
            f = self._handle()
            mv = memoryview(bytearray(256))
            f.seek(at)
            left = n
            while left:
                k = f.readinto(mv[:min(256, left)])
                if not k:
                    raise _ends_early(self.file)
                emit(mv[:k])
                left -= k
        return copy
