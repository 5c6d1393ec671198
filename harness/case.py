"""Case metadata: one `case.toml` per reported bug, validated on load with errors naming file and field."""
import importlib.util
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CaseError
from .oracles import REGISTRY
from .paths import CASES_DIR, CONFIGS_DIR
from .power import Rate
from .verdict import DECIDED
from .profiles import PROFILES
from .spec import RELEASE_RE

CASE_KEYS = {"title", "seed", "upstream", "template", "scenario", "profile", "requires", "runs", "timeout",
             "probabilistic", "oracles", "params", "haproxy_args", "fix_commits", "introduced_by", "expect",
             "branches", "variants", "notes", "files", "rate"}
# A variant may reproduce a different bug of the same report: its own fixing/introducing commits.
VARIANT_KEYS = {"params", "expect", "oracles", "runs", "timeout", "haproxy_args", "profile", "title",
                "fix_commits", "introduced_by", "branches", "rate"}
# The bad builds' measured reproduction rate (lower 95% bound) a held verdict's power is computed against.
RATE_KEYS = {"per", "lower95", "evidence", "param", "target", "why", "model"}
# `untestable`: releases measured untestable on purpose (no build, trigger path absent); `status =
# "untestable"`: the whole branch (its `evidence` says why). Neither gets a CI cell; `--strict` accepts them.
BRANCH_KEYS = {"affected_from", "fixed_in", "measured_from", "status", "evidence", "untestable"}
STATUSES = ("affected", "not-affected", "untestable")


@dataclass(frozen=True)
class OracleSpec:
    name: str
    gate: bool
    options: dict


@dataclass(frozen=True)
class Variant:
    case: "Case"
    name: str                 # "" when the case has no variants
    params: dict
    expect: str               # constant expectation ("" = from versions/commits)
    oracles: tuple
    runs: int
    timeout: float
    haproxy_args: tuple
    profile: str
    # The case's unless the variant names its own (a variant may reproduce another bug of the report).
    fix_commits: tuple = ()
    introduced_by: tuple = ()
    branches: dict = field(default_factory=dict)
    rate: Rate | None = None

    @property
    def id(self) -> str:
        return f"{self.case.id}/{self.name}" if self.name else self.case.id


