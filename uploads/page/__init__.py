"""The public page: its views and form, the page shared by every visitor."""
