"""Readers of exports (CSV, JSONL, Excel) and writers of results."""
