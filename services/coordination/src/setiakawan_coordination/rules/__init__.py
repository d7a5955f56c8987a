"""The coordination service's rules: pure functions, no I/O."""
