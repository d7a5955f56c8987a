"""The distribution service's tests; ``distribution_support`` holds what they share."""
