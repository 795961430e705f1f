"""The HTTP API: routes, the read service, device registration and the one mapping of errors to HTTP."""
