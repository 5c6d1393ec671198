import hashlib
import io
import tarfile

import pytest

from harness import sources
from harness.catalog import Release
from harness.errors import ChecksumMismatch, SourceUnavailable
from harness.sources import git_source, release_source, resolve, sha256_of, tar_source
from harness.spec import Spec, parse_spec

VERSION = "3.0.11"


def make_tarball(version: str = VERSION, top: str | None = None) -> bytes:
    """A gzip tarball laid out like HAProxy's: haproxy-X.Y.Z/VERSION, haproxy-X.Y.Z/Makefile."""
    top = top or f"haproxy-{version}"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in ((f"{top}/Makefile", "USE_OPENSSL USE_LUA\n"), (f"{top}/VERSION", version + "\n"),
                           (f"{top}/doc/VERSION", "decoy\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def src_dir(tmp_path):
    return tmp_path / "cache" / "src"


@pytest.fixture
def tarball():
    data = make_tarball()
    return data, hashlib.sha256(data).hexdigest()


@pytest.fixture
def debian_mirror(monkeypatch, http_server):
    """HRT_DEBIAN_MIRROR at the local server, under /debian (serves nothing unless a test adds a file)."""
    monkeypatch.setenv("HRT_DEBIAN_MIRROR", http_server.url("/debian/"))
    return http_server.url("/debian")


def release(url: str, sha: str | None) -> Release:
    return Release(VERSION, "3.0", sha, url, "2025-06-02")


def spec():
    return Spec("release", VERSION, text=VERSION)


def test_release_candidates_order(debian_mirror, http_server):
    rel = release(http_server.url("/haproxy-3.0.11.tar.gz"), "0" * 64)
    assert sources.release_candidates(rel) == [
        http_server.url("/haproxy-3.0.11.tar.gz"),
        f"{debian_mirror}/pool/main/h/haproxy/haproxy_3.0.11.orig.tar.gz",
    ]


def test_good_checksum_downloads_and_caches(tmp_path, http_server, debian_mirror, tarball):
    data, sha = tarball
    http_server.files["/dl/haproxy-3.0.11.tar.gz"] = data
    rel = release(http_server.url("/dl/haproxy-3.0.11.tar.gz"), sha)
    src = release_source(spec(), rel)
    cached = src_dir(tmp_path) / "haproxy-3.0.11.tar.gz"
    assert src.tarball == cached
    assert cached.read_bytes() == data
    assert src.identity == f"sha256:{sha}"
    assert src.version == VERSION
    assert src.origin == rel.url
    assert src.commit is None
    assert [p.name for p in src_dir(tmp_path).iterdir()] == ["haproxy-3.0.11.tar.gz"]  # no .part left

    # the second time comes from the cache: no request at all
    http_server.requests.clear()
    again = release_source(spec(), rel)
    assert again.tarball == cached
    assert again.origin.startswith("cache ")
    assert http_server.requests == []


def test_falls_back_to_debian_mirror(tmp_path, http_server, debian_mirror, tarball):
    data, sha = tarball
    http_server.files["/debian/pool/main/h/haproxy/haproxy_3.0.11.orig.tar.gz"] = data
    rel = release(http_server.url("/dl/haproxy-3.0.11.tar.gz"), sha)  # 404 there
    src = release_source(spec(), rel)
    assert src.origin == f"{debian_mirror}/pool/main/h/haproxy/haproxy_3.0.11.orig.tar.gz"
    assert sha256_of(src.tarball) == sha
    assert [r[1] for r in http_server.requests] == ["/dl/haproxy-3.0.11.tar.gz",
                                                    "/debian/pool/main/h/haproxy/haproxy_3.0.11.orig.tar.gz"]


def test_checksum_mismatch_refuses_deletes_and_caches_nothing(tmp_path, http_server, debian_mirror, tarball):
    data, sha = tarball
    http_server.files["/dl/haproxy-3.0.11.tar.gz"] = data
    wrong = "0" * 64
    rel = release(http_server.url("/dl/haproxy-3.0.11.tar.gz"), wrong)
    with pytest.raises(ChecksumMismatch) as exc:
        release_source(spec(), rel)
    msg = str(exc.value)
    assert rel.url in msg                      # which URL
    assert wrong in msg and sha in msg         # which hashes
    assert "deleted" in msg
    assert list(src_dir(tmp_path).iterdir()) == []   # nothing cached, no partial file


def test_corrupt_cached_file_is_refused_and_deleted(tmp_path, http_server, debian_mirror, tarball):
    data, sha = tarball
    d = src_dir(tmp_path)
    d.mkdir(parents=True)
    (d / "haproxy-3.0.11.tar.gz").write_bytes(b"corrupt")
    with pytest.raises(ChecksumMismatch):
        release_source(spec(), release(http_server.url("/x.tar.gz"), sha))
    assert not (d / "haproxy-3.0.11.tar.gz").exists()


def test_nothing_reachable_says_what_was_tried_and_how_to_supply(tmp_path, http_server, debian_mirror):
    rel = release(http_server.url("/dl/haproxy-3.0.11.tar.gz"), "0" * 64)
    with pytest.raises(SourceUnavailable) as exc:
        release_source(spec(), rel)
    msg = str(exc.value)
    assert "3.0.11" in msg
    assert str(src_dir(tmp_path) / "haproxy-3.0.11.tar.gz") in msg        # the cache
    assert rel.url in msg                                                 # haproxy.org
    assert f"{debian_mirror}/pool/main/h/haproxy/haproxy_3.0.11.orig.tar.gz" in msg   # Debian
    assert "HTTPError" in msg
    assert "tar:" in msg and "HRT_GIT_MIRRORS" in msg
    assert list(src_dir(tmp_path).iterdir()) == []


def test_unreachable_host_is_tried_and_reported(tmp_path, monkeypatch):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setenv("HRT_DEBIAN_MIRROR", f"http://127.0.0.1:{port}/debian")
    rel = release(f"http://127.0.0.1:{port}/haproxy-3.0.11.tar.gz", "0" * 64)
    with pytest.raises(SourceUnavailable) as exc:
        release_source(spec(), rel)
    assert "ConnectionError" in str(exc.value)


def test_no_sha256_is_refused(http_server, debian_mirror, tarball):
    data, _ = tarball
    http_server.files["/dl/haproxy-3.0.11.tar.gz"] = data
    with pytest.raises(SourceUnavailable, match="no sha256"):
        release_source(spec(), release(http_server.url("/dl/haproxy-3.0.11.tar.gz"), None))
    assert http_server.requests == []


def test_release_candidates_can_be_patched(tmp_path, monkeypatch, http_server, tarball):
    """sources.release_candidates is the single list of download URLs release_source walks."""
    data, sha = tarball
    http_server.files["/only/here.tar.gz"] = data
    monkeypatch.setattr(sources, "release_candidates", lambda rel: [http_server.url("/only/here.tar.gz")])
    src = release_source(spec(), release("http://unused.invalid/x", sha))
    assert src.origin == http_server.url("/only/here.tar.gz")


def test_git_mirror_wins_over_download_and_records_commit(tmp_path, monkeypatch, make_repo, http_server):
    repo = make_repo("mirror", version=VERSION)
    commit = repo.commit("release 3.0.11", Makefile="USE_OPENSSL\n")
    repo.tag("v3.0.11")
    monkeypatch.setenv("HRT_GIT_MIRRORS", f"{tmp_path / 'nonexistent'}:{repo.path}")
    src = release_source(spec(), release(http_server.url("/never.tar.gz"), "0" * 64))
    assert src.commit == commit
    assert src.identity == f"git:{commit}"
    assert src.version == VERSION
    assert src.repo is not None
    assert src.tarball.is_file()
    assert http_server.requests == []
    # provenance: which repository and commit, and that the tag was not compared with the release tarball
    prov = src.provenance
    assert prov["commit"] == commit and str(repo.path) in prov["source"]
    assert prov["verified"].startswith("not compared with the release tarball: built from the tag v3.0.11")


def test_a_git_url_is_never_read_as_an_option(monkeypatch):
    """`git clone --mirror -- URL DEST`: a URL that looks like an option (`--upload-pack=...`) is an operand."""
    from harness import gitrepo
    seen = []
    monkeypatch.setattr(gitrepo.subprocess, "run", lambda argv, **kw: seen.append(argv))
    url = "--upload-pack=touch /tmp/x"
    gitrepo.GitRepo._mirror(url)
    (argv,) = seen
    assert argv[:4] == ["git", "clone", "--mirror", "--"] and argv[4] == url


def test_git_source_records_commit(tmp_path, make_repo):
    repo = make_repo()
    first = repo.commit("one", Makefile="USE_OPENSSL\n")
    second = repo.commit("two", Makefile="USE_OPENSSL USE_LUA\n")
    repo.tag("v3.1-dev10", first)
    src = git_source(parse_spec(f"git:{repo.path}@HEAD~1"))
    assert src.commit == first
    assert src.identity == f"git:{first}"
    assert src.version == "v3.1-dev10"
    assert src.origin == f"{repo.path}@HEAD~1"
    assert src.tarball.is_file()
    with tarfile.open(src.tarball) as tf:
        top = f"haproxy-{first[:12]}"
        subvers = tf.extractfile(f"{top}/SUBVERS").read().decode().strip()
        assert tf.extractfile(f"{top}/Makefile").read() == b"USE_OPENSSL\n"
    assert subvers == "-" + repo.git("rev-parse", "--short", first)  # export-subst applied
    src2 = git_source(parse_spec(f"git:{repo.path}@master"))
    assert src2.commit == second
    # the archive read as a tarball gives the tree's VERSION
    assert tar_source(Spec("tar", str(src.tarball))).version == "3.1-dev10"


def test_git_source_unknown_ref(make_repo):
    repo = make_repo()
    repo.commit("one")
    with pytest.raises(SourceUnavailable, match="no-such-ref"):
        git_source(parse_spec(f"git:{repo.path}@no-such-ref"))


def test_git_source_missing_repository(tmp_path):
    with pytest.raises(SourceUnavailable, match="does not exist"):
        git_source(Spec("git", str(tmp_path / "nope"), "HEAD", "git:nope@HEAD"))


def test_tar_source_reads_version(tmp_path):
    data = make_tarball("2.6.12")
    p = tmp_path / "haproxy-2.6.12.tar.gz"
    p.write_bytes(data)
    src = resolve(parse_spec(f"tar:{p}"))
    assert src.version == "2.6.12"
    assert src.identity == "sha256:" + hashlib.sha256(data).hexdigest()
    assert src.tarball == p
    assert src.binary is None


def test_tar_source_without_version_file(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("x/Makefile")
        info.size = 0
        tf.addfile(info, io.BytesIO(b""))
    p = tmp_path / "x.tar.gz"
    p.write_bytes(buf.getvalue())
    assert tar_source(Spec("tar", str(p))).version == "unknown"


def test_tar_source_not_a_tarball(tmp_path):
    p = tmp_path / "junk.tar.gz"
    p.write_bytes(b"this is not a tarball")
    with pytest.raises(SourceUnavailable, match="not a readable tarball"):
        tar_source(Spec("tar", str(p)))


def test_bin_source(tmp_path):
    b = tmp_path / "haproxy"
    b.write_bytes(b"\x7fELF")
    src = resolve(parse_spec(f"bin:{b}"))
    assert src.binary == b and src.tarball is None
    assert src.identity == "sha256:" + hashlib.sha256(b"\x7fELF").hexdigest()


def test_branch_picks_newest_reachable(tmp_path, http_server, debian_mirror, tarball):
    """`3.0` offline: the newest release whose source is reachable, not merely the newest known."""
    from harness.catalog import ReleaseIndex
    data, sha = tarball
    http_server.files["/dl/haproxy-3.0.11.tar.gz"] = data
    rels = [Release("3.0.12", "3.0", "1" * 64, http_server.url("/dl/haproxy-3.0.12.tar.gz")),
            Release("3.0.11", "3.0", sha, http_server.url("/dl/haproxy-3.0.11.tar.gz")),
            Release("3.0.10", "3.0", "2" * 64, http_server.url("/dl/haproxy-3.0.10.tar.gz"))]
    sources._online.cache_clear()
    src = resolve(parse_spec("3.0"), index_loader=lambda branches: ReleaseIndex(rels, "test"))
    assert src.version == "3.0.11"
    assert src.spec.kind == "release" and src.spec.text == "3.0"


def test_sha256_of(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert sha256_of(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
