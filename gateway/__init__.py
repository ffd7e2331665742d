"""hedui.gateway."""
