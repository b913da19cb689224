"""Which code produced a run: a fingerprint of the training source, the git commit, versions."""

import functools
import hashlib
import importlib.metadata
import inspect
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from trainer import contract
from trainer.config.targets import TargetError, locate

PROJECT = Path(__file__).resolve().parents[2]
# The packages whose source decides what a trial computes.
TRAINING_PACKAGES = ("autodiff", "optimizers", "trainer/tasks", "trainer/training")
VERSIONED = ("numpy", "ray", "mlflow")
GIT_TIMEOUT_SECONDS = 2.0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def packages_fingerprint() -> str:
    """Every .py file under the training packages, path and bytes, in sorted path order; once
    per process."""
    digest = hashlib.sha256()
    for package in TRAINING_PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            digest.update(path.relative_to(PROJECT).as_posix().encode() + b"\0")
            digest.update(_digest(path).encode())
    return digest.hexdigest()


@functools.cache
def _is_project_source(path: Path) -> bool:
    return any(path.is_relative_to(PROJECT / package) for package in TRAINING_PACKAGES)


def _targets(node) -> Iterable[str]:
    """Every `_target_` string anywhere in a config."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "_target_" and isinstance(value, str):
                yield value
            else:
                yield from _targets(value)
    elif isinstance(node, Sequence) and not isinstance(node, str | bytes):
        for value in node:
            yield from _targets(value)


def _target_source(target: str) -> tuple[str, str]:
    """(the module defining what `target` names, a digest of its source file as it is now). A
    class of the training packages is covered by their fingerprint: ("", "")."""
    name, path = _target_module(target)
    if path is None or _is_project_source(path):
        return name, ""
    stat = path.stat()
    # Read again only when the file changed: a sweep asks this for every trial.
    return name, _file_digest(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _target_module(target: str) -> tuple[str, Path | None]:
    """(module name, its source file) for what `target` names: ("", file) for a class of the
    training packages; (a name, None) where there is no file to read."""
    try:
        module = inspect.getmodule(locate(target))
    except TargetError:
        # Refused by the config check; here only the name can be recorded.
        return target, None
    source = getattr(module, "__file__", None)
    if source is None:
        # A built-in module has no file: its name is all there is to record.
        return getattr(module, "__name__", target), None
    path = Path(source).resolve()
    return ("" if _is_project_source(path) else module.__name__), path


@functools.cache
def _file_digest(path: Path, mtime_ns: int, size: int) -> str:
    return _digest(path)


def code_fingerprint(configs: Iterable[Mapping]) -> str:
    """16 hex digits: the training packages' source and the source of every module a
    `_target_` in `configs` names outside them (a user's own optimizer or task)."""
    digest = hashlib.sha256(packages_fingerprint().encode())
    targets = {target for config in configs for target in _targets(config)}
    modules = {_target_source(target) for target in targets}  # once per distinct target
    for name, source_digest in sorted(modules - {("", "")}):
        digest.update(f"\0{name}\0{source_digest}".encode())
    return digest.hexdigest()[:16]


def _git(*args: str) -> str | None:
    """A git command's output in the project folder; None without git or a repository."""
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            # Reading status must not take the index lock from a git command the user runs.
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def git_tags() -> dict[str, str]:
    """`code.git_commit` and `code.git_dirty` (changes to tracked files), where there is a
    repository."""
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return {}
    tags = {"code.git_commit": commit}
    status = _git("status", "--porcelain", "--untracked-files=no")
    if status is not None:
        tags["code.git_dirty"] = str(bool(status)).lower()
    return tags


@functools.cache
def version_tags() -> dict[str, str]:
    """Python's version and the installed numpy, ray and mlflow, read without importing them."""
    tags = {"version.python": platform.python_version()}
    for distribution in VERSIONED:
        try:
            tags[f"version.{distribution}"] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return tags


def read_anew() -> None:
    """Forget the training packages' fingerprint, git's state and the versions read so far: a
    sweep started later in the same process (a notebook's, after an edit) reads them again."""
    for cached in (packages_fingerprint, git_tags, version_tags):
        cached.cache_clear()


def provenance_tags(configs: Iterable[Mapping]) -> dict[str, str]:
    """The tags that say which code produced a run: fingerprint, git commit and state,
    versions."""
    return {contract.CODE_FINGERPRINT: code_fingerprint(configs), **git_tags(), **version_tags()}
