"""Gateway access: the adapter over pypowerwall and the per-gateway poller."""
