"""The errors a user can fix (a bad option, a missing or malformed file).

Library modules raise their own subclass of UserError (prepare.PrepareError,
bench.settings.BenchError) and so never import the command line; `tinycil` (cli.main)
prints any UserError as one line and exits with status 2.
"""


class UserError(Exception):
    """A problem the user can fix: the message says what and how."""
