"""Built-in characterizer `taufactor` (work in progress)."""
