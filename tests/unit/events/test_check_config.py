"""--check-config (and every start) checks each notification URL: a scheme Apprise knows,
a URL it can use; one line per problem naming the setting, never the URL."""

from __future__ import annotations

import pytest

from pypowerwall_server.cli import EXIT_CONFIG, main


def run(capsys: pytest.CaptureFixture[str], urls: str, *args: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PW_NOTIFY_URLS", urls)
        code = main(["--demo", *args])
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def test_bad_urls_exit_2_with_one_line_each_and_no_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    urls = "foo://s3cret-a, json://127.0.0.1:9/s3cret-b pover://s3cret-c plain-s3cret-d"
    code, text = run(capsys, urls, "--check-config")
    assert code == EXIT_CONFIG
    assert text.splitlines() == [
        "error: PW_NOTIFY_URLS (environment): URL #1: scheme 'foo' is not one Apprise knows",
        "error: PW_NOTIFY_URLS (environment): URL #3 (pover): Apprise cannot use it (see its docs)",
        "error: PW_NOTIFY_URLS (environment): URL #4: no scheme (like ntfy:// or json://)",
    ]
    assert "s3cret" not in text


def test_good_urls_are_shown_as_stars(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(capsys, "ntfys://ntfy.sh/s3cret-topic", "--check-config")
    assert code == 0
    assert "  notify_urls: ***" in text and "s3cret" not in text
