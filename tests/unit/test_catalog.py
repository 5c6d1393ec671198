import json

import pytest

from harness import catalog
from harness.catalog import TARBALL_URL, Release, ReleaseIndex
from harness.errors import HrtError, UnknownVersion


COMBINED = {
    "about": "test copy",
    "branches": {"2.8": {}, "3.0": {}},
    "releases": [
        {"version": "2.8.9", "branch": "2.8", "sha256": "9" * 64, "date": "2024-04-05",
         "url": "https://www.haproxy.org/download/2.8/src/haproxy-2.8.9.tar.gz", "checksum_status": "x"},
        {"version": "2.8.13", "branch": "2.8", "sha256": "d" * 64, "date": "2025-01-29",
         "url": "https://www.haproxy.org/download/2.8/src/haproxy-2.8.13.tar.gz"},
        {"version": "2.8.10", "branch": "2.8", "sha256": None, "date": "2024-06-14",
         "url": "https://www.haproxy.org/download/2.8/src/haproxy-2.8.10.tar.gz"},
        {"version": "3.0.11", "branch": "3.0", "sha256": "a" * 64, "date": "2025-06-02",
         "url": "https://www.haproxy.org/download/3.0/src/haproxy-3.0.11.tar.gz"},
        {"version": "3.0.2", "branch": "3.0", "sha256": "2" * 64, "date": "2024-06-14",
         "url": "https://www.haproxy.org/download/3.0/src/haproxy-3.0.2.tar.gz"},
    ],
}

PER_BRANCH = {
    "branch": "2.8",
    "latest_release": "2.8.5",
    "releases": {
        "2.8.5": {"file": "haproxy-2.8.5.tar.gz", "md5": "0" * 32, "sha256": "5" * 64, "date": "2023-12-07"},
        "2.8.4": {"file": "haproxy-2.8.4.tar.gz", "md5": "1" * 32, "sha256": "4" * 64, "date": "2023-11-17"},
        "2.8.10": {"file": "haproxy-2.8.10.tar.gz", "sha256": "a" * 64, "date": "2024-06-14"},
        "2.8.0": {"file": "haproxy-2.8.0.tar.gz", "sha256": "0" * 64, "date": "2023-05-31"},
    },
}


def _load(tmp_path, monkeypatch, data) -> ReleaseIndex:
    path = tmp_path / "index.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("HRT_RELEASE_INDEX", str(path))
    return ReleaseIndex.load()


def test_combined_form(tmp_path, monkeypatch):
    idx = _load(tmp_path, monkeypatch, COMBINED)
    r = idx.get("2.8.13")
    assert r == Release("2.8.13", "2.8", "d" * 64,
                        "https://www.haproxy.org/download/2.8/src/haproxy-2.8.13.tar.gz", "2025-01-29")
    assert idx.get("2.8.10").sha256 is None
    assert idx.origin == str(tmp_path / "index.json")


def test_combined_form_newest_first(tmp_path, monkeypatch):
    idx = _load(tmp_path, monkeypatch, COMBINED)
    assert [r.version for r in idx.releases("2.8")] == ["2.8.13", "2.8.10", "2.8.9"]
    assert [r.version for r in idx.releases()] == ["3.0.11", "3.0.2", "2.8.13", "2.8.10", "2.8.9"]
    assert idx.branches() == ["3.0", "2.8"]
    assert idx.releases("2.6") == []


def test_per_branch_form(tmp_path, monkeypatch):
    idx = _load(tmp_path, monkeypatch, PER_BRANCH)
    r = idx.get("2.8.5")
    assert r.branch == "2.8"
    assert r.sha256 == "5" * 64
    assert r.date == "2023-12-07"
    assert r.url == TARBALL_URL.format(branch="2.8", version="2.8.5") == \
        "https://www.haproxy.org/download/2.8/src/haproxy-2.8.5.tar.gz"
    assert [x.version for x in idx.releases("2.8")] == ["2.8.10", "2.8.5", "2.8.4", "2.8.0"]
    assert idx.branches() == ["2.8"]


def test_unknown_version_suggests_near_versions(tmp_path, monkeypatch):
    idx = _load(tmp_path, monkeypatch, PER_BRANCH)
    with pytest.raises(UnknownVersion) as exc:
        idx.get("2.8.6")
    msg = str(exc.value)
    assert "2.8.6" in msg
    assert "near ones:" in msg
    near = msg.split("near ones:")[1]
    assert near.strip().startswith("2.8.5")  # the closest first
    for v in ("2.8.5", "2.8.4"):
        assert v in near
    assert str(tmp_path / "index.json") in msg  # says which index was asked


def test_unknown_branch_lists_branches(tmp_path, monkeypatch):
    idx = _load(tmp_path, monkeypatch, COMBINED)
    with pytest.raises(UnknownVersion) as exc:
        idx.get("2.6.12")
    msg = str(exc.value)
    assert "known branches: 3.0, 2.8" in msg
    assert "near ones" not in msg


