"""The browser UI (power flow, console, history, offline API docs): static files served from
memory by web/layer.py, in front of the FastAPI app and outside the hot path's tables."""
