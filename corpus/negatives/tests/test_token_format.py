"""Tests for the token format validator: every string below is deliberately invalid."""

import pytest

from ledger.auth.tokens import is_valid_github_token, is_valid_npm_token

# Last character changed, so the CRC32 suffix no longer matches.
BAD_CHECKSUM_GITHUB = [
    "ghp_AiMUD5zXujBZguNMLKYvqAWUwdab7D2AUhG8",
    "gho_i10pgO5Q2BuXIQoYopwd89PvAwVhKn2tjqlH",
]
BAD_CHECKSUM_NPM = ["npm_kIByMTSUqP2JM9W6ucu3OdG5rthYGw0qrE88"]

# Too short to be a real token of any kind.
TOO_SHORT = ["ghp_1a2B3c", "glpat-9xYz", "npm_4kQ7", "xoxb-1234-abcd", "sk_live_9Zq2", "AKIA2E4R", "hf_AbCdE"]


@pytest.mark.parametrize("value", BAD_CHECKSUM_GITHUB + TOO_SHORT)
def test_rejects_github(value):
    assert not is_valid_github_token(value)


@pytest.mark.parametrize("value", BAD_CHECKSUM_NPM)
def test_rejects_npm(value):
    assert not is_valid_npm_token(value)
