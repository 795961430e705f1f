"""Typed in-memory fakes of the ports the package's rooms define (inbox.*.ports)."""