@dataclass(frozen=True)
class Case:
    id: str
    path: Path
    title: str
    template: str
    scenario_path: Path
    requires: tuple
    probabilistic: bool
    fix_commits: tuple
    introduced_by: tuple
    branches: dict            # branch -> {"affected_from", "fixed_in", "status"}
    variants: tuple = field(default_factory=tuple)
    seed: str = ""
    upstream: str = ""
    files: tuple = ()         # names of files in the case folder copied into HAProxy's work dir

    def scenario(self):
        """The case's scenario module (its `run(ctx)` drives the traffic)."""
        spec = importlib.util.spec_from_file_location(f"hrt_case_{self.id.replace('-', '_')}", self.scenario_path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise CaseError(f"{self.scenario_path}:{exc.lineno}: {exc.msg}") from None
        if not callable(getattr(module, "run", None)):
            raise CaseError(f"{self.scenario_path}: defines no run(ctx) function")
        return module

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise CaseError(f"case {self.id} has no variant {name!r}; it has: "
                        f"{', '.join(v.name for v in self.variants) or '(none)'}")


def _fail(path: Path, where: str, msg: str):
    raise CaseError(f"{path}: {where}: {msg}")


def _check_keys(path: Path, where: str, table: dict, allowed: set) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        _fail(path, where, f"unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")


def _type(path, where, value, kind, name):
    if not isinstance(value, kind):
        _fail(path, f"{where}{name}", f"expected {kind.__name__ if isinstance(kind, type) else kind}, "
                                      f"got {type(value).__name__} {value!r}")
    return value


def _number(path: Path, where: str, value, kind):
    """An int/float field; a string or bool there is a CaseError naming the field, not a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        _fail(path, where, f"expected {'an integer' if kind is int else 'a number'}, got {value!r}")
    return kind(value)


def _type_name(kind) -> str:
    return " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__


def _oracles(path: Path, where: str, raw) -> tuple:
    out = []
    for i, o in enumerate(_type(path, where, raw, list, "oracles")):
        w = f"{where}oracles[{i}]"
        _type(path, w, o, dict, "")
        name = o.get("name")
        if name not in REGISTRY:
            _fail(path, f"{w}.name", f"unknown oracle {name!r}; known: {', '.join(sorted(REGISTRY))}")
        opts = {k: v for k, v in o.items() if k not in ("name", "gate")}
        cls = REGISTRY[name]
        for key, value in opts.items():
            if key not in cls.OPTIONS:
                _fail(path, f"{w}.{key}", f"unknown option for oracle {name}; it takes: "
                                          f"{', '.join(sorted(cls.OPTIONS)) or 'none'} (and gate)")
            if not isinstance(value, cls.OPTIONS[key]) or (isinstance(value, bool) and cls.OPTIONS[key] is int):
                _fail(path, f"{w}.{key}", f"expected {_type_name(cls.OPTIONS[key])}, got {value!r}")
        for key in cls.REQUIRED:
            if key not in opts:
                _fail(path, f"{w}.{key}", f"oracle {name} needs this option")
        out.append(OracleSpec(name, bool(o.get("gate", True)), opts))
    if not any(o.gate for o in out):
        _fail(path, f"{where}oracles", "at least one oracle must gate the verdict")
    return tuple(out)


def _expect(path, where, value) -> str:
    if value not in ("",) + DECIDED:
        _fail(path, f"{where}expect", f"must be one of {', '.join(DECIDED)}, got {value!r}")
    return value


def _branches(path: Path, where: str, raw) -> dict:
    out = {}
    for br, b in _type(path, where, raw, dict, "branches").items():
        w = f"{where}branches.{br}"
        _type(path, "", b, dict, w)
        _check_keys(path, w, b, BRANCH_KEYS)
        for k in ("affected_from", "fixed_in", "measured_from"):
            if k in b and not RELEASE_RE.match(str(b[k])):
                _fail(path, f"{w}.{k}", f"expected a release X.Y.Z, got {b[k]!r}")
        if b.get("status", "affected") not in STATUSES:
            _fail(path, f"{w}.status", f"must be one of {', '.join(STATUSES)}, got {b['status']!r}")
        for i, rel in enumerate(_type(path, f"{w}.", b.get("untestable", []), list, "untestable")):
            if not RELEASE_RE.match(str(rel)) or not str(rel).startswith(br + "."):
                _fail(path, f"{w}.untestable[{i}]", f"expected a release of {br} (X.Y.Z), got {rel!r}")
        out[br] = b
    return out


def _rate(path: Path, where: str, raw, params: dict) -> Rate | None:
    """`rate = { per, lower95, evidence, [param], [target, why] }`: per "run", "second" or a unit the scenario
    counts; a per-second/unit rate names the param that sets a run's exposure."""
    if raw is None:
        return None
    w = f"{where}rate"
    _type(path, "", raw, dict, w)
    _check_keys(path, w, raw, RATE_KEYS)
    per = raw.get("per")
    if not isinstance(per, str) or not per:
        _fail(path, f"{w}.per", f'expected "run", "second" or a unit of work, got {per!r}')
    lower = _number(path, f"{w}.lower95", raw.get("lower95"), float)
    model = raw.get("model", "binomial" if per == "run" else "poisson")
    if model not in ("binomial", "poisson") or (per == "run" and model != "binomial"):
        _fail(path, f"{w}.model",
              f'expected "binomial" (per run or unit) or "poisson" (per second or unit), got {model!r}')
    if not (0 < lower <= (1 if model == "binomial" else math.inf)):
        _fail(path, f"{w}.lower95", f"expected a rate > 0{' and <= 1 (a probability)' if model == 'binomial' else ''}, "
                                    f"got {lower}")
    evidence = raw.get("evidence")
    if not isinstance(evidence, str) or not evidence.strip():
        _fail(path, f"{w}.evidence", "the measured runs behind the bound are required")
    param = raw.get("param", "")
    if per != "run" and param not in params:
        _fail(path, f"{w}.param",
              f"a per-{per} rate names the param that sets a run's exposure; {param!r} is not a param")
    target = raw.get("target")
    if target is not None:
        target = _number(path, f"{w}.target", target, float)
        if not (0 < target < 1) or not str(raw.get("why", "")).strip():
            _fail(path, f"{w}.target", "expected a power in (0, 1) with its reason in `why`")
    return Rate(per, lower, evidence, param, target, str(raw.get("why", "")), model)


def _commits(path: Path, where: str, value, name: str) -> tuple:
    """A commit id or a list of them (an introduction cherry-picked onto stable branches has several)."""
    items = ([value] if value else []) if isinstance(value, str) else _type(path, where, value, list, name)
    for i, c in enumerate(items):
        if not isinstance(c, str) or not re.fullmatch(r"[0-9a-f]{7,40}", c):
            _fail(path, f"{where}{name}[{i}]" if not isinstance(value, str) else f"{where}{name}",
                  f"expected a commit id (7-40 hex digits), got {c!r}")
    return tuple(items)


def load_case(directory: Path) -> Case:
    path = directory / "case.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise CaseError(f"{path}: missing (every case folder needs a case.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: {exc}") from None
    _check_keys(path, "top level", data, CASE_KEYS)
    for required in ("title", "template", "oracles"):
        if required not in data:
            _fail(path, required, "required field missing")
    template = _type(path, "", data["template"], str, "template")
    if not (CONFIGS_DIR / template).is_file():
        _fail(path, "template", f"{CONFIGS_DIR / template} does not exist")
    scenario = directory / _type(path, "", data.get("scenario", "scenario.py"), str, "scenario")
    if not scenario.is_file():
        _fail(path, "scenario", f"{scenario} does not exist")
    profile = data.get("profile", "default")
    if profile not in PROFILES:
        _fail(path, "profile", f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    branches = _branches(path, "", data.get("branches", {}))
    files = []
    for i, name in enumerate(_type(path, "", data.get("files", []), list, "files")):
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            _fail(path, f"files[{i}]", f"expected a file name in the case folder, got {name!r}")
        if not (directory / name).is_file():
            _fail(path, f"files[{i}]", f"{directory / name} does not exist")
        files.append(name)
    base_oracles = _oracles(path, "", data["oracles"])
    params = _type(path, "", data.get("params", {}), dict, "params")
    case = Case(id=directory.name, path=directory, title=data["title"], template=template,
                scenario_path=scenario, requires=tuple(_type(path, "", data.get("requires", []), list, "requires")),
                probabilistic=bool(data.get("probabilistic", False)),
                fix_commits=_commits(path, "", data.get("fix_commits", []), "fix_commits"),
                introduced_by=_commits(path, "", data.get("introduced_by", []), "introduced_by"),
                branches=branches, seed=data.get("seed", ""), upstream=data.get("upstream", ""),
                files=tuple(files))
    common = dict(runs=_number(path, "runs", data.get("runs", 1), int),
                  timeout=_number(path, "timeout", data.get("timeout", 60), float),
                  haproxy_args=tuple(data.get("haproxy_args", [])), profile=profile,
                  fix_commits=case.fix_commits, introduced_by=case.introduced_by, branches=branches)
    variants = []
    raw_variants = _type(path, "", data.get("variants", {}), dict, "variants")
    for vname, v in raw_variants.items():
        w = f"variants.{vname}."
        _type(path, "", v, dict, w[:-1])
        _check_keys(path, w[:-1], v, VARIANT_KEYS)
        variants.append(Variant(
            case, vname, {**params, **_type(path, w, v.get("params", {}), dict, "params")},
            _expect(path, w, v.get("expect", data.get("expect", ""))),
            _oracles(path, w, v["oracles"]) if "oracles" in v else base_oracles,
            _number(path, w + "runs", v.get("runs", common["runs"]), int),
            _number(path, w + "timeout", v.get("timeout", common["timeout"]), float),
            tuple(v.get("haproxy_args", common["haproxy_args"])), v.get("profile", profile),
            _commits(path, w, v.get("fix_commits", list(case.fix_commits)), "fix_commits"),
            _commits(path, w, v.get("introduced_by", list(case.introduced_by)), "introduced_by"),
            {**branches, **_branches(path, w, v.get("branches", {}))},
            _rate(path, w, v.get("rate", data.get("rate")), {**params, **v.get("params", {})})))
    if not variants:
        variants.append(Variant(case, "", params, _expect(path, "", data.get("expect", "")), base_oracles,
                                **common, rate=_rate(path, "", data.get("rate"), params)))
    object.__setattr__(case, "variants", tuple(variants))
    return case


def all_cases(directory: Path = CASES_DIR) -> list[Case]:
    return [load_case(d) for d in sorted(directory.iterdir()) if (d / "case.toml").exists()]


def find(selector: str, directory: Path = CASES_DIR) -> list[Variant]:
    """`CASE` → every variant; `CASE/VARIANT` → that one."""
    case_id, _, vname = selector.partition("/")
    d = directory / case_id
    if not (d / "case.toml").exists():
        known = ", ".join(d.name for d in sorted(directory.iterdir()) if (d / "case.toml").exists())
        raise CaseError(f"unknown case {case_id!r}; known: {known}")
    case = load_case(d)
    return [case.variant(vname)] if vname else list(case.variants)
