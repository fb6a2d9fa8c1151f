"""The audit trail: every mutation, who made it, where, when, and the state before and after."""
