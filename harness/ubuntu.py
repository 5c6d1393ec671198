"""Ubuntu's archive for `deb:` when $HRT_UBUNTU_MIRROR names one: its LTS releases, its signing key and a
base image per release.

The packages link Ubuntu's own libraries (a newer glibc than bookworm's), so they are installed in an
Ubuntu base debootstrapped from that mirror. The archive key is fetched from the mirror at run time
(nothing fetched is kept in the repository) and trusted only if its fingerprint is the pinned one.
"""
import os
import re
import subprocess
import tempfile
from pathlib import Path

import requests

from .errors import HrtError
from .paths import cache_dir

RELEASES = {"noble": "24.04", "jammy": "22.04"}   # codename -> version, newest first
POCKETS = ("", "-updates", "-security")
# Ubuntu Archive Automatic Signing Key (2018) <ftpmaster@ubuntu.com>: signs every current release
ARCHIVE_KEY = "F6ECB3762474EDA9D21B7022871920D1991BC93C"
KEYRING_DEB = "pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb"
KEY_MEMBER = "./etc/apt/trusted.gpg.d/ubuntu-keyring-2018-archive.gpg"
# debootstrap runs every Ubuntu release with one script; Debian 12's debootstrap has no `noble` link yet
SCRIPT = "/usr/share/debootstrap/scripts/gutsy"
SUITE_RE = re.compile(rf"^({'|'.join(RELEASES)})(-updates|-security)?$")


def mirror() -> str:
    return os.environ.get("HRT_UBUNTU_MIRROR", "").rstrip("/")


def wanted(text: str) -> bool:
    """deb:TEXT means Ubuntu's package: an Ubuntu suite (noble, noble-updates...) or an Ubuntu version
    (2.8.5-1ubuntu3.3). Without a mirror it is an error that says how to give one."""
    ubuntu = bool(SUITE_RE.match(text)) or "ubuntu" in text
    if ubuntu and not mirror():
        raise HrtError(f"deb:{text} is Ubuntu's package: set HRT_UBUNTU_MIRROR to an Ubuntu archive mirror, "
                       "e.g. HRT_UBUNTU_MIRROR=http://archive.ubuntu.com/ubuntu")
    return ubuntu


def releases_for(text: str) -> list[str]:
    """The releases whose archive may hold TEXT, newest first: a suite names its own; a version names its
    release when it carries the number (0ubuntu0.22.04.1), else every release is asked."""
    m = SUITE_RE.match(text)
    if m:
        return [m.group(1)]
    named = [c for c, v in RELEASES.items() if f".{v}." in f"{text}." or f"~{v}" in text]
    return named or list(RELEASES)


def sources(release: str) -> str:
    return "\n".join(f"deb {mirror()} {release}{p} main universe" for p in POCKETS)


def keyring() -> Path:
    """The archive key from the mirror's ubuntu-keyring package, once its fingerprint is checked."""
    path = cache_dir() / "ubuntu-archive-2018.gpg"
    if path.is_file():
        return path
    url = f"{mirror()}/{KEYRING_DEB}"
    try:
        r = requests.get(url, timeout=60)
        r.raise_for_status()
    except requests.RequestException as exc:
        raise HrtError(f"Ubuntu's archive key could not be fetched from {url}: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="hrt-keyring-") as tmp:
        deb, key = Path(tmp) / "keyring.deb", Path(tmp) / "key.gpg"
        deb.write_bytes(r.content)
        try:
            tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True,
                                 timeout=60).stdout
            key.write_bytes(subprocess.run(["tar", "-xO", KEY_MEMBER], input=tar, capture_output=True,
                                           check=True, timeout=60).stdout)
            shown = subprocess.run(["gpg", "--show-keys", "--with-colons", str(key)], capture_output=True,
                                   text=True, check=True, timeout=60).stdout
        except FileNotFoundError as exc:
            raise HrtError(f"{exc.filename} is missing: run `make setup` (dpkg, gnupg)") from None
        except subprocess.CalledProcessError as exc:
            raise HrtError(f"{url}: its archive key could not be read ({exc.cmd[0]}: "
                           f"{(exc.stderr or b'')[-300:]!r})") from None
        fingerprints = re.findall(r"^fpr:+([0-9A-F]{40}):", shown, re.M)
        if fingerprints[:1] != [ARCHIVE_KEY]:
            raise HrtError(f"{url}: the key it holds is {fingerprints or 'none'}, not Ubuntu's archive key "
                           f"{ARCHIVE_KEY}: not trusted, nothing cached")
        path.parent.mkdir(parents=True, exist_ok=True)
        key.replace(path)
    return path


def base_image(release: str, bootstrap) -> str:
    """hrt/base:RELEASE, debootstrapped from the mirror with the checked key (`bootstrap`: images.bootstrap)."""
    if not Path(SCRIPT).is_file():
        raise HrtError(f"{SCRIPT} is missing: debootstrap cannot bootstrap Ubuntu here (install debootstrap)")
    return bootstrap(release, mirror(), str(keyring()), f"hrt/base:{release}", script=SCRIPT)
