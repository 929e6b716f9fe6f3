"""The filter's key matching: text, globs (as the CLI's --keys) and regexes."""

from __future__ import annotations

import fnmatch

from ckptviewer.core.keymatch import key_matcher

KEYS = ["blocks.0.se.fc1.bias", "blocks.0.proj.bias", "head.weight", "Stem.Conv.weight", "base_bias"]


def matching(text: str) -> list[str]:
    m = key_matcher(text)
    return KEYS if m is None else [k for k in KEYS if m(k)]


def test_text_glob_and_regex():
    assert key_matcher("  ") is None
    assert matching("stem") == ["Stem.Conv.weight"]  # case-insensitive substring
    assert matching("*.bias") == ["blocks.0.se.fc1.bias", "blocks.0.proj.bias"]
    assert matching("se.*bias") == ["blocks.0.se.fc1.bias", "base_bias"]  # regex: "se", anything, "bias"
    assert matching("^head") == ["head.weight"]
    assert matching("blocks.[0-9].proj") == ["blocks.0.proj.bias"]
    assert matching("nothing*here") == []


def test_an_unfinished_pattern_is_not_an_error():
    assert matching("blocks.[") == []  # neither a valid glob class nor a regex yet
    assert matching("(se") == []


def test_a_cli_glob_matches_here_too():
    for pattern in ("*.bias", "head.*", "blocks.?.se.*"):
        cli = [k for k in KEYS if fnmatch.fnmatchcase(k, pattern)]
        assert set(cli) <= set(matching(pattern))
