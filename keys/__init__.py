"""hedui.keys."""
