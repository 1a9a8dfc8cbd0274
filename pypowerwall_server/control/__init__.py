"""Control writes: validation, limits per transport, auth, lockout, audit, operations."""
