"""The container image and the Compose deployment (Dockerfile, .dockerignore, compose.yaml,
deploy/*.yaml, .env.example).

Three kinds of checks:

- Static ones, always: what an operator relies on and a careless edit breaks without anyone
  noticing until deployment day (a floating base image, the bot running as root, a secret in
  a committed file, Redis or the metrics published to the internet, a setting name that does
  nothing, .env or .git sent into the build).
- The wheel, always: built from this checkout, installed into an empty folder and run from
  outside the checkout, so that the catalogue and translations bundled in the wheel are used
  (the image installs that same wheel).
- The image itself, when a Docker engine answers (`docker info`): built and run. Otherwise the
  test is skipped with a message. Two environment variables help an engine without Docker
  Hub: WEGWEISER_TEST_BASE_IMAGE (a local stand-in for the Python base image, passed as
  --build-arg PYTHON_IMAGE) and WEGWEISER_TEST_DOCKER_NETWORK (--network for the build's
  RUN steps, e.g. host).
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import uuid
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_FILES = [COMPOSE, *sorted((ROOT / "deploy").glob("*.y*ml"))]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
VERSION = PYPROJECT["project"]["version"]

#: A setting whose value is a secret by its name: never given a value in a committed file.
SECRET_NAME = re.compile(r"WEGWEISER_\w*(TOKEN|PASSWORD|SECRET)\b")
#: What a Telegram bot token looks like (123456789:AA...), wherever it is written.
TELEGRAM_TOKEN = re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b")
LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}
METRICS_PORT = "9464"


# --- reading the Dockerfile ----------------------------------------------------------------

def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments out."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line:
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def _stages(text: str) -> tuple[dict[str, str], list[list[tuple[str, str]]]]:
    """The global ARG defaults (before the first FROM) and the instructions of each stage,
    each stage starting with its FROM."""
    global_args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    for word, rest in _instructions(text):
        if word == "FROM":
            stages.append([(word, rest)])
        elif stages:
            stages[-1].append((word, rest))
        elif word == "ARG":
            name, _, default = rest.partition("=")
            global_args[name.strip()] = default.strip().strip('"')
    return global_args, stages


def _resolve(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)


def _pairs(rest: str) -> dict[str, str]:
    """ENV NAME=value NAME2="value 2" (and the old ENV NAME value) as a dict."""
    words = shlex.split(rest)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.partition("=")[::2] for word in words)


def _final_stage() -> list[tuple[str, str]]:
    return _stages(DOCKERFILE.read_text("utf-8"))[1][-1]


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in _final_stage():
        if word == "ENV":
            env.update(_pairs(rest))
    return env


def _pinned(image: str) -> str | None:
    """None when `image` is pinned to an exact version (name:X.Y.Z..., maybe @sha256:...),
    else what is wrong with it."""
    match = re.fullmatch(r"(?P<name>[\w./-]+)(?::(?P<tag>[\w.-]+))?(?:@(?P<digest>\S+))?",
                         image)
    if match is None:
        return f"{image!r} is not an image reference"
    if match["digest"] is not None and not re.fullmatch(r"sha256:[0-9a-f]{64}", match["digest"]):
        return f"{image!r}: the digest must be sha256: and 64 hex digits"
    tag = match["tag"]
    if tag is None or tag == "latest":
        return f"{image!r} has no version tag (it floats with every release)"
    if not re.match(r"\d+\.\d+\.\d+(?![\d.])", tag):
        return (f"{image!r}: the tag {tag!r} is not an exact version such as 3.11.16-slim-"
                "bookworm (3.11-slim moves with every patch release)")
    return None


# --- reading the Compose files -------------------------------------------------------------

def _compose(path: Path = COMPOSE) -> dict:
    data = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), path
    return data


def _environment(service: dict) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return {k: v for k, _, v in (item.partition("=") for item in env)}
    return {k: None if v is None else str(v) for k, v in env.items()}


def _ports(service: dict) -> list[tuple[str | None, str, str]]:
    """(host address or None for every address, host port, container port) per published
    port, from the short ("127.0.0.1:9464:9464") and the long syntax."""
    result = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            result.append((port.get("host_ip"), str(port.get("published", "")),
                           str(port["target"])))
            continue
        spec = str(port).split("/")[0]
        parts = spec.rsplit(":", 2)
        if len(parts) == 3:
            result.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            result.append((None, parts[0], parts[1]))
        else:
            result.append((None, "", parts[0]))
    return result


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(duration))
    assert parts, f"not a duration: {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


# --- the settings ----------------------------------------------------------------------------

def _settings() -> tuple[set[str], set[str]]:
    """(the names of all Wegweiser environment variables, those that hold secrets)."""
    from bot import config

    known = {s.env for s in config.SETTINGS} | set(getattr(config, "OTHER_ENV", ()))
    secret = {s.env for s in config.SETTINGS if getattr(s, "secret", False)}
    return known, secret


def _committed_assignments() -> list[tuple[str, str, str]]:
    """(file, variable, value) for every variable that the Dockerfile (ENV, ARG) and the
    Compose files (environment, build args) set."""
    found = []
    for word, rest in _instructions(DOCKERFILE.read_text("utf-8")):
        if word == "ENV":
            found += [("Dockerfile", k, v) for k, v in _pairs(rest).items()]
        elif word == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            found.append(("Dockerfile", name.strip(), value.strip()))
    for path in COMPOSE_FILES:
        for name, service in _compose(path)["services"].items():
            where = f"{path.relative_to(ROOT)} ({name})"
            found += [(where, k, v or "") for k, v in _environment(service).items()]
            build = service.get("build")
            if isinstance(build, dict):
                args = build.get("args") or {}
                if isinstance(args, list):
                    args = dict(a.partition("=")[::2] for a in args)
                found += [(where, k, str(v or "")) for k, v in args.items()]
    return found


# --- static checks: the Dockerfile -----------------------------------------------------------

def test_base_images_are_pinned_to_an_exact_version():
    global_args, stages = _stages(DOCKERFILE.read_text("utf-8"))
    assert len(stages) >= 2, "a builder stage and a final stage"
    names: set[str] = set()
    bases = []
    for stage in stages:
        words = [w for w in stage[0][1].split() if not w.startswith("--")]
        if words[0] not in names:  # not FROM an earlier stage
            image = _resolve(words[0], global_args)
            problem = _pinned(image)
            assert problem is None, f"Dockerfile FROM {words[0]}: {problem}"
            bases.append(image)
        if len(words) >= 3 and words[1].upper() == "AS":
            names.add(words[2])
    assert len(set(bases)) == 1, f"builder and final stage on different bases: {bases}"
    assert re.match(r"python:3\.\d+\.\d+-slim-bookworm\b", bases[0]), bases[0]


def test_final_stage_runs_as_a_user_that_is_not_root():
    users = [rest for word, rest in _final_stage() if word == "USER"]
    assert users, "the final stage has no USER: the bot would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, f"USER {users[-1]}"
    # a number, so that Kubernetes' runAsNonRoot can check it and volumes get a known owner
    assert user.isdigit(), f"USER {users[-1]}: use the numeric uid"


def test_health_check_asks_wegweiser_status_and_answers_docker_with_0_or_1():
    checks = [rest for word, rest in _final_stage() if word == "HEALTHCHECK"]
    assert checks, "no HEALTHCHECK: Docker cannot tell a hung bot from a working one"
    command = checks[-1].split("CMD", 1)[-1]
    assert "wegweiser status" in command, checks[-1]
    # `status` exits 2 when nothing answers; Docker reserves 2, so it must become 1
    assert "|| exit 1" in command, checks[-1]


def test_image_serves_metrics_on_every_address_of_the_container():
    stage = _final_stage()
    listen = _image_env().get("WEGWEISER_METRICS_LISTEN", "")
    assert listen == f"0.0.0.0:{METRICS_PORT}", (
        "WEGWEISER_METRICS_LISTEN must be 0.0.0.0:9464 in the image: the default 127.0.0.1 "
        "cannot be reached through a published port")
    exposed = {p.split("/")[0] for word, rest in stage if word == "EXPOSE" for p in rest.split()}
    assert METRICS_PORT in exposed
    entry = [json.loads(rest) for word, rest in stage if word == "ENTRYPOINT"]
    command = [json.loads(rest) for word, rest in stage if word == "CMD"]
    assert entry and entry[-1] == ["wegweiser"], entry
    assert command and command[-1] == ["run"], command


def test_image_keeps_its_data_and_cache_where_a_read_only_container_can_write():
    env = _image_env()
    assert env.get("WEGWEISER_DATA_DIR") == "/var/lib/wegweiser"
    volumes = [rest for word, rest in _final_stage() if word == "VOLUME"]
    assert any("/var/lib/wegweiser" in v for v in volumes), volumes
    # compose.yaml runs the bot with a read-only root and a tmpfs on /tmp only
    assert env.get("WEGWEISER_CACHE_DIR", "").startswith("/tmp/"), env.get("WEGWEISER_CACHE_DIR")


# --- static checks: secrets and setting names ------------------------------------------------

def test_no_secret_is_written_into_the_image_or_the_compose_files():
    _, secret = _settings()
    for where, name, value in _committed_assignments():
        if SECRET_NAME.search(name):
            assert not value.strip(), f"{where}: {name} has a value; secrets belong in .env"
        elif name in secret and value:  # the store URL: fine without a password in it
            assert "@" not in value, f"{where}: {name} carries credentials; put it in .env"
    for path in [DOCKERFILE, *COMPOSE_FILES, ENV_EXAMPLE]:
        token = TELEGRAM_TOKEN.search(path.read_text("utf-8"))
        assert token is None, f"{path.name} contains what looks like a bot token"


def test_env_example_has_no_secret_values_and_env_is_ignored_by_git():
    _, secret = _settings()
    for number, line in enumerate(ENV_EXAMPLE.read_text("utf-8").splitlines(), 1):
        name, sep, value = line.strip().lstrip("#").strip().partition("=")
        if not (sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name)):
            continue  # prose
        if SECRET_NAME.search(name) or name in secret:
            assert not value.strip(), f".env.example line {number}: {name} has a value"
    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text("utf-8").splitlines()}
    assert ignored & {".env", "/.env"}, ".gitignore must list .env: it holds the bot's secrets"
    env_file = _compose()["services"]["bot"].get("env_file") or []
    env_files = [env_file] if isinstance(env_file, (str, dict)) else env_file
    paths = {f["path"] if isinstance(f, dict) else f for f in env_files}
    assert paths & {".env", "./.env"}, "compose.yaml should read the secrets from .env"


def test_every_wegweiser_variable_in_the_deployment_files_is_a_setting():
    # (fails until bot/config.py with SETTINGS exists)
    known, _ = _settings()
    for path in [DOCKERFILE, *COMPOSE_FILES, ENV_EXAMPLE]:
        for name in sorted(set(re.findall(r"\bWEGWEISER_[A-Z0-9_]+\b", path.read_text("utf-8")))):
            assert name in known, (f"{path.relative_to(ROOT)} uses {name}, which Wegweiser "
                                   "does not read (a typo, or a setting that was renamed)")


# --- static checks: compose.yaml -------------------------------------------------------------

def test_compose_publishes_nothing_beyond_this_machine_and_redis_not_at_all():
    for path in COMPOSE_FILES:
        for name, service in _compose(path)["services"].items():
            assert service.get("network_mode") != "host", f"{path.name} {name}: host network"
            for host, published, target in _ports(service):
                assert host in LOOPBACK, (
                    f"{path.relative_to(ROOT)} {name}: port {target} is published on every "
                    f"address of the host; write 127.0.0.1:{published or target}:{target}")
    services = _compose()["services"]
    assert not services["redis"].get("ports"), "Redis must not be published to the host"
    assert ("127.0.0.1", METRICS_PORT, METRICS_PORT) in _ports(services["bot"])


def test_compose_redis_is_pinned_persistent_and_checked():
    data = _compose()
    redis = data["services"]["redis"]
    problem = _pinned(redis["image"])
    assert problem is None, f"compose.yaml redis: {problem}"
    assert redis["image"].startswith("redis:")
    command = redis.get("command")
    command = " ".join(command) if isinstance(command, list) else str(command)
    for option in ("--appendonly yes", "--maxmemory-policy noeviction"):
        assert option in command, f"redis-server needs {option} (docs/operations.md)"
    volume = next((v.split(":")[0] for v in redis.get("volumes", []) if ":/data" in v), None)
    assert volume in (data.get("volumes") or {}), "Redis' /data must be a named volume"
    test = redis.get("healthcheck", {}).get("test")
    assert "redis-cli" in json.dumps(test) and "ping" in json.dumps(test), test


def test_compose_bot_waits_for_redis_stops_gracefully_and_runs_read_only():
    data = _compose()
    bot = data["services"]["bot"]
    assert bot.get("build") in (".", {"context": "."}), bot.get("build")
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    env = _environment(bot)
    assert env.get("WEGWEISER_STORE", "").startswith("redis://redis:"), env.get("WEGWEISER_STORE")
    assert "telegram" in (env.get("WEGWEISER_ADAPTERS") or ""), env.get("WEGWEISER_ADAPTERS")
    assert env.get("WEGWEISER_LOG_FORMAT") == "json"
    # SIGTERM finishes the turns in flight; Docker's default 10 s may cut that short
    assert _seconds(bot.get("stop_grace_period", "10s")) >= 30, bot.get("stop_grace_period")
    assert bot.get("restart") in {"unless-stopped", "always"}
    assert bot.get("read_only") is True
    assert any(str(t).split(":")[0] == "/tmp" for t in bot.get("tmpfs", [])), bot.get("tmpfs")
    data_volume = next(v.split(":")[0] for v in bot["volumes"] if ":/var/lib/wegweiser" in v)
    assert data_volume in (data.get("volumes") or {}), "the bot's data needs a named volume"


# --- static checks: the build context --------------------------------------------------------

def _ignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (is an exception "!", regex), in order."""
    patterns = []
    for raw in DOCKERIGNORE.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        regex, i = "", 0
        while i < len(line):
            if line.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif line.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif line[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif line[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif line[i] == "[":
                end = line.index("]", i)
                regex, i = regex + line[i:end + 1], end + 1
            else:
                regex, i = regex + re.escape(line[i]), i + 1
        patterns.append((negate, re.compile(regex)))
    return patterns


def _sent_to_docker(path: str) -> bool:
    """Whether `path` (relative to the checkout) is in the build context, by Docker's rules:
    the last pattern that matches the path or one of its parent folders decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negate, pattern in _ignore_patterns():
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return not excluded


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git/HEAD", ".env", "wegweiser.toml", "data/wegweiser.sqlite3",
    ".pytest_cache/v/cache/nodeids", ".hypothesis/examples/x",
    "bot/__pycache__/cli.cpython-311.pyc", "content/.env", "tests/test_container.py",
    "dist/wegweiser-0.1.0-py3-none-any.whl",
])
def test_dockerignore_keeps_out(path):
    assert not _sent_to_docker(path), f"{path} would be sent into the image build"


def test_dockerignore_lets_in_everything_the_dockerfile_copies():
    copied = []
    for word, rest in _instructions(DOCKERFILE.read_text("utf-8")):
        if word in {"COPY", "ADD"} and "--from=" not in rest:
            words = [w for w in rest.split() if not w.startswith("--")]
            copied += words[:-1]
    assert {"pyproject.toml", "bot", "content", "locales"} <= set(copied), copied
    for source in copied:
        sample = next((p for p in sorted((ROOT / source).rglob("*"))
                       if p.is_file() and "__pycache__" not in p.parts), None)
        path = str(sample.relative_to(ROOT)) if sample else source
        assert _sent_to_docker(path), f".dockerignore keeps out {path}, which the build copies"


# --- the wheel, always -----------------------------------------------------------------------

def _requirement(spec: str) -> tuple[str, set[str], str]:
    """(normalised name, extras, marker) of a requirement string."""
    head, _, marker = spec.partition(";")
    match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?", head)
    assert match, spec
    extras = {e.strip() for e in (match[2] or "").split(",") if e.strip()}
    return re.sub(r"[-_.]+", "-", match[1]).lower(), extras, marker


def _installable_closure() -> set[str]:
    """The distributions that `pip install wegweiser` brings: the declared dependencies and,
    recursively, theirs (with the extras asked for)."""
    seen: set[str] = set()
    todo = [_requirement(r)[:2] for r in PYPROJECT["project"]["dependencies"]]
    while todo:
        name, extras = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for spec in requires:
            sub, sub_extras, marker = _requirement(spec)
            wanted = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if not wanted or set(wanted) & extras:
                todo.append((sub, sub_extras))
    return seen


def test_every_import_of_the_bot_comes_with_pip_install():
    """The image installs the wheel with its declared dependencies only: a module the code
    imports from a package that is merely in the development environment crashes the
    container at start."""
    imported: dict[str, str] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                     and node.module else [])
            for name in names:
                imported.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    closure = _installable_closure()
    providers = importlib.metadata.packages_distributions()
    for module, where in sorted(imported.items()):
        if module in sys.stdlib_module_names or module in {"bot", "__future__"}:
            continue
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        assert dists & closure, (f"{where} imports {module} (from {sorted(dists) or '?'}), "
                                 "which is not among pyproject.toml's dependencies")


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel built from this checkout, a folder it is installed in without
    dependencies)."""
    dist = tmp_path_factory.mktemp("dist")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # with hatchling installed here the build needs no network; else pip's isolated build
    # environment gets it from the package index
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    build = subprocess.run([*pip, "wheel", "--no-deps", *isolation, "--wheel-dir", str(dist),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("wegweiser-*.whl"))
    done = subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return wheel, target


def test_wheel_bundles_the_catalogue_the_translations_and_the_command(installed_wheel):
    wheel, _ = installed_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("bot/__main__.py", "bot/cli.py", "bot/_bundled/content/catalogue.yaml",
                   "bot/_bundled/content/topics.yaml",
                   "bot/_bundled/locales/de/LC_MESSAGES/messages.po"):
        assert needed in names, f"the wheel lacks {needed}"
    assert not any(n.startswith("tests/") for n in names), "tests/ must not go into the wheel"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert re.search(r"^wegweiser\s*=\s*bot\.cli:main$", text, re.M), text


def test_installed_wheel_runs_outside_the_checkout(installed_wheel, tmp_path):
    """`python -m bot` from the installed wheel, in a folder outside the checkout, with no
    WEGWEISER_* settings: the bundled catalogue and translations must be found (the image
    does exactly this, with the wheel in /opt/venv)."""
    _, target = installed_wheel
    assert (ROOT / "bot" / "__main__.py").is_file()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WEGWEISER_") and k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(target), HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "c"),
               XDG_DATA_HOME=str(tmp_path / "d"), PYTHONDONTWRITEBYTECODE="1")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    where = run("-c", "import bot, bot.paths; print(bot.__file__); "
                      "print(bot.paths.default_content()); print(bot.paths.default_locales())")
    assert where.returncode == 0, where.stderr
    module, content, locales = where.stdout.split()
    for path in (module, content, locales):
        assert Path(path).is_relative_to(target), f"{path} is not from the installed wheel"
    version = run("-m", "bot", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"wegweiser {VERSION}"
    validate = run("-m", "bot", "validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "OK" in validate.stdout and str(target) in validate.stdout, validate.stdout


# --- the image, when a Docker engine answers -------------------------------------------------

def _docker_engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        info = subprocess.run([docker, "info"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return docker if info.returncode == 0 else None


def test_image_builds_and_runs_as_documented():
    docker = _docker_engine()
    if docker is None:
        pytest.skip("no Docker engine here: the image was not built; static checks above "
                    "still ran")
    base = os.environ.get("WEGWEISER_TEST_BASE_IMAGE") or _stages(
        DOCKERFILE.read_text("utf-8"))[0]["PYTHON_IMAGE"]
    have = subprocess.run([docker, "image", "inspect", base], capture_output=True, timeout=60)
    if have.returncode != 0:
        pull = subprocess.run([docker, "pull", base], capture_output=True, text=True,
                              timeout=600)
        if pull.returncode != 0:  # no registry from here: the build could not even begin
            pytest.skip(f"a Docker engine answers, but the base image {base} cannot be "
                        f"pulled ({pull.stderr.strip()[-300:]}): the image was not built; "
                        "set WEGWEISER_TEST_BASE_IMAGE to a local copy")
    tag = f"wegweiser-test:{uuid.uuid4().hex[:12]}"
    build = [docker, "build", "--tag", tag]
    if os.environ.get("WEGWEISER_TEST_BASE_IMAGE"):
        build += ["--build-arg", f"PYTHON_IMAGE={os.environ['WEGWEISER_TEST_BASE_IMAGE']}"]
    if os.environ.get("WEGWEISER_TEST_DOCKER_NETWORK"):
        build += ["--network", os.environ["WEGWEISER_TEST_DOCKER_NETWORK"]]
    done = subprocess.run([*build, str(ROOT)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    try:
        def run(*args: str, entrypoint: str | None = None) -> subprocess.CompletedProcess[str]:
            options = ["--entrypoint", entrypoint] if entrypoint else []
            return subprocess.run([docker, "run", "--rm", "--network", "none", "--read-only",
                                   "--tmpfs", "/tmp", "--cap-drop", "ALL", *options, tag, *args],
                                  capture_output=True, text=True, timeout=120)

        version = run("--version")
        assert version.stdout.strip() == f"wegweiser {VERSION}", version.stdout + version.stderr
        validate = run("validate")
        assert validate.returncode == 0 and "OK" in validate.stdout, (
            validate.stdout + validate.stderr)
        uid = run("-u", entrypoint="id")
        assert uid.returncode == 0 and uid.stdout.strip() not in {"", "0"}, uid.stdout
        # every module imports: no dependency is missing from the image
        imports = run("-c", "import importlib, pkgutil, bot\n"
                            "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
                            "    if m.name != 'bot.__main__':\n"
                            "        importlib.import_module(m.name)", entrypoint="python")
        assert imports.returncode == 0, imports.stderr
        # nobody answers yet: the health check reports unhealthy (1), quietly
        health = run("-c", "wegweiser status --quiet || exit 1", entrypoint="sh")
        assert (health.returncode, health.stdout) == (1, ""), health
        inspect = subprocess.run([docker, "image", "inspect", tag], capture_output=True,
                                 text=True, timeout=60)
        config = json.loads(inspect.stdout)[0]["Config"]
        assert "wegweiser status" in " ".join(config["Healthcheck"]["Test"])
        assert f"{METRICS_PORT}/tcp" in config["ExposedPorts"]
    finally:
        subprocess.run([docker, "image", "rm", "--force", tag], capture_output=True, timeout=120)
