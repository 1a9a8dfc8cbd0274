"""The FastAPI routers, schemas and typed dependencies over the read model (answers.py);
the serving machinery in front of them is in http/."""
