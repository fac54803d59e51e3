"""The administrator's console: one module per area."""
