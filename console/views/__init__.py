"""The settings area's pages, one module per kind of setting."""
