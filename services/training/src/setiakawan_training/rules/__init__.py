"""The training service's rules: pure functions of plain values, no I/O."""
