"""Pure functions building the control room's components from plain data."""
