"""The registry's rules: pure Python, no I/O."""
