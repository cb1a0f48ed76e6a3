"""Media storage: which files exist, listings, batched deletes, reconcile, local media."""
