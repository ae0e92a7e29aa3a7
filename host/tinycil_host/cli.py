"""`tinycil` command line: thin; each subcommand lives in its own module.

A command module defines `add_arguments(parser)` and `run(args) -> int`.
Errors the user can fix are raised as an `errors.UserError` (library code raises its own
subclass, command modules `CliError`) and printed as one line.
"""
import argparse
import importlib
import sys

from . import __version__
from .errors import UserError

# subcommand -> (module, one-line help)
COMMANDS = {
    "prepare": ("tinycil_host.prepare", "train, size-search, distil and export a base learner"),
    "parity": ("tinycil_host.parity", "compare the device code under MicroPython with the NumPy reference"),
    "deploy": ("tinycil_host.board_cli", "copy the device package (and a learner) to a board"),
    "learn": ("tinycil_host.board_cli", "send samples and run learn_class on the board"),
    "predict": ("tinycil_host.board_cli", "run predictions on the board"),
    "pull": ("tinycil_host.board_cli", "copy the board's learner back to the host"),
    "flash": ("tinycil_host.board_cli", "flash MicroPython firmware (with ulab) to a board"),
    "demo": ("tinycil_host.demo", "the main job: prepare, deploy to a virtual board, learn 8 classes"),
    "bench": ("tinycil_host.bench.cli", "the paper's protocol on the shared data sets, with baselines"),
    "bench-device": ("tinycil_host.bench.boards", "heap and time of learn_class on 32-bit and emulated boards"),
}


class CliError(UserError):
    """A problem with a command's options or input: printed as one line, exit status 2."""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tinycil", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version="tinycil %s" % __version__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (modname, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=modname)
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue  # not built yet; the command reports that when called
        mod.add_arguments(p) if not hasattr(mod, "add_command_arguments") else mod.add_command_arguments(name, p)
    args = parser.parse_args(argv)
    try:
        mod = importlib.import_module(args._module)
        if hasattr(mod, "run_command"):
            return mod.run_command(args.command, args) or 0
        return mod.run(args) or 0
    except UserError as e:  # CliError, PrepareError, BenchError
        print("tinycil %s: error: %s" % (args.command, e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinycil %s: interrupted" % args.command, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
