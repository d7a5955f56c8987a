"""The distribution service's SQL, one module per topic. Every function
takes the unit of work it runs in."""
