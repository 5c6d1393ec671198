"""Where hrt keeps things: the user's cache and the project's own data folders."""
import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path(os.environ.get("HRT_CASES_DIR", PROJECT_ROOT / "cases"))
CONFIGS_DIR = Path(os.environ.get("HRT_CONFIGS_DIR", PROJECT_ROOT / "haproxy_configs"))
DOCKERFILES_DIR = Path(__file__).resolve().parent / "dockerfiles"


def cache_dir() -> Path:
    """$HRT_CACHE, else ~/.cache/hrt; created on first use."""
    base = os.environ.get("HRT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "hrt")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir() -> Path:
    """Where runs keep their evidence: $HRT_RESULTS, else ./results."""
    path = Path(os.environ.get("HRT_RESULTS", "results")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def slug(text: str) -> str:
    """A file-name-safe form of a case id, SPEC or report name (one rule for every path hrt makes)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80]
