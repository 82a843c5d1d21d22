"""ftbridge provider package (being written)."""
