"""The WebSocket API's own routes: who a connection belongs to, and answers to what clients send."""
