"""The README's REPL transcript is real output: rerun, it prints exactly what the README shows."""
from tinycil_host import REPO, transcript


def test_readme_transcript_is_what_the_session_prints():
    m = transcript.block_of((REPO / "README.md").read_text())
    shown = m.group(2)
    cmds = transcript.commands(shown)
    assert len(cmds) >= 8, "the transcript lost its commands"
    printed = transcript.run(cmds)
    assert printed == shown, ("README.md's REPL transcript drifted from real output; "
                              "regenerate it with `make readme`")


def test_session_runner_reports_errors_as_the_repl_does(tmp_path):
    out = transcript.run(["x = 1", "x + 1", "int('z')"]).splitlines()
    assert out[:6] == [">>> x = 1", ">>> x + 1", "2", ">>> int('z')", "Traceback (most recent call last):", "  ..."]
    assert out[6].startswith("ValueError: invalid syntax for integer") and len(out) == 7
