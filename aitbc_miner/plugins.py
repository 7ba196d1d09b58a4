"""Runner plugins on a miner: found through the `aitbc.runners` entry point group without importing them,
identified by a sha256 of their installed code, and run only when that sha256 is the registered one.

The sha256 of a plugin (`distribution_sha256`) covers every Python source file of its installed
distribution, so a changed helper module counts as much as a changed runner:

    for each file listed in the distribution's RECORD whose path ends in ".py" and is not inside the
    "*.dist-info" folder, sorted by its RECORD path (forward slashes, relative to the install folder):
        the line  "<path>\\t<hex sha256 of the file's bytes on disk>\\n"
    sha256 = hex SHA-256 of those lines, UTF-8 encoded

It is computed from the bytes on disk each time, so editing an installed file changes it. The author
computes it with `aitbc plugin digest DISTRIBUTION` after `pip install`-ing the package, and registers it.
Editable installs list no source files and cannot be verified.
"""

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib.metadata import Distribution, EntryPoint, distributions
from typing import cast

GROUP = "aitbc.runners"


class PluginError(Exception):
    """A plugin cannot be identified (no source files, unreadable files)."""


@dataclass(frozen=True)
class PluginInstall:
    """A runner plugin as installed on this host, reported in the miner's capabilities."""

    name: str  # the entry point's name: the job type it runs
    version: str  # the distribution's version
    entry_point: str  # "module:attr"
    distribution: str
    sha256: str  # "" when it could not be computed (see error)
    error: str = ""

    def report(self) -> dict:
        return asdict(self)


def _builtin_types() -> set[str]:
    from aitbc_miner.runners import BUILT_IN

    return {cls.type for cls in BUILT_IN}


def _runner_entry_points(path: list[str] | None = None) -> list[tuple[EntryPoint, Distribution]]:
    """(entry point, its distribution), first distribution of a name on the path winning, as imports do."""
    seen, found = set(), []
    for dist in distributions(path=path) if path is not None else distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        found += [(ep, dist) for ep in dist.entry_points if ep.group == GROUP]
    return found


@lru_cache(maxsize=1)
def plugin_entry_points() -> dict[str, EntryPoint]:
    """Job type -> entry point of every runner plugin on sys.path (a plugin may not replace a built-in type)."""
    builtin = _builtin_types()
    return {ep.name: ep for ep, _ in _runner_entry_points() if ep.name not in builtin}


def distribution_sha256(dist: Distribution) -> str:
    """The plugin sha256 defined in this module's docstring."""
    files = sorted(
        (str(f) for f in dist.files or () if str(f).endswith(".py") and ".dist-info/" not in str(f)),
    )
    if not files:
        raise PluginError("its distribution lists no Python files (an editable install cannot be verified)")
    lines = []
    for relative in files:
        try:
            # typeshed's SimplePath for 3.11 lacks read_bytes; what locate_file returns (Path, zipfile.Path) has it
            data = dist.locate_file(relative).read_bytes()  # type: ignore[attr-defined]  # typeshed: see above
        except OSError as exc:
            raise PluginError(f"cannot read {relative}: {exc}") from None
        lines.append(f"{relative}\t{hashlib.sha256(data).hexdigest()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _install(ep: EntryPoint, dist: Distribution) -> PluginInstall:
    try:
        sha256, error = distribution_sha256(dist), ""
    except PluginError as exc:
        sha256, error = "", str(exc)
    return PluginInstall(
        name=ep.name,
        version=dist.version,
        entry_point=ep.value,
        distribution=dist.metadata["Name"] or "",
        sha256=sha256,
        error=error,
    )


def plugin_installs(path: list[str] | None = None) -> dict[str, PluginInstall]:
    """Job type -> the installed runner plugin, its sha256 computed now from the files on disk."""
    builtin = _builtin_types()
    return {ep.name: _install(ep, dist) for ep, dist in _runner_entry_points(path) if ep.name not in builtin}


def distribution_install(distribution: str, path: list[str] | None = None) -> list[PluginInstall]:
    """The runner plugins one installed distribution provides (for `aitbc plugin digest`)."""
    wanted = distribution.lower().replace("_", "-")
    return [
        _install(ep, dist)
        for ep, dist in _runner_entry_points(path)
        if (dist.metadata["Name"] or "").lower().replace("_", "-") == wanted
    ]


def plugin_install_now(job_type: str) -> PluginInstall | None:
    """The installed plugin for this job type with its sha256 recomputed from disk (before each run)."""
    entry_point = plugin_entry_points().get(job_type)
    # an entry point read from a distribution's metadata always carries that distribution
    return _install(entry_point, cast(Distribution, entry_point.dist)) if entry_point is not None else None
