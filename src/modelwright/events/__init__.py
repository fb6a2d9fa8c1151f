"""Reading the platform's domain events (appended by ``core.events``), for followers."""
