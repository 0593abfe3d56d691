"""Contact-file import: reading, column mapping, validation."""
