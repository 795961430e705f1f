"""Delivery: each inbox change to the recipient's open WebSocket connections and phones."""
