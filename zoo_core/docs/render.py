# SPDX-License-Identifier: Apache-2.0
"""``zoo render-docs``: the standard delivery README rendered from records with jinja2.

Templates: ``templates/delivery_doc/`` (``zh.md.j2`` / ``en.md.j2`` over shared ``sections/*.md.j2`` partials and
``strings.yaml``); a plugin adds or overrides sections with its own folder (``zoo_doc_templates`` hook). Rendering
is sandboxed and strict (an undefined name is an error), and every value printed is escaped for Markdown.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from ..errors import UsageError, ZooError, first_line
from ..io import atomic_copy, atomic_write_text
from ..model import ModelSpec
from ..results import InferResult, Metric, TrainResult
from .context import build_context, duration_label, size_label
from .markdown import BEGIN, END, broken_anchors, escape, merge_regions, slug
from .plots import plotted_series, training_plot

SECTIONS = (
    "basic_info",
    "overview",
    "environment",
    "quick_start",
    "transfer_learning",
    "advanced",
    "deployment",
    "performance",
    "random",
)
LANGS = ("zh", "en")
MISSING = "not yet measured"


@dataclass(frozen=True)
class DocTemplates:
    """A plugin's template folder: files there override the core's (``sections/<name>.md.j2``); ``extra_sections``
    are added before the random-situation section."""

    folder: Path
    extra_sections: tuple[str, ...] = ()


@dataclass
class Rendered:
    path: Path
    text: str
    changed: bool
    missing: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def core_templates() -> Path:
    return Path(str(resources.files("zoo_templates"))) / "delivery_doc"


def section_strings() -> dict[str, dict[str, str]]:
    """``strings.yaml``: each heading and label of the README by language."""
    return yaml.safe_load((core_templates() / "strings.yaml").read_text(encoding="utf-8"))


def readme_path(workdir: Path, lang: str) -> Path:
    """Where ``render-docs`` writes the README of ``lang``: ``docs/README.md`` (zh), ``docs/README_en.md`` (en)."""
    return Path(workdir) / "docs" / ("README.md" if lang == "zh" else f"README_{lang}.md")


def _environment(extra: Sequence[DocTemplates]) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(str(t.folder)) for t in extra] + [FileSystemLoader(str(core_templates()))]
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        finalize=escape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        size=size_label,
        duration=duration_label,
        raw=Markup,
        slug=slug,
        num=lambda v, digits=4: f"{float(v):.{digits}g}",
    )
    return env


def render(
    spec: ModelSpec,
    workdir: Path,
    lang: str = "zh",
    output: Path | None = None,
    allow_missing: bool = False,
    extra: Sequence[DocTemplates] = (),
    write: bool = True,
) -> Rendered:
    """Render (and with ``write`` save, atomically) the README; hand-written text outside generated regions of an
    existing file is kept. Raises ZooError naming the stages to run when records are missing."""
    if lang not in LANGS:
        raise UsageError(f"unknown language '{lang}'; use one of {', '.join(LANGS)}")
    workdir = Path(workdir)
    output = Path(output) if output else readme_path(workdir, lang)
    context = build_context(spec, workdir)
    strings = section_strings()
    missing: list[str] = []

    def needs(stage: str) -> Markup:
        if stage not in missing:
            missing.append(stage)
        return Markup(f"*{MISSING}: run `zoo run {spec.name} --stage {stage}`*")

    train = context["res"]["train"]
    series = plotted_series(train.history, spec.metrics) if isinstance(train, TrainResult) else []
    files = _pictures(context, workdir, output.parent, write, series)
    context.update(_metric_words(spec, lang))
    sections = list(SECTIONS[:-1]) + [s for t in extra for s in t.extra_sections] + [SECTIONS[-1]]
    values: dict[str, Any] = dict(
        context,
        lang=lang,
        T={k: v[lang] for k, v in strings.items()},
        needs=needs,
        sections=sections,
        plot=files.get("plot"),
        plotted=[m.label(lang) for m in series],
        picture=files.get("picture"),
    )
    env = _environment(extra)
    parts = [_render(env, f"{lang}.md.j2", values)]
    for name in sections:
        body = _render(env, f"sections/{name}.md.j2", values)
        parts.append(f"{BEGIN.format(name)}\n{body}\n{END.format(name)}")
    text = "\n".join(line.rstrip() for line in "\n\n".join(parts).splitlines()) + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)  # a section part that rendered empty leaves no run of blank lines
    if missing and not allow_missing:
        _refuse_missing(spec, workdir, missing)
    broken = broken_anchors(text)
    if broken:
        raise ZooError(f"rendered README has links to missing headings: {', '.join('#' + b for b in broken)}")
    existing = output.read_text(encoding="utf-8") if output.is_file() else None
    merged = merge_regions(text, existing)
    changed = merged != existing
    if write and changed:
        atomic_write_text(output, merged)
    return Rendered(output, merged, changed, missing, [output.parent / name for name in files.values()])


def _refuse_missing(spec: ModelSpec, workdir: Path, missing: list[str]) -> None:
    commands = "; ".join(f"`zoo run {spec.name} --stage {s}`" for s in missing)
    raise ZooError(
        f"the README needs records of stage(s) {', '.join(missing)} in {workdir}: run {commands} "
        f"first, or pass --allow-missing to mark them '{MISSING}'"
    )


def _render(env: SandboxedEnvironment, name: str, values: dict[str, Any]) -> str:
    """One template rendered; an error names the template file, its line and the expression there, so a record
    or plugin value of the wrong type (or missing) can be found."""
    try:
        return env.get_template(name).render(values).strip()
    except Exception as exc:  # UndefinedError, TypeError from a filter, a syntax error in a plugin's template
        if not isinstance(exc, (TemplateError, TypeError, ValueError, AttributeError, KeyError)):
            raise
        file, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        if frames:
            file, line = frames[-1].filename, frames[-1].lineno
        source = Path(file).read_text(encoding="utf-8").splitlines() if file and Path(file).is_file() else []
        where = f"{file or name}, line {line}" if line else str(file or name)
        code = f" (in `{_around(source[line - 1].strip(), str(exc))}`)" if line and 0 < line <= len(source) else ""
        raise ZooError(
            f"delivery template {where}{code}: {first_line(exc)}: a record or plugin value it shows is "
            f"missing or of the wrong type; check the stage's record (`zoo runs --json`) or the "
            f"template"
        ) from None


def _around(text: str, message: str, width: int = 100) -> str:
    """``text`` cut to ``width`` characters around the last name the message quotes (the field that failed)."""
    names = re.findall(r"'([^']+)'", message)
    at = text.find(names[-1]) if names else -1
    start = max(0, min(at - width // 2, len(text) - width)) if at >= 0 else 0
    return ("..." if start else "") + text[start : start + width] + ("..." if start + width < len(text) else "")


def _pictures(
    context: dict[str, Any], workdir: Path, folder: Path, write: bool, series: list[Metric]
) -> dict[str, str]:
    """File names of the training plot and of an inference picture the README shows (written next to it when
    ``write``): the plot from the train result's per-epoch history (the loss and ``series``), the picture from the
    infer result's images."""
    names: dict[str, str] = {}
    train, infer = context["res"]["train"], context["res"]["infer"]
    if isinstance(train, TrainResult) and train.history:
        target = folder / "training.png"
        if training_plot(train.history, series, target, write):
            names["plot"] = target.name
    pictures = sorted((workdir / infer.images).glob("*.png")) if isinstance(infer, InferResult) and infer.images else []
    if pictures:
        names["picture"] = "inference_example.png"
        if write:
            atomic_copy(pictures[0], folder / names["picture"])
    return names


def _metric_words(spec: ModelSpec, lang: str) -> dict[str, Any]:
    """Template helpers that show metrics by their declared names: ``label(key)``, ``scores(mapping)`` and
    ``directions()`` (each metric and whether higher or lower is better)."""

    def label(key: str) -> str:
        metric = spec.metric(key)
        return metric.label(lang) if metric else key

    def scores(values: dict[str, float]) -> str:
        return spec.show_scores(values, lang)

    def directions() -> str:
        """Every declared metric with its direction: ``CER (%) (lower is better), Word accuracy (higher is better)``."""
        better = {"higher": "越高越好", "lower": "越低越好"} if lang == "zh" else None
        return ("，" if lang == "zh" else ", ").join(
            f"{m.label(lang)}（{better[m.better]}）" if better else f"{m.label(lang)} ({m.better} is better)"
            for m in spec.metrics
        )

    return {"label": label, "scores": scores, "directions": directions}
