"""Render HAProxy configs from the Jinja2 templates in haproxy_configs/, with errors that name file and line."""
import traceback
from pathlib import Path

import jinja2

from .errors import CaseError
from .paths import CONFIGS_DIR


def environment(directory: Path = CONFIGS_DIR) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def _template_line(exc: BaseException, name: str) -> str:
    """Locate the template frame in a render-time traceback (Jinja2 rewrites frames to template lines)."""
    for frame, lineno in reversed(list(traceback.walk_tb(exc.__traceback__))):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2") or filename.endswith("/" + name):
            return f"{filename}:{lineno}"
    return name


def render(name: str, params: dict, directory: Path = CONFIGS_DIR) -> str:
    try:
        text = environment(directory).get_template(name).render(**params)
    except jinja2.TemplateSyntaxError as exc:
        raise CaseError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise CaseError(f"template {exc.name} not found in {directory}") from None
    except jinja2.UndefinedError as exc:
        raise CaseError(f"template {_template_line(exc, name)}: {exc.message} (missing parameter)") from None
    if not text.endswith("\n"):
        text += "\n"  # HAProxy warns "Missing LF on last line"
    return text
