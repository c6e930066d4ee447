"""`pixcast cache stats|verify|purge`: maintenance of the stores under the cache root.

Each store is checked and purged on its own (server.cachelayout), so no command can touch
another store's files. Every command is safe while servers use the cache.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

import diskcache

from server.cache import ResultCache
from server.cachelayout import LOCKS, RESULTS, STORES, store_dir
from server.settings import CONFIG_ENV, ENV_PREFIX, SettingsError, read_config

DEFAULT_ROOT = Path("var/cache")
MIB = 1024 * 1024
FIX_PASSES = 4


def add_cache_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--cache-dir", help="cache root (default: as `pixcast serve` finds it)")
    command.add_argument("--config", help=f"TOML config file (or ${CONFIG_ENV})")
    actions = command.add_subparsers(dest="action", required=True)
    actions.add_parser("stats", help="entries and bytes of each store")
    verify = actions.add_parser("verify", help="check each store's database against its files")
    verify.add_argument("--fix", action="store_true", help="repair what the check finds")
    purge = actions.add_parser("purge", help="drop rendered variants")
    which = purge.add_mutually_exclusive_group(required=True)
    which.add_argument("--public-id", help="drop every variant of this public id")
    which.add_argument("--all", action="store_true", help="drop every rendered variant")


def cache_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run one action; exit status 1 when verify finds problems, 2 for a bad cache root."""
    try:
        root = cache_root(args.cache_dir, args.config or environ.get(CONFIG_ENV), environ)
    except SettingsError as error:
        print(f"pixcast: error: {error}", file=sys.stderr)
        return 2
    if args.action == "stats":
        print("\n".join(stats(root)))
        return 0
    if args.action == "verify":
        problems = verify(root, args.fix)
        for store, found in problems.items():
            print(f"{store}: " + ("ok" if not found else "; ".join(found)))
        return 1 if any(problems.values()) and not args.fix else 0
    dropped = purge(root, None if args.all else args.public_id)
    what = "every public id" if args.all else args.public_id
    print(f"purged {dropped} rendered variants of {what}")
    return 0


def cache_root(flag: str | None, config: str | None, environ: Mapping[str, str]) -> Path:
    """The cache root as `pixcast serve` would use it: flag, environment, config, default.
    It must exist: maintenance never creates an empty cache by a typo."""
    root = Path(flag) if flag else None
    root = root or _from_env(environ) or _from_config(config) or DEFAULT_ROOT
    if not root.is_dir():
        raise SettingsError(f"cache_dir is not an existing directory: {root}")
    return root


def _from_env(environ: Mapping[str, str]) -> Path | None:
    value = environ.get(ENV_PREFIX + "CACHE_DIR")
    return Path(value) if value else None


def _from_config(config: str | None) -> Path | None:
    if not config:
        return None
    raw = read_config(Path(config)).get("cache_dir")
    return Path(str(raw[0])) if raw else None


def stats(root: Path) -> list[str]:
    """One line per store: entries, bytes and bound; lock files held right now."""
    lines = []
    for store in STORES:
        if not store_dir(root, store).is_dir():
            lines.append(f"{store}: not made yet")
            continue
        with _open(root, store) as cache:
            limit = cache.size_limit / MIB
            lines.append(
                f"{store}: {len(cache)} entries, {cache.volume() / MIB:.1f} MiB "
                f"(bound {limit:g} MiB)"
            )
    locks = store_dir(root, LOCKS)
    held = len(list(locks.glob("*.lock"))) if locks.is_dir() else 0
    lines.append(f"{LOCKS}: {held} keys being worked on")
    return lines


def verify(root: Path, fix: bool) -> dict[str, list[str]]:
    """diskcache's consistency check of each store, on its own directory only."""
    found: dict[str, list[str]] = {}
    for store in STORES:
        if not store_dir(root, store).is_dir():
            continue
        with _open(root, store) as cache:
            found[store] = _check(cache, fix)
            # A fix that removes an empty directory can leave its parent empty: repeat.
            for _ in range(FIX_PASSES if fix and found[store] else 0):
                if not _check(cache, fix):
                    break
    return found


def _check(cache: diskcache.Cache, fix: bool) -> list[str]:
    with warnings.catch_warnings():
        # check() gathers what it finds as warnings and returns them; "always", so a
        # warnings-as-errors filter cannot turn the first finding into an exception.
        warnings.simplefilter("always")
        return [str(warning.message) for warning in cache.check(fix=fix, retry=True)]


def purge(root: Path, public_id: str | None) -> int:
    """Drop one public id's rendered variants (None: all of them); how many."""
    cache = ResultCache(store_dir(root, RESULTS), None)
    try:
        return cache.purge(public_id)
    finally:
        cache.close()


def _open(root: Path, store: str) -> diskcache.Cache:
    """An existing store as it is (its bound unchanged)."""
    return diskcache.Cache(str(store_dir(root, store)))
