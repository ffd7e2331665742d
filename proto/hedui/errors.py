"""The one error base every hedui component raises for a user or a peer to read.

Each error's ``str()`` is a single sentence that names what is wrong and, where it
can, how to fix it. The CLI prints it as one line and exits non-zero; servers map
subclasses to precise gRPC status codes. Keeping the base here (the root package,
which every component may import) keeps the import graph one-way.
"""


class HeduiError(Exception):
    """A failure the user or peer can act on; ``str(err)`` says what and how."""

    #: process exit code the CLI uses for this error
    exit_code: int = 1
