"""The MCP endpoint (/mcp, Streamable HTTP) through which assistants read the gateways and,
with the control token, steer them. Off unless PW_MCP=yes; the SDK loads on the first
request to /mcp, never on the hot path."""
