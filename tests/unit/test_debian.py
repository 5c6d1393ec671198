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


DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
UBUNTU_2404 = ('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n'
               'VERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n')
FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41 (Server Edition)"\n'


@pytest.mark.parametrize("text,debian_host", [(DEBIAN_12, True), (UBUNTU_2404, False), (FEDORA, False)])
def test_host_os_reads_os_release(tmp_path, text, debian_host):
    fields = debian.host_os(write(tmp_path, "os-release", text))
    assert fields["ID"] in ("debian", "ubuntu", "fedora") and fields["PRETTY_NAME"]
    assert debian.is_debian(fields) is debian_host


def test_host_os_unreadable_is_empty(tmp_path):
    assert debian.host_os(str(tmp_path / "missing")) == {}


def test_bootstrap_mirror_on_debian_uses_apt_sources(tmp_path, monkeypatch):
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "sources.list", ONE_LINE)])
    os_release = debian.host_os(write(tmp_path, "os-release", DEBIAN_12))
    assert debian.bootstrap_mirror(os_release) == "http://deb.debian.org/debian"


@pytest.mark.parametrize("text,name", [(UBUNTU_2404, "Ubuntu 24.04.1 LTS"), (FEDORA, "Fedora Linux 41")])
def test_bootstrap_mirror_elsewhere_needs_hrt_debian_mirror(tmp_path, monkeypatch, text, name):
    # even a Debian line in an Ubuntu host's sources is not taken: only HRT_DEBIAN_MIRROR names one there
    monkeypatch.setattr(debian, "SOURCES", [write(tmp_path, "sources.list", ONE_LINE)])
    os_release = debian.host_os(write(tmp_path, "os-release", text))
    with pytest.raises(debian.HrtError, match=f"{name}.*HRT_DEBIAN_MIRROR"):
        debian.bootstrap_mirror(os_release)
    monkeypatch.setenv("HRT_DEBIAN_MIRROR", "http://127.0.0.1:9/debian/")
    assert debian.bootstrap_mirror(os_release) == "http://127.0.0.1:9/debian"
