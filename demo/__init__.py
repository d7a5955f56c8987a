"""The demo: the programmes of the seed reports, loaded into a running
Setiakawan through its public APIs (``make demo``, after ``make run``)."""
