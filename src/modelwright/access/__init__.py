"""Access control: principals, roles, grants, API tokens and the "may I?" check."""
