"""Built-in generator `procedural` (work in progress)."""
