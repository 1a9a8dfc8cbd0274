"""docs/mqtt.md's listing of Home Assistant entities is the discovery set itself, controls too."""

from __future__ import annotations

from pathlib import Path

import pytest

from pypowerwall_server.mqtt.controls import MQTT_CONTROLS
from pypowerwall_server.mqtt.readme import README_START, readme_listing, with_readme_listing

MQTT_DOC = Path(__file__).parents[2] / "docs" / "mqtt.md"


def test_mqtt_doc_entity_listing_matches_the_discovery_configs() -> None:
    doc = MQTT_DOC.read_text(encoding="utf-8")
    assert README_START in doc
    assert with_readme_listing(doc) == doc, (
        "docs/mqtt.md's entity listing is stale: run python -m pypowerwall_server.mqtt.readme"
    )


def test_the_listing_names_every_control_as_a_config_entity() -> None:
    listing = readme_listing()
    for row in MQTT_CONTROLS:
        line = next(x for x in listing.splitlines() if f"_{row.key}`" in x)
        assert f"| {row.platform} |" in line and line.endswith("| config |")


def test_readme_without_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="mqtt-entities"):
        with_readme_listing("# nothing here\n")
