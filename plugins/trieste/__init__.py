"""Built-in optimizer `trieste` (work in progress)."""
