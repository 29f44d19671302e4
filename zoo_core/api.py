# SPDX-License-Identifier: Apache-2.0
"""The library API the CLI is a thin layer over: list models, describe one, run stages, read records."""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .config import describe_keys, require_utf8, resolve_config
from .model import CAPABILITIES, STAGES, ModelSpec
from .plugin.manager import PluginManager, default_manager
from .records import RecordStore, RunRecord
from .runner import Plan, Runner
from .runtime.msrun import Cluster
from .workdir import exclusive


def this_command() -> str:
    """The command line of this process, as the lock file names it to a second writer."""
    name = Path(sys.argv[0]).name
    return shlex.join(["zoo" if name in ("zoo", "-c", "__main__.py") else sys.argv[0], *sys.argv[1:]])


def default_workdir(model: str) -> Path:
    return Path("runs") / model


def _workdir(model: str, workdir: str | Path | None) -> Path:
    return Path(workdir) if workdir else default_workdir(model)


def model_info(spec: ModelSpec) -> dict[str, Any]:
    """What ``zoo info`` shows: metadata, stages, metrics, capabilities, presets, and every config key with type,
    default and description."""
    return {
        "name": spec.name,
        "summary": spec.summary,
        "stages": {stage: ("implemented" if stage in spec.stages else "not implemented") for stage in STAGES},
        "metrics": [metric.model_dump() for metric in spec.metrics],
        "capabilities": {name: CAPABILITIES[name] for name in sorted(spec.capabilities)},
        "presets": {name: dict(values) for name, values in spec.presets.items()},
        "config": {key.pop("name"): key for key in describe_keys(spec.config_cls)},
        "metadata": spec.metadata.model_dump(mode="json"),
    }


@contextlib.contextmanager
def session(
    model: str,
    stages: str,
    preset: str = "default",
    config_file: str | Path | None = None,
    sets: Sequence[str] = (),
    data: str | Path | None = None,
    workdir: str | Path | None = None,
    resume: bool = False,
    quiet: bool = False,
    manager: PluginManager | None = None,
    cluster: Cluster | None = None,
    command: str | None = None,
) -> Iterator[tuple[Runner, Plan, list[str]]]:
    """Validate everything (model, stages, config, data path), then hold the work directory (one writer at a
    time) while the caller runs the planned stages. Yields the runner, the plan and one line per leftover of a
    killed run that was cleaned up."""
    for option, value in (("--data", data), ("--workdir", workdir)):
        if value is not None:
            require_utf8(str(value), option)
    manager = manager or default_manager()
    spec = manager.get(model)
    config = resolve_config(spec.config_cls, spec.presets, preset, config_file, sets)
    runner = Runner(
        spec,
        config,
        preset,
        _workdir(model, workdir),
        Path(data) if data is not None else None,
        resume,
        quiet,
        on_record=manager.stage_finished,
        converters=manager.converters(),
        cluster=cluster,
        command=command or this_command(),
    )
    runner.plan(stages)  # usage errors before the work directory is touched
    with runner.session() as cleaned:
        yield runner, runner.plan(stages), cleaned


def run(
    model: str, stages: str, *, on_plan: Callable[[Plan], None] = lambda plan: None, **options: Any
) -> list[RunRecord]:  # options: those of session
    """Run ``stages`` of ``model``; returns the records written. Raises ZooError on the first failing stage."""
    with session(model, stages, **options) as (runner, plan, _):
        on_plan(plan)
        return [runner.run_stage(stage) for stage in plan.stages]


def runs(model: str, workdir: str | Path | None = None) -> list[RunRecord]:
    return RecordStore(_workdir(model, workdir)).all()


def render_docs(
    model: str,
    workdir: str | Path | None = None,
    lang: str = "zh",
    output: str | Path | None = None,
    allow_missing: bool = False,
    check: bool = False,
    manager: PluginManager | None = None,
):
    """Render the delivery README of ``model`` from its records (``check``: compare only, write nothing)."""
    from .docs.render import render

    manager = manager or default_manager()
    spec = manager.get(model)
    root = _workdir(model, workdir)
    hold = contextlib.nullcontext() if check else exclusive(root, this_command())
    with hold:
        return render(
            spec,
            root,
            lang,
            Path(output) if output else None,
            allow_missing,
            manager.doc_templates(spec),
            write=not check,
        )


def check(
    model: str, workdir: str | Path | None = None, selected: Sequence[str] = (), manager: PluginManager | None = None
):
    """Run the release checklist of ``model``; returns one result per rule."""
    from .checks import CheckContext, run_checks, select
    from .docs.render import LANGS, readme_path

    manager = manager or default_manager()
    spec = manager.get(model)
    root = _workdir(model, workdir)
    RecordStore(root).all()  # a broken record is one error naming it, not a finding of every rule
    readmes = {lang: readme_path(root, lang) for lang in LANGS if readme_path(root, lang).is_file()}
    ctx = CheckContext(spec, root, readmes, manager.doc_templates(spec))
    return run_checks(ctx, select(manager.rules_for(spec), selected), manager.foreign_rules(spec))


def package(
    model: str,
    output: str | Path,
    workdir: str | Path | None = None,
    force: bool = False,
    manager: PluginManager | None = None,
) -> Path:
    """Assemble the delivery bundle in ``output`` (a new or empty folder, or with ``force`` a previous bundle);
    refuses when the checklist has errors. The work directory is held meanwhile, so no run changes it."""
    from .errors import ZooError
    from .packaging import assemble, check_output

    manager = manager or default_manager()
    root = _workdir(model, workdir)
    check_output(Path(output), root, force)
    with exclusive(root, this_command()):
        failing = sorted(
            {f.rule for r in check(model, workdir, manager=manager) for f in r.findings if f.severity == "error"}
        )
        if failing:
            raise ZooError(f"`zoo check {model}` has errors ({', '.join(failing)}); fix them before packaging")
        return assemble(manager.get(model), root, Path(output), force)
