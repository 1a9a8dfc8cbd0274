"""Where TransportStatus was: it lives in gateway_state.py now, below gateway/ and hub.py.
Kept only for imports not yet rewritten; the relayout script removes this module."""

from pypowerwall_server.gateway_state import LinkState as LinkState
from pypowerwall_server.gateway_state import TransportState as TransportState
from pypowerwall_server.gateway_state import TransportStatus as TransportStatus
