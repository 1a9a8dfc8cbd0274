"""/metrics as the rest of the app sees it: the server's own counts, poll durations counted
from the start, and the rendering, which loads prometheus-client (prometheus.py) on the first
scrape only: a server nobody scrapes never imports it (idle RSS, BENCHMARKS.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pypowerwall_server.exposition_data import PollDurations, ServerCounts
from pypowerwall_server.hub import Hub

if TYPE_CHECKING:
    from pypowerwall_server.prometheus import Rendering


class Exposition:
    """What /metrics renders, and the task that times polls."""

    def __init__(self, hub: Hub, server: ServerCounts) -> None:
        self.hub = hub
        self.server = server
        self.polls = PollDurations()
        self._rendering: Rendering | None = None

    def render(self) -> tuple[bytes, str]:
        """The exposition and its content type."""
        if self._rendering is None:
            from pypowerwall_server.prometheus import Rendering

            self._rendering = Rendering(self.hub, self.server, self.polls)
        return self._rendering.render()

    async def time_polls(self) -> None:
        """Observe each successful poll's duration (from its start to its Snapshot)."""
        seen: dict[str, int] = {}  # polls counted per gateway
        async for state in self.hub.updates(maxsize=max(16, 2 * len(self.hub.gateway_ids))):
            previous = seen.get(state.gateway_id)
            seen[state.gateway_id] = state.polls
            if previous is None or previous == state.polls:
                continue  # a welcome (current state), not a poll that just finished
            snapshot, started = state.snapshot, state.last_attempt
            if state.online and snapshot is not None and started is not None:
                self.polls.observe(state.gateway_id, max(0.0, snapshot.taken_at - started))
