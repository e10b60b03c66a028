"""Built-in generator `gan` (work in progress)."""
