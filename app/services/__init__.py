"""Framework-free use cases: they take a database session and plain values, never a request."""
