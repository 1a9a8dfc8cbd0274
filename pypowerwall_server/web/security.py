"""Security headers for every HTML answer (the UI, /docs, /redoc, /help): one place.

No inline script and no eval anywhere; framing only from this origin and the origins the
user configures (PW_FRAME_ANCESTORS).
"""

from __future__ import annotations

from collections.abc import Sequence

# Our own pages: scripts and styles from this server only.
UI_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'"
)
# Swagger UI and ReDoc set inline styles and ReDoc runs a blob: worker; still no inline script.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "base-uri 'none'; form-action 'none'"
)
# Any other HTML (the /help page has an inline stylesheet and nothing else).
PLAIN_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'"
)


def frame_ancestors(origins: Sequence[str]) -> str:
    return " ".join(("'self'", *origins))


def html_headers(policy: str, ancestors: Sequence[str]) -> list[tuple[bytes, bytes]]:
    """The headers every HTML answer carries (the caller adds content type and caching)."""
    headers = [
        (
            b"content-security-policy",
            f"{policy}; frame-ancestors {frame_ancestors(ancestors)}".encode("latin-1"),
        ),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if not ancestors:  # X-Frame-Options cannot list origins; CSP alone speaks for a list
        headers.append((b"x-frame-options", b"SAMEORIGIN"))
    return headers
