"""`tinycil --help` and every subcommand's help: each option says what it does and shows its
default (or that it is required), and `--version` prints the one version (limits.VERSION)."""
import argparse
import subprocess
import sys

import pytest

from tinycil_host import cli, limits
from tinycil_host.cli import COMMANDS, HelpFormatter, build_parser
from tinycil_host.limits import HYPER

MAIN = "import sys; from tinycil_host.cli import main; sys.exit(main())"


def _subparsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub.choices


def _options(p):
    return [a for a in p._actions if not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]


def test_every_command_is_in_the_parser():
    _, subs = _subparsers()
    assert sorted(subs) == sorted(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_has_help_and_shows_its_default(command):
    _, subs = _subparsers()
    p = subs[command]
    fmt = HelpFormatter(prog="tinycil " + command)
    opts = _options(p)
    assert opts, command
    for a in opts:
        assert a.help and len(a.help) > 10, "%s %s has no help" % (command, a.dest)
        if not a.option_strings:
            continue  # a positional argument: always given, no default
        shown = fmt._get_help_string(a) % dict(vars(a), prog=fmt._prog)
        assert "default" in shown or "(required)" in shown, "%s %s: %r" % (command, a.option_strings[0], shown)
        assert "default: None" not in shown, (command, a.option_strings[0], shown)
    text = p.format_help()
    assert "(default:" in text or all(a.required or not a.option_strings for a in opts)


def test_prepare_says_what_each_hyper_parameter_does():
    _, subs = _subparsers()
    helps = {a.dest: a.help for a in _options(subs["prepare"])}
    for k, _ in HYPER:
        assert len(helps[k]) > len("board hyper-parameter, stored in the file: ") + 15, (k, helps[k])
    for k in ("max_hidden", "min_hidden", "grow_step", "max_classes", "seed", "tolerance"):
        assert helps[k], k


def test_top_level_help_describes_tinycil_and_its_workflow():
    text = build_parser().format_help()
    assert "class-incremental learning for MicroPython" in text
    order = [text.index("tinycil %s " % c) for c in ("prepare", "deploy", "learn", "predict")]
    assert order == sorted(order)  # the usual workflow, in its order
    for c in COMMANDS:
        assert c in text


def test_version_prints_limits_version():
    r = subprocess.run([sys.executable, "-c", MAIN, "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "tinycil " + limits.VERSION, r.stdout + r.stderr


def test_prepare_without_dataset_lists_the_choices(capsys, tmp_path):
    rc = cli.main(["prepare", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and "--dataset is required" in err and "digits" in err and "mnist" in err and ".npz" in err
    assert not (tmp_path / "x").exists()