def test_unknown_version_is_an_hrt_error(tmp_path, monkeypatch):
    idx = _load(tmp_path, monkeypatch, COMBINED)
    with pytest.raises(HrtError):
        idx.get("9.9.9")


def test_unreadable_index_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("HRT_RELEASE_INDEX", str(tmp_path / "missing.json"))
    with pytest.raises(HrtError, match="HRT_RELEASE_INDEX=.*missing.json"):
        ReleaseIndex.load()


def test_invalid_json_index(tmp_path, monkeypatch):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    monkeypatch.setenv("HRT_RELEASE_INDEX", str(p))
    with pytest.raises(HrtError, match="cannot read it"):
        ReleaseIndex.load()


def test_index_without_releases(tmp_path, monkeypatch):
    with pytest.raises(HrtError, match="no 'releases'"):
        _load(tmp_path, monkeypatch, {"branch": "2.8"})


def test_env_index_ignores_branches_argument(tmp_path, monkeypatch):
    """Offline, the named file is the whole index: no network lookup for the branches asked."""
    path = tmp_path / "index.json"
    path.write_text(json.dumps(COMBINED))
    monkeypatch.setenv("HRT_RELEASE_INDEX", str(path))
    idx = ReleaseIndex.load(["2.6"])
    assert idx.get("3.0.11").version == "3.0.11"


def test_online_index_uses_fresh_cache_without_network(tmp_path, monkeypatch):
    """A per-branch index cached less than a day ago is read from the cache (no request)."""
    monkeypatch.delenv("HRT_RELEASE_INDEX", raising=False)
    cache = tmp_path / "cache" / "index"
    cache.mkdir(parents=True)
    (cache / "2.8.json").write_text(json.dumps(PER_BRANCH))

    def no_network(*a, **k):
        raise AssertionError("network used although the cached index is fresh")
    monkeypatch.setattr("harness.catalog.requests.get", no_network)
    idx = ReleaseIndex.load(["2.8"])
    assert idx.get("2.8.5").sha256 == "5" * 64


def test_shipped_index_is_the_offline_default(monkeypatch):
    """No HRT_RELEASE_INDEX, no network (haproxy.org unreachable): the copy in the package answers."""
    monkeypatch.delenv("HRT_RELEASE_INDEX", raising=False)
    monkeypatch.setattr(catalog, "INDEX_URL", "http://127.0.0.1:9/{branch}/releases.json")
    idx = ReleaseIndex.load(["3.0"])
    r = idx.get("3.0.11")
    assert r.sha256.startswith("a133e2d5") and r.sha256.endswith("3ae783")
    assert r.url == "https://www.haproxy.org/download/3.0/src/haproxy-3.0.11.tar.gz"
    assert "shipped" in idx.origin
    assert {"2.6", "2.8", "2.9", "3.0"} <= set(ReleaseIndex.load().branches())
    rs = idx.releases("3.0")
    assert rs[0].version == max((r.version for r in rs), key=lambda v: tuple(map(int, v.split("."))))


def test_branch_unknown_online_and_shipped_says_how_to_provide_one(monkeypatch):
    monkeypatch.delenv("HRT_RELEASE_INDEX", raising=False)
    monkeypatch.setattr(catalog, "INDEX_URL", "http://127.0.0.1:9/{branch}/releases.json")
    with pytest.raises(HrtError, match="HRT_RELEASE_INDEX"):
        ReleaseIndex.load(["1.8"])


def test_refresh_rewrites_the_shipped_copy_from_the_online_indexes(tmp_path, monkeypatch, http_server):
    shipped = tmp_path / "shipped.json"
    shipped.write_text(json.dumps({"about": "x", "as_of": "2000-01-01", "releases": [
        {"version": "2.8.0", "branch": "2.8", "sha256": "0" * 64, "date": "", "url": "u"}]}))
    monkeypatch.setattr(catalog, "SHIPPED", shipped)
    monkeypatch.setattr(catalog, "INDEX_URL", http_server.base + "/{branch}/releases.json")
    http_server.files["/2.8/releases.json"] = json.dumps(PER_BRANCH).encode()
    http_server.files["/3.0/releases.json"] = json.dumps(
        {"branch": "3.0", "releases": {"3.0.0": {"sha256": "3" * 64, "date": "2024-05-29"}}}).encode()
    catalog.refresh_shipped(["3.0"])
    data = json.loads(shipped.read_text())
    assert data["about"] == "x" and data["as_of"] != "2000-01-01"
    assert [r["version"] for r in data["releases"]] == ["2.8.0", "2.8.4", "2.8.5", "2.8.10", "3.0.0"]
    http_server.files.clear()          # offline now: a refresh must fail, never write a partial copy
    with pytest.raises(HrtError):
        catalog.refresh_shipped()
    assert len(json.loads(shipped.read_text())["releases"]) == 5
