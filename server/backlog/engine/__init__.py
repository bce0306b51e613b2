"""The use cases every surface calls, grouped by area, over one store."""
