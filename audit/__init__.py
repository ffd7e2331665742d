"""hedui.audit."""
