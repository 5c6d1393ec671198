import pytest

from harness import debian
from harness.debian import _entries, archive_mirrors

ONE_LINE = """\
# the main archive
deb http://deb.debian.org/debian bookworm main contrib
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example.net/debian/ bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://security.debian.org/debian-security bookworm-security main
# deb http://commented.example.org/debian bookworm main
#deb http://commented2.example.org/debian bookworm main
deb http://ftp.example.org/debian-archive/debian bookworm/updates main

deb http://deb.debian.org/debian bookworm main
"""

DEB822 = """\
Types: deb deb-src
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src-only.example.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://a.example.org/debian/ http://b.example.org/debian
Suites: bookworm
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBFxZ
 -----END PGP PUBLIC KEY BLOCK-----
"""


def uri_suites(path):
    """(uri, suites) of each entry (an entry may carry more, e.g. its components)."""
    return [(e[0], list(e[1])) for e in _entries(path)]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_one_line_entries(tmp_path):
    entries = uri_suites(write(tmp_path, "sources.list", ONE_LINE))
    assert ("http://deb.debian.org/debian", ["bookworm"]) in entries
    assert ("http://mirror.example.net/debian/", ["bookworm"]) in entries   # [options] stripped
    assert ("http://security.debian.org/debian-security", ["bookworm-security"]) in entries
    uris = [u for u, _ in entries]
    assert not any("commented" in u for u in uris)
    assert len(entries) == 6  # deb-src and comments are not entries


def test_deb822_entries(tmp_path):
    entries = uri_suites(write(tmp_path, "debian.sources", DEB822))
    assert entries == [
        ("http://deb.debian.org/debian", ["bookworm", "bookworm-updates"]),
        ("http://deb.debian.org/debian-security", ["bookworm-security"]),
        ("http://a.example.org/debian/", ["bookworm"]),
        ("http://b.example.org/debian", ["bookworm"]),
    ]


def test_missing_file_yields_nothing(tmp_path):
    assert uri_suites(str(tmp_path / "absent.list")) == []


def test_archive_mirrors_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "sources.list", ONE_LINE)])
    assert archive_mirrors() == ["http://deb.debian.org/debian", "http://mirror.example.net/debian"]


def test_archive_mirrors_deb822_security_excluded(tmp_path, monkeypatch):
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "debian.sources", DEB822)])
    assert archive_mirrors() == ["http://deb.debian.org/debian", "http://a.example.org/debian",
                                 "http://b.example.org/debian"]


def test_archive_mirrors_across_files_deduplicated(tmp_path, monkeypatch):
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "sources.list", ONE_LINE),
                                            write(tmp_path, "debian.sources", DEB822),
                                            str(tmp_path / "missing.list")])
    mirrors = archive_mirrors()
    assert mirrors.count("http://deb.debian.org/debian") == 1
    assert mirrors[0] == "http://deb.debian.org/debian"


@pytest.mark.parametrize("line", [
    "deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main",
    "deb https://deb.nodesource.com/node_20.x nodistro main",
    "deb https://packages.cloud.google.com/apt cloud-sdk main",
    "deb http://security.debian.org/debian-security bookworm-security main",
    "deb https://pkg.jenkins.io/debian-stable binary/",
])
def test_third_party_and_security_excluded(tmp_path, monkeypatch, line):
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "x.list", line + "\n")])
    assert archive_mirrors() == []


def test_third_party_repo_under_a_debian_path_excluded(tmp_path, monkeypatch):
    """Docker's apt repository is a third-party one although its URI ends in /debian: it has no
    `main` component and keeps no pool/main/h/haproxy/ tarballs."""
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "docker.list",
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/debian "
        "bookworm stable\n")])
    assert archive_mirrors() == []


def test_deb822_disabled_stanza_excluded(tmp_path, monkeypatch):
    """sources.list(5): a deb822 stanza with `Enabled: no` is ignored by apt, so by hrt too."""
    text = ("Types: deb\nURIs: http://old.example.org/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\n"
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nEnabled: yes\n")
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "debian.sources", text)])
    assert archive_mirrors() == ["http://deb.debian.org/debian"]


def test_env_override_wins(tmp_path, monkeypatch):
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "sources.list", ONE_LINE)])
    monkeypatch.setenv("HRT_DEBIAN_MIRROR", "http://127.0.0.1:9/debian/")
    assert archive_mirrors() == ["http://127.0.0.1:9/debian"]


def test_release_codename_is_a_word():
    assert debian.release_codename().isalpha()
