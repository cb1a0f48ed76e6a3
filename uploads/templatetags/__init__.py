"""Template tags and filters for the public pages: the inline stylesheet, card sizes."""
