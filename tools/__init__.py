"""Developer tools for the data-ops project; not part of the python_ingest wheel."""
