"""Provider and storage adapters."""
