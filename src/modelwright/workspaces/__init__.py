"""Workspaces, their environments (the promotion path) and the datastores in each."""
