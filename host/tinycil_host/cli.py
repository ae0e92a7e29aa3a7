"""`tinycil` command line: thin; each subcommand lives in its own module.

A command module defines `add_arguments(parser)` and `run(args) -> int`.
Errors the user can fix are raised as an `errors.UserError` (library code raises its own
subclass, command modules `CliError`) and printed as one line.
"""
import argparse
import importlib
import sys

from .errors import UserError

# subcommand -> (module, one-line help)
COMMANDS = {
    "prepare": ("tinycil_host.prepare", "train, size-search, distil and export a base learner"),
    "parity": ("tinycil_host.parity", "compare the device code under MicroPython with the NumPy reference"),
    "deploy": ("tinycil_host.board_cli", "copy the device package (and a learner) to a board"),
    "learn": ("tinycil_host.board_cli", "send samples and run learn_class on the board (a new class, or --update one)"),
    "predict": ("tinycil_host.board_cli", "run predictions on the board"),
    "forget": ("tinycil_host.board_cli", "remove a learned class from the board's learner"),
    "pull": ("tinycil_host.board_cli", "copy the board's learner back to the host"),
    "repl": ("tinycil_host.board_cli", "an interactive MicroPython REPL on the board (virtual or real)"),
    "flash": ("tinycil_host.board_cli", "flash MicroPython firmware (with ulab) to a board"),
    "demo": ("tinycil_host.demo", "the main job: prepare, deploy to a virtual board, learn 8 classes"),
    "bench": ("tinycil_host.bench.cli", "the paper's protocol on the shared data sets, with baselines"),
    "bench-device": ("tinycil_host.bench.boards", "heap and time of learn_class on 32-bit and emulated boards"),
}


DESCRIPTION = """\
tinycil: on-device class-incremental learning for MicroPython boards (ESP32, RP2040).
A deployed sensor learns a new class in the field from a few samples, without
forgetting the old ones: each new class is distilled into a few synthetic samples,
the network retrains on all of them and grows only when it misses its accuracy target.

The usual workflow (add --port virtual to any board command to run it on a virtual
board, the MicroPython unix port, with no hardware):
  tinycil prepare --dataset digits --base-classes 0,1 --out build/learner
  tinycil deploy  --port /dev/ttyACM0 --learner build/learner
  tinycil learn   --port /dev/ttyACM0 --label 2 --samples digit2.npz
  tinycil predict --port /dev/ttyACM0 --samples test.npz
`tinycil demo` runs all of it on a virtual board. `tinycil COMMAND --help` for each command."""


class CliError(UserError):
    """A problem with a command's options or input: printed as one line, exit status 2."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions as written and shows every option's default: "(required)" for a
    required option, on/off for a flag, the value otherwise; an option whose default is None
    says in its own help what happens without it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if not action.option_strings or action.default is argparse.SUPPRESS or "default" in text:
            return text
        if action.required:
            return text + " (required)"
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return text + " (default: %s)" % ("off" if action.default is False else "on")
        if action.default is None:
            return text
        return text + " (default: %(default)s)"


def build_parser():
    """The whole `tinycil` parser, every subcommand's options included."""
    from .limits import VERSION
    parser = argparse.ArgumentParser(prog="tinycil", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version="tinycil %s" % VERSION, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (modname, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_, formatter_class=HelpFormatter)
        p.set_defaults(_module=modname)
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue  # not built yet; the command reports that when called
        mod.add_arguments(p) if not hasattr(mod, "add_command_arguments") else mod.add_command_arguments(name, p)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
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
