"""hedui: secure inter-agency data exchange for household economic status verification.

The package is assembled from several source folders (see pyproject.toml):
``hedui.v1`` holds the generated wire contracts (``proto/hedui/v1``), and
``hedui.keys``, ``hedui.audit``, ``hedui.agents`` and ``hedui.gateway`` each live in
the top-level folder of the same name.
"""

__version__ = "0.1.0"
