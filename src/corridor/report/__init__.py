"""Reports of results: terminal tables (and, later, HTML)."""
