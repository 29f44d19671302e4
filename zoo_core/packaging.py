# SPDX-License-Identifier: Apache-2.0
"""``zoo package``: the delivery bundle of a model, with a manifest of sizes and sha256."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .docs.context import build_context
from .docs.render import LANGS, readme_path
from .errors import ZooError
from .io import atomic_dir, sha256_file
from .model import ModelSpec


def assemble(spec: ModelSpec, workdir: Path, output: Path) -> Path:
    """Copy README(s), plots, model files, Ascend delivery scripts and the latest records into ``output``."""
    context = build_context(spec, workdir)
    docs = workdir / "docs"
    picks: dict[str, Path] = {}
    for name in [readme_path(workdir, lang).name for lang in LANGS] + ["training.png", "density_overlay.png"]:
        if (docs / name).is_file():
            picks[name] = docs / name
    for fmt, art in context["artifacts"].items():
        picks[f"models/{Path(art['path']).name}"] = workdir / art["path"]
    for script in sorted((workdir / "convert" / "infer").rglob("*")) if (workdir / "convert").is_dir() else []:
        if script.is_file():
            picks[f"infer/{script.relative_to(workdir / 'convert' / 'infer')}"] = script
    for stage, record in context["recorded"].items():
        picks[f"records/{record.run_id}.json"] = workdir / "records" / f"{record.run_id}.json"
    if readme_path(workdir, "zh").name not in picks:
        raise ZooError(f"no README in {docs}: run `zoo render-docs {spec.name}` first")
    files = []
    with atomic_dir(output) as tmp:
        for name, source in picks.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            files.append({"path": name, "size": target.stat().st_size, "sha256": sha256_file(target)})
        manifest = {"model": spec.name, "version": spec.metadata.version, "files": files}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return output / "manifest.json"
