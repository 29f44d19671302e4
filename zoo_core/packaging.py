# SPDX-License-Identifier: Apache-2.0
"""``zoo package``: the delivery bundle of a model, with a manifest of sizes and sha256.

The bundle goes to a new or empty folder. A folder holding a previous bundle (its ``manifest.json``, and nothing
else than the files it lists) is replaced only with ``--force``; anything else is refused, so nothing the user
had is removed. The output may not lie inside the work directory, nor the work directory inside the output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .docs.context import build_context
from .docs.render import LANGS, readme_path
from .errors import DiskFull, UsageError, ZooError, free_bytes
from .io import atomic_dir, atomic_write_json, copy_file, sha256_file
from .model import ModelSpec

BUNDLE_FORMAT = "zoo-bundle/1"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def previous_bundle(output: Path) -> tuple[dict, list[str]] | None:
    """The manifest of a bundle in ``output`` and the entries of ``output`` it does not list; None if no bundle."""
    try:
        manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
        listed = {item["path"] for item in manifest["files"]} | {"manifest.json"}
        manifest["model"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    present = {str(p.relative_to(output)) for p in output.rglob("*") if not p.is_dir()}
    folders = {str(p.relative_to(output)) for p in output.rglob("*") if p.is_dir()}
    parents = {str(parent) for name in listed for parent in Path(name).parents if str(parent) != "."}
    return manifest, sorted((present - listed) | (folders - parents))


def check_output(output: Path, workdir: Path, force: bool) -> None:
    """Refuse an output that would remove or mix with anything the user has (usage error, nothing written)."""
    target, root = output.resolve(), workdir.resolve()
    where = f"--output {output}"
    if _inside(target, root):
        raise UsageError(f"{where} lies inside the work directory {workdir}: choose a folder outside it")
    if _inside(root, target):
        raise UsageError(f"{where} holds the work directory {workdir}: choose a new folder for the bundle")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{where} is a file: choose a new folder for the bundle")
    if not target.is_dir() or not any(target.iterdir()):
        return
    bundle = previous_bundle(target)
    if bundle is None:
        raise UsageError(
            f"{where} is not empty and holds no zoo bundle: choose a new or empty folder (nothing in it is removed)"
        )
    manifest, extra = bundle
    if extra:
        raise UsageError(
            f"{where} holds a {manifest['model']} bundle and other files ({', '.join(extra[:3])}): "
            f"choose a new or empty folder (nothing in it is removed)"
        )
    if not force:
        raise UsageError(
            f"{where} holds a previous {manifest['model']} bundle: add --force to replace it, or choose a new folder"
        )


def _picks(spec: ModelSpec, workdir: Path) -> dict[str, Path]:
    context = build_context(spec, workdir)
    docs = workdir / "docs"
    picks: dict[str, Path] = {}
    readmes = [readme_path(workdir, lang) for lang in LANGS if readme_path(workdir, lang).is_file()]
    for readme in readmes:
        picks[readme.name] = readme
        for picture in re.findall(r"\]\(([\w.-]+\.png)\)", readme.read_text(encoding="utf-8")):
            if (docs / picture).is_file():  # the pictures the READMEs show, drawn next to them
                picks[picture] = docs / picture
    for art in context["artifacts"].values():
        picks[f"models/{Path(art['path']).name}"] = workdir / art["path"]
    for script in sorted((workdir / "convert" / "infer").rglob("*")) if (workdir / "convert").is_dir() else []:
        if script.is_file():
            picks[f"infer/{script.relative_to(workdir / 'convert' / 'infer')}"] = script
    for record in context["recorded"].values():
        picks[f"records/{record.run_id}.json"] = workdir / "records" / f"{record.run_id}.json"
    if readme_path(workdir, "zh").name not in picks:
        raise ZooError(f"no README in {docs}: run `zoo render-docs {spec.name}` first")
    return picks


def assemble(spec: ModelSpec, workdir: Path, output: Path, force: bool = False) -> Path:
    """Copy README(s), plots, model files, Ascend delivery scripts and the latest records into ``output``."""
    check_output(output, workdir, force)
    picks = _picks(spec, workdir)
    needed = sum(path.stat().st_size for path in picks.values())
    free = free_bytes(output.parent)
    if free is not None and free < needed:
        raise DiskFull(output, needed)
    files = []
    with atomic_dir(output, needed=needed) as tmp:
        for name, source in picks.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_file(source, target)
            files.append({"path": name, "size": target.stat().st_size, "sha256": sha256_file(target)})
        atomic_write_json(
            tmp / "manifest.json",
            {"format": BUNDLE_FORMAT, "model": spec.name, "version": spec.metadata.version, "files": files},
        )
    return output / "manifest.json"
