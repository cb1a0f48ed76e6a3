"""The web edge: middleware, request limits and deadlines, error pages, request ids."""
