"""The ``xsearch`` command line: one module per command group."""
