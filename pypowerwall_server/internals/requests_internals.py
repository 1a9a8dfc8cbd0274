"""requests methods that gateway/tls.py wraps (documented as overridable, yet not a promise):
the session's environment merge (so `session.verify = False` beats REQUESTS_CA_BUNDLE) and
the adapter's pool key attributes (so unverified connections share one SSL context)."""

from __future__ import annotations

SESSION_METHODS = ("merge_environment_settings",)
ADAPTER_METHODS = ("build_connection_pool_key_attributes",)
# The keyword the wrapped pool key builder passes an SSL context under.
POOL_KEY_SSL_CONTEXT = "ssl_context"
