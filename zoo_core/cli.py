# SPDX-License-Identifier: Apache-2.0
"""The ``zoo`` command: a thin layer over :mod:`zoo_core.api` (parse, call, print human text or JSON)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import api, interrupts, report
from .errors import DiskFull, ZooError, is_disk_full
from .metadata import metadata_json_schema
from .plugin.manager import default_manager
from .records import RunRecord


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _echo(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """zoo: train, export, document and check model-zoo deliveries through model plugins."""


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_models(as_json: bool) -> None:
    """List the installed models."""
    manager = default_manager()
    rows = [
        {
            "name": s.name,
            "summary": s.summary,
            "version": s.metadata.version,
            "framework": f"{s.metadata.framework} {s.metadata.framework_version}",
            "stages": s.implemented,
            "plugin": manager.owner(s.name),
        }
        for s in manager.models().values()
    ]
    if as_json:
        _json({"models": rows, "failed_plugins": [f.__dict__ for f in manager.failures]})
        return
    if not rows:
        click.echo("no models installed (plugins register them through the 'zoo.plugins' entry-point group)")
    for row in rows:
        click.echo(f"{row['name']:<12} {row['version']:<6} {row['framework']:<18} {row['summary']}")
        click.echo(f"{'':<12} stages: {', '.join(row['stages'])}")


@cli.command("new")
@click.argument("name")
@click.option("--output", type=click.Path(file_okay=False), help="Folder to create [default: ./zoo-NAME].")
def new_command(name: str, output: str | None) -> None:
    """Create an installable model-plugin package NAME that runs every stage out of the box."""
    from .scaffold import create

    target = create(name, output)
    click.echo(f"created {target}: pip install -e {target} && zoo run {name} --stage all --preset smoke")


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(as_json: bool) -> None:
    """List loaded plugins (distribution, version, models, hooks) and those that failed or are disabled."""
    manager = default_manager()
    rows = manager.plugins()
    failed = [f.__dict__ for f in manager.failures]
    disabled = [f.__dict__ for f in manager.disabled]
    if as_json:
        _json({"plugins": rows, "failed": failed, "disabled": disabled})
        return
    for row in rows:
        click.echo(f"{row['name']:<16} {row['distribution']} {row['version'] or ''}".rstrip())
        if row["models"]:
            click.echo(f"{'':<16} models: {', '.join(row['models'])}")
        click.echo(f"{'':<16} hooks: {', '.join(row['hooks'])}")
    for item in failed:
        click.echo(f"{item['name']:<16} {item['distribution']}: FAILED: {item['reason']}")
    for item in disabled:
        click.echo(f"{item['name']:<16} {item['distribution']}: disabled (ZOO_DISABLE_PLUGINS)")


@cli.command()
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info(model: str, as_json: bool) -> None:
    """Describe MODEL: metadata, stages, metrics, capabilities, presets and every config key."""
    data = api.model_info(default_manager().get(model))
    if as_json:
        _json(data)
        return
    _echo(report.info_lines(data))


@cli.command()
@click.argument("model")
@click.option("--stage", "stages", required=True, help="Stage(s): dataset,network,train,eval,... or all.")
@click.option("--preset", default="default", show_default=True, help="Named config preset of the model.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML file of config overrides.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override one config key (repeatable).")
@click.option(
    "--data",
    type=click.Path(),
    help="The dataset stage's source data, or the images infer runs on (its "
    "results then go to WORKDIR/predictions/, apart from the delivery).",
)
@click.option("--workdir", type=click.Path(file_okay=False), help="Work directory [default: runs/MODEL].")
@click.option("--resume", is_flag=True, help="Continue training from the newest complete checkpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print the run records as JSON at the end.")
@click.option("--workers", type=int, default=1, show_default=True, help="Data-parallel processes on this host (msrun).")
@click.option("--nodes", type=int, default=1, show_default=True, help="Hosts of a multi-host run.")
@click.option("--node-rank", type=int, default=0, show_default=True, help="This host's index, 0 on the master.")
@click.option("--master-addr", default="127.0.0.1", show_default=True, help="Address of host 0.")
@click.option("--master-port", type=int, help="Port on host 0 [default: a free one; required with --nodes].")
def run(
    model: str,
    stages: str,
    preset: str,
    config_file: str | None,
    sets: tuple[str, ...],
    data: str | None,
    workdir: str | None,
    resume: bool,
    as_json: bool,
    workers: int,
    nodes: int,
    node_rank: int,
    master_addr: str,
    master_port: int | None,
) -> None:
    """Run stages of MODEL, writing a run record per stage."""
    records: list[RunRecord] = []
    cluster = api.Cluster(workers, nodes, node_rank, master_addr, master_port)
    cluster.validate()
    with api.session(
        model,
        stages,
        preset=preset,
        config_file=config_file,
        sets=sets,
        data=data,
        workdir=workdir,
        resume=resume,
        quiet=as_json,
        cluster=cluster,
    ) as (runner, plan, cleaned):
        if not as_json:
            _echo(report.plan_lines(plan, model, cleaned))
        for stage in plan.stages:
            if not as_json:
                click.echo(f"== {model}: {stage} (preset {preset}) ==")
            record = runner.run_stage(stage)
            records.append(record)
            if not as_json:
                metrics = report.summary(record, runner.spec)
                status = f"needs {', '.join(record.needs)}" if record.status == "needs_tool" else record.status
                where = (
                    f"; outputs in {runner.workdir / Path(record.outputs[0].path).parent}"
                    if record.kind == "user_data" and record.outputs
                    else ""
                )
                saved = runner.store.folder / f"{record.run_id}.json"
                click.echo(
                    f"{stage}: {status} in {record.duration_s:.1f} s"
                    + (f" ({metrics})" if metrics else "")
                    + where
                    + (f"; record {saved}" if saved.is_file() else "; host 0 records it")
                )
    if as_json:
        _json({"records": [r.model_dump(mode="json") for r in records], "not_implemented": plan.not_implemented})


@cli.command("runs")
@click.argument("model")
@click.option("--workdir", type=click.Path(file_okay=False), help="Work directory [default: runs/MODEL].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_runs(model: str, workdir: str | None, as_json: bool) -> None:
    """List the recorded stage runs of MODEL."""
    records = api.runs(model, workdir)
    spec = default_manager().get(model)
    if as_json:
        _json([r.model_dump(mode="json") for r in records])
        return
    if not records:
        click.echo(f"no runs recorded in {workdir or api.default_workdir(model)}")
    for r in records:
        kind = "user data" if r.kind == "user_data" else ""
        click.echo(
            f"{r.run_id:<34} {r.stage:<8} {r.status:<11} {r.duration_s:>8.1f}s  {r.preset:<8} {kind:<9} "
            f"{report.summary(r, spec)}".rstrip()
        )


@cli.command("render-docs")
@click.argument("model")
@click.option("--workdir", type=click.Path(file_okay=False), help="Work directory [default: runs/MODEL].")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="README path [default: WORKDIR/docs/README.md].")
@click.option("--allow-missing", is_flag=True, help="Mark sections without records 'not yet measured'.")
@click.option("--check", is_flag=True, help="Exit 1 if the README on disk differs from what the records give.")
def render_docs(
    model: str, workdir: str | None, lang: str, output: str | None, allow_missing: bool, check: bool
) -> None:
    """Render the standard delivery README of MODEL from its run records."""
    result = api.render_docs(model, workdir, lang, output, allow_missing, check)
    if check:
        if result.changed:
            click.echo(
                f"{result.path} differs from what the records give now: run `zoo render-docs {model}"
                f"{' --lang ' + lang if lang != 'zh' else ''}`",
                err=True,
            )
            sys.exit(1)
        click.echo(f"{result.path} is up to date")
        return
    state = "written" if result.changed else "unchanged"
    click.echo(
        f"{result.path} {state}"
        + (f"; not yet measured: {', '.join(result.missing)}" if result.missing else "")
        + "".join(f"; {p.name}" for p in result.files)
    )


@cli.command("check")
@click.argument("model")
@click.option("--workdir", type=click.Path(file_okay=False), help="Work directory [default: runs/MODEL].")
@click.option("--select", "selected", default="", help="Comma-separated rule ids or prefixes (META,DOC-004).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check_command(model: str, workdir: str | None, selected: str, as_json: bool) -> None:
    """Validate the release checklist of MODEL; exit 1 when a rule of severity error fails."""
    results = api.check(model, workdir, [s.strip() for s in selected.split(",") if s.strip()])
    findings = [f for r in results for f in r.findings]
    errors = sum(f.severity == "error" for f in findings)
    if as_json:
        _json([f.as_dict() for f in findings])
    else:
        _echo(report.check_lines(results))
    if errors:
        sys.exit(1)


@cli.command("package")
@click.argument("model")
@click.option("--output", required=True, type=click.Path(file_okay=False), help="Folder of the bundle.")
@click.option("--workdir", type=click.Path(file_okay=False), help="Work directory [default: runs/MODEL].")
@click.option("--force", is_flag=True, help="Replace a previous bundle in --output (nothing else is ever removed).")
def package_command(model: str, output: str, workdir: str | None, force: bool) -> None:
    """Assemble the delivery bundle of MODEL (refused while `zoo check` has errors)."""
    manifest = api.package(model, output, workdir, force)
    click.echo(f"delivery bundle written to {output}; manifest {manifest}")


@cli.command()
@click.argument("what", type=click.Choice(["metadata", "record"]), default="metadata")
def schema(what: str) -> None:
    """Print the JSON Schema of model metadata (default) or of a run record."""
    _json(metadata_json_schema() if what == "metadata" else RunRecord.model_json_schema())


def main(argv: list[str] | None = None) -> None:
    """The ``zoo`` command. On a real command line (``argv`` None) SIGINT and SIGTERM are set up first, before any
    library starts a thread (``zoo_core.interrupts``)."""
    if argv is None:
        interrupts.install()
        for stream in (sys.stdout, sys.stderr):  # whole lines at once, also into a file or a pipe: a process a
            if hasattr(stream, "reconfigure"):  # library forks cannot write a copy of a half-full buffer
                stream.reconfigure(line_buffering=True)
    try:
        code = cli.main(args=argv, prog_name="zoo", standalone_mode=False)
    except click.exceptions.Abort as exc:
        name = interrupts.signal_name(exc.__cause__) if exc.__cause__ else "SIGINT"
        click.echo(f"zoo: interrupted by {name}", err=True)
        sys.exit(getattr(exc.__cause__, "exit_code", 130))
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ZooError as exc:
        click.echo(f"zoo: {exc.prefix}: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        click.echo(f"zoo: error: {DiskFull(exc.filename or '.')}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
