"""HTTP endpoints, one module per area. Routers translate HTTP to service calls and back; no SQL here."""
