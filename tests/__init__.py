"""GridWatch test-suite."""
