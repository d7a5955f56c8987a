"""All the coordination service's SQL."""
