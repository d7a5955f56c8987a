"""All of the notifications service's SQL."""
