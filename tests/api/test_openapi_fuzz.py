"""A schemathesis run over /openapi.json against the server on uvicorn with its own protocol
(hot and slow paths), bounded by count (its examples, coverage and 100 generated cases per
operation: ~1,600 requests, the same ones every run), positive and negative, no 5xx, and
every status code and content type served documented.

1,000 generated cases per operation (~3,300 requests) took minutes and once ran past its own
time limit on a busy machine; the coverage phase still sends each operation's boundary and
invalid inputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.server_options import uvicorn_options
from tests.waiting import wait_until

from .test_hot_protocol import build_app
from .uvicorn_server import Server

pytestmark = pytest.mark.integration  # starts a server

MAX_EXAMPLES = 100  # generated per operation (the parameterless few need 1)
MIN_REQUESTS = 1200  # ~1,600 in all with the seed below
SEED = 15


@pytest.fixture
def server() -> Iterator[Server]:
    app = build_app()
    options = uvicorn_options(app, app.services.settings, ClientLimits())
    for bound_elsewhere in ("host", "port", "loop", "log_level"):
        del options[bound_elsewhere]
    with Server(app, True, **options) as running:
        wait_until(lambda: app.services.hub.get("home").snapshot is not None)
        yield running


def schemathesis_cli() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is in the dev extra: pip install -e '.[dev]'"
    return found


@pytest.mark.timeout(300)
def test_openapi_fuzz_every_answer_documented_and_no_5xx(server: Server, tmp_path: Path) -> None:
    har = tmp_path / "run.har"
    run = subprocess.run(
        [
            schemathesis_cli(),
            "run",
            f"http://127.0.0.1:{server.port}/openapi.json",
            "--checks",
            "all",  # incl. status code, content type, headers and schema conformance
            # except "every schema-valid request succeeds": /control/{name} takes any name in
            # its path and answers 400 for an unknown one, as the legacy proxy did
            "--exclude-checks",
            "positive_data_acceptance",
            "--mode",
            "all",  # valid and invalid inputs
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--generation-deterministic",  # the same cases every run
            "--request-timeout",
            "10",
            "--report",
            "har",
            "--report-har-path",
            str(har),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=240,  # a hang's limit only: the run is bounded by its count
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = Counter(entry["response"]["status"] for entry in entries)
    assert len(entries) >= MIN_REQUESTS, statuses
    assert [code for code in statuses if code >= 500] == [], statuses
    assert statuses[200] > 0 and sum(statuses[c] for c in (404, 405, 422)) > 0, statuses
