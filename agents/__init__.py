"""hedui.agents."""
