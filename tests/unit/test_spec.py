import os

import pytest

from harness.errors import HrtError
from harness.spec import Spec, branch_of, parse_spec, version_key


def test_release():
    s = parse_spec("3.0.11")
    assert (s.kind, s.value, s.ref) == ("release", "3.0.11", "")
    assert str(s) == "3.0.11"


def test_release_surrounding_whitespace_is_ignored():
    s = parse_spec("  2.8.13\n")
    assert (s.kind, s.value, s.text) == ("release", "2.8.13", "2.8.13")


def test_branch():
    s = parse_spec("3.0")
    assert (s.kind, s.value) == ("branch", "3.0")


def test_git_local_path_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = parse_spec("git:src/haproxy@v3.0.11")
    assert s.kind == "git"
    assert s.value == str(tmp_path / "src" / "haproxy")
    assert s.ref == "v3.0.11"
    assert s.text == "git:src/haproxy@v3.0.11"


def test_git_absolute_path_with_parent_ref():
    s = parse_spec("git:/srv/haproxy@fbc3de6e9^")
    assert (s.kind, s.value, s.ref) == ("git", "/srv/haproxy", "fbc3de6e9^")


def test_git_home_path_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    s = parse_spec("git:~/src/haproxy@v3.0.11")
    assert s.value == os.path.join(str(tmp_path), "src", "haproxy")


def test_git_url_kept_verbatim():
    s = parse_spec("git:https://x/y.git@v1")
    assert (s.kind, s.value, s.ref) == ("git", "https://x/y.git", "v1")


def test_git_ssh_url_kept_verbatim():
    s = parse_spec("git:git@github.com:haproxy/haproxy.git@v2.8.5")
    assert (s.kind, s.value, s.ref) == ("git", "git@github.com:haproxy/haproxy.git", "v2.8.5")


@pytest.mark.parametrize("text", ["git:/srv/haproxy", "git:@v1", "git:/srv/haproxy@", "git:"])
def test_git_without_repo_or_ref_is_rejected(text):
    with pytest.raises(HrtError, match="git:REPO@REF"):
        parse_spec(text)


@pytest.mark.parametrize("kind", ["tar", "bin"])
def test_tar_and_bin_existing_file(kind, tmp_path, monkeypatch):
    f = tmp_path / "thing"
    f.write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    s = parse_spec(f"{kind}:thing")
    assert s == Spec(kind, str(f), "", f"{kind}:thing")


@pytest.mark.parametrize("kind", ["tar", "bin"])
def test_tar_and_bin_missing_file(kind, tmp_path):
    missing = tmp_path / "nope.tar.gz"
    with pytest.raises(HrtError) as exc:
        parse_spec(f"{kind}:{missing}")
    assert "no such file" in str(exc.value) and str(missing) in str(exc.value)


def test_tar_directory_is_not_a_file(tmp_path):
    with pytest.raises(HrtError, match="no such file"):
        parse_spec(f"tar:{tmp_path}")


@pytest.mark.parametrize("text", ["", "3", "3.0.11.1", "v3.0.11", "latest", "3.x", "3.0.11-dev", "tgz:/x",
                                  "2.8.", "http://x/y"])
def test_bad_input_lists_the_forms(text):
    with pytest.raises(HrtError) as exc:
        parse_spec(text)
    msg = str(exc.value)
    assert "bad SPEC" in msg
    for form in ("X.Y.Z", "X.Y", "git:REPO@REF", "tar:PATH", "bin:PATH"):
        assert form in msg


def test_version_key_orders_numerically():
    versions = ["2.8.9", "2.8.13", "2.10.1", "2.8", "3.0.1"]
    assert sorted(versions, key=version_key) == ["2.8", "2.8.9", "2.8.13", "2.10.1", "3.0.1"]


def test_branch_of():
    assert branch_of("2.8.13") == "2.8"
    assert branch_of("3.0") == "3.0"
