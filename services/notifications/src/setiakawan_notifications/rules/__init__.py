"""The notifications service's rules: pure functions, no I/O."""
