"""Where the layers live under the lake root and how Spark's output gets there atomically.

Spark writes part files (plus _SUCCESS and .crc files) into a staging directory; only the
*.parquet files are fsynced and renamed into the lake under the contract's names, so a reader
that globs *.parquet sees either a whole file or none, and never Spark's bookkeeping files."""

import ctypes
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from typing import Dict, List, Sequence

_BRONZE_NAME = re.compile(r"^part-p(\d{5})-o(\d{20})-(\d{20})\.parquet$")


@dataclass(frozen=True)
class LakePaths:
    root: str
    bronze: str
    silver_root: str
    silver: str
    rejected: str
    gold_root: str
    gold: str
    staging_root: str


def lake_paths(data_dir: str) -> LakePaths:
    root = os.path.abspath(data_dir)
    return LakePaths(
        root=root,
        bronze=os.path.join(root, "bronze", "vehicles"),
        silver_root=os.path.join(root, "silver"),
        silver=os.path.join(root, "silver", "vehicles"),
        rejected=os.path.join(root, "silver", "rejected"),
        gold_root=os.path.join(root, "gold"),
        gold=os.path.join(root, "gold", "stats"),
        # A dot directory at the root: on the lake's file system (so renames stay renames) and
        # outside every layer directory the readers glob.
        staging_root=os.path.join(root, ".spark-staging"),
    )


@dataclass(frozen=True)
class BronzeFile:
    partition: int
    first_offset: int
    last_offset: int


def bronze_file_name(f: BronzeFile) -> str:
    return f"part-p{f.partition:05d}-o{f.first_offset:020d}-{f.last_offset:020d}.parquet"


def parse_bronze_file_name(name: str):
    match = _BRONZE_NAME.match(name)
    if not match:
        return None
    return BronzeFile(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def part_file_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def list_parquet_files(directory: str) -> List[str]:
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, n) for n in os.listdir(directory)
                  if n.endswith(".parquet") and not n.startswith("."))


def next_offsets_in_lake(bronze_dir: str) -> Dict[int, int]:
    """Per Kafka partition, the first offset not yet in bronze (from the file names, which are
    only ever published once the file is complete)."""
    following: Dict[int, int] = {}
    for path in list_parquet_files(bronze_dir):
        parsed = parse_bronze_file_name(os.path.basename(path))
        if parsed is None:
            continue
        following[parsed.partition] = max(following.get(parsed.partition, 0), parsed.last_offset + 1)
    return following


def remove_stale_temporaries(paths: LakePaths, stage: str, layer_dirs: Sequence[str]) -> int:
    """Removes what runs of `stage` that died before publishing left behind: their staging
    directories and the hidden temporaries next to the layers. Stages never run concurrently
    (the chart's hooks and `npm run local` run them one after the other), as for the Node jobs."""
    removed = 0
    if os.path.isdir(paths.staging_root):
        for name in os.listdir(paths.staging_root):
            if name.startswith(f"{stage}-"):
                shutil.rmtree(os.path.join(paths.staging_root, name), ignore_errors=True)
                removed += 1
    for directory in layer_dirs:
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            if name.startswith(".") and (name.endswith(".tmp") or ".old." in name or ".staging." in name):
                path = os.path.join(directory, name)
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)
                removed += 1
    return removed


def new_staging_dir(paths: LakePaths, stage: str) -> str:
    directory = os.path.join(paths.staging_root, f"{stage}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.makedirs(directory)
    return directory


def remove_staging_dir(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(directory))  # the staging root, once no run uses it
    except OSError:
        pass


def spark_part_files(spark_output_dir: str) -> List[str]:
    """The data files Spark wrote, in task order (its names carry the task number first)."""
    return list_parquet_files(spark_output_dir)


def fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: str) -> None:
    fsync_file(directory)


def publish_file(source: str, target: str) -> None:
    """Makes a complete file visible under its final name, durably."""
    fsync_file(source)
    os.replace(source, target)
    fsync_directory(os.path.dirname(target))


_RENAME_EXCHANGE = 2
_libc = None


def _exchange(a: str, b: str) -> bool:
    """Swaps two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = _libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def replace_directory_with_files(files: Sequence[str], target: str) -> None:
    """Replaces directory `target` by one holding `files`, renamed part-00000.parquet, ... in
    the given order. Readers see the old layer or the new one, never a mix."""
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tag = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
    staged = os.path.join(parent, f".{os.path.basename(target)}.staging.{tag}")
    os.makedirs(staged)
    for index, source in enumerate(files):
        fsync_file(source)
        os.rename(source, os.path.join(staged, part_file_name(index)))
    fsync_directory(staged)
    if os.path.isdir(target) and _exchange(staged, target):
        retired = staged
    else:
        retired = os.path.join(parent, f".{os.path.basename(target)}.old.{tag}")
        if os.path.isdir(target):
            os.rename(target, retired)
        os.rename(staged, target)
    fsync_directory(parent)
    shutil.rmtree(retired, ignore_errors=True)
