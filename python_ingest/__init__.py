"""data-ops ingestion library."""
