"""Where in a bucket a project's backlog lives: the key prefix teammates' clones agree on."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import error

from backlog.paths import origin_name, s3_prefix


def repo(tmp_path: Path, url: str | None) -> Path:
    """A repository at tmp_path whose git config has `url` as origin (none when None)."""
    (tmp_path / ".git").mkdir()
    remote = f'[remote "origin"]\n\turl = {url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n' if url else ""
    (tmp_path / ".git" / "config").write_text(f"[core]\n\tbare = false\n{remote}[branch \"main\"]\n\tremote = origin\n")
    return tmp_path


@pytest.mark.parametrize("url, name", [
    ("git@GitHub.com:Acme/Shop.git", "github.com/acme/shop"),  # scp-like ssh, case folded
    ("https://user@github.com/acme/shop/", "github.com/acme/shop"),  # https with a user, trailing slash
    ("https://github.com/acme/shop.git", "github.com/acme/shop"),
    ("ssh://git@git.acme.io:2222/team/shop.git", "git.acme.io/team/shop"),  # the port is dropped
    ("/srv/git/shop.git", None),  # a path on this machine is nothing a teammate shares
    ("file:///srv/git/shop.git", None),
    (None, None),  # no origin at all
])
def test_clones_agree_on_the_origin_name(tmp_path, url, name):
    assert origin_name(repo(tmp_path, url)) == name


@pytest.mark.parametrize("env, prefix", [
    ({"BACKLOG_S3_PREFIX": "/team/shop/", "TASKDATA": "x"}, "team/shop"),  # the variable wins
    ({"TASKDATA": "shared/shop"}, "shared/shop"),  # then TASKDATA, as the original
    ({}, "backlogs/github.com/acme/shop"),  # then the origin remote
    ({"BACKLOG_NAMESPACE": "web"}, "backlogs/github.com/acme/shop/ns/web"),  # namespaces as in the data dir
])
def test_the_prefix_comes_from_the_variables_then_the_origin(tmp_path, env, prefix):
    assert s3_prefix(env, repo(tmp_path, "git@github.com:acme/shop.git")) == prefix


def test_no_prefix_without_variables_or_origin(tmp_path):
    assert s3_prefix({}, repo(tmp_path, None)) is None


def test_a_bad_namespace_is_named(tmp_path):
    assert error(s3_prefix, {"BACKLOG_NAMESPACE": "../x"}, repo(tmp_path, "git@h.io:a/b")).startswith("BACKLOG_NAMESPACE:")
