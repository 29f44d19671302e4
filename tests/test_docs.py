# SPDX-License-Identifier: Apache-2.0
"""render-docs, the release checklist and package, on records of a smoke run of every stage."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_plugins import install_fake_distribution
from zoo_core import ZooError, api
from zoo_core.checks import CheckContext, run_checks
from zoo_core.docs.markdown import broken_anchors
from zoo_core.docs.render import MISSING, DocTemplates, render
from zoo_core.io import sha256_file
from zoo_core.plugin.manager import default_manager
from zoo_core.records import RecordStore

ZH_SECTIONS = [
    "交付件基本信息",
    "概述",
    "训练环境准备",
    "快速上手",
    "迁移学习指导",
    "高级参考",
    "模型导出、转换与推理",
    "性能",
    "随机情况说明",
]
EN_SECTIONS = [
    "Delivery Basic Information",
    "Overview",
    "Training Environment Preparation",
    "Quick Start",
    "Transfer Learning Guide",
    "Advanced Reference",
    "Export, Conversion and Inference",
    "Performance",
    "Description of Random Situation",
]


def readme(workdir: Path, lang: str = "zh") -> str:
    return (workdir / "docs" / ("README.md" if lang == "zh" else "README_en.md")).read_text(encoding="utf-8")


def field(text: str, label: str) -> str:
    return re.search(rf"^\*\*[^*]*{re.escape(label)}[^*]*\*\*(?:：|: )(.*)$", text, re.M).group(1)


def row(text: str, label: str) -> str:
    return re.search(rf"^\| {re.escape(label)} \| (.*) \|$", text, re.M).group(1)


@pytest.mark.parametrize("lang, sections", [("zh", ZH_SECTIONS), ("en", EN_SECTIONS)])
def test_sections_in_the_standard_order(delivered, lang, sections):
    text = readme(delivered, lang)
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")][: len(sections)] == sections
    assert broken_anchors(text) == []
    for name in ("basic_info", "overview", "performance", "random"):
        assert f"<!-- zoo:begin {name} -->" in text and f"<!-- zoo:end {name} -->" in text


def test_basic_information_comes_from_metadata_and_artifacts(delivered):
    text = readme(delivered, "en")
    records = {r.stage: r for r in RecordStore(delivered).all()}
    ckpt = (delivered / records["train"].result.best_checkpoint).stat().st_size
    assert field(text, "Size").startswith(f"{round(ckpt / 1024)}K (ckpt)/")
    assert field(text, "Model Format") == "ckpt/mindir/onnx"
    assert field(text, "Framework") == f"MindSpore {records['train'].environment.packages['mindspore']}"
    assert field(text, "Application Domain") == "Crowd Counting"
    assert field(text, "Version") == "1.1" and field(text, "Categories") == "Research"


def test_tables_hold_the_recorded_numbers(delivered):
    text = readme(delivered, "en")
    records = {r.stage: r for r in RecordStore(delivered).all()}
    train, evaluation = records["train"].result, records["eval"].result
    assert row(text, "Speed") == f"{train.ms_per_step} ms/step (1pcs)"
    assert row(text, "Parameters (M)") == "0.128"
    assert row(text, "Optimizer") == "Adam"
    assert row(text, "Accuracy") == f"MAE {evaluation.scores['mae']:.4g}, MSE {evaluation.scores['mse']:.4g}"
    best = train.history[train.best_epoch - 1].metrics["mae"]
    assert row(text, "Best epoch") == f"{train.best_epoch} (MAE {best:.4g})"
    assert f"| Speed (onnxruntime) | {records['infer'].result.seconds_per_sample} s/sample" in text
    assert "| atc-onnx | needs_tool | atc --model=" in text
    assert "Train epoch: [2/2]" in text and "Test epoch: 2" in text  # the real training log
    assert "![training loss and validation metrics per epoch: MAE, MSE](training.png)" in text
    assert (delivered / "docs" / "training.png").read_bytes()[:4] == b"\x89PNG"
    assert (delivered / "docs" / "inference_example.png").read_bytes()[:4] == b"\x89PNG"


def test_markdownlint_passes(delivered):
    """The delivered READMEs and this repository's own Markdown."""
    if shutil.which("markdownlint") is None:
        pytest.skip("markdownlint-cli is not installed (CI installs it: npm install -g markdownlint-cli)")
    root = Path(__file__).parents[1]
    own = [root / "README.md", root / "benchmarks" / "README.md", *sorted((root / "docs").glob("*.md"))]
    result = subprocess.run(
        [
            "markdownlint",
            "--config",
            str(root / ".markdownlint.json"),
            str(delivered / "docs" / "README.md"),
            str(delivered / "docs" / "README_en.md"),
            *map(str, own),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hostile_metadata_is_inert(copy):
    spec = default_manager().get("mcnn")
    meta = spec.metadata.model_copy(update={"publisher": "A | B <script>alert(1)</script> {{ 7 * 7 }}"})
    hostile = dataclasses.replace(spec, metadata=meta)
    text = render(hostile, copy, "en", allow_missing=True, write=False).text
    line = next(row for row in text.splitlines() if row.startswith("**Publisher**"))
    assert line == "**Publisher**: A \\| B &lt;script&gt;alert(1)&lt;/script&gt; &#123;&#123; 7 * 7 &#125;&#125;"
    assert "49" not in line


def test_missing_records_name_the_stage_or_are_marked(tmp_path, cli):
    workdir = tmp_path / "w"
    api.run("mcnn", "dataset", preset="smoke", workdir=workdir, quiet=True)
    code, _, err = cli("render-docs", "mcnn", "--workdir", str(workdir))
    assert code == 1 and "needs records of stage(s)" in err and "`zoo run mcnn --stage train`" in err
    assert not (workdir / "docs" / "README.md").exists()
    code, out, _ = cli("render-docs", "mcnn", "--workdir", str(workdir), "--allow-missing")
    assert code == 0 and "not yet measured: " in out
    assert f"*{MISSING}: run `zoo run mcnn --stage train`*" in readme(workdir)
    code, out, _ = cli("check", "mcnn", "--workdir", str(workdir), "--select", "DOC-003")
    assert code == 1 and "placeholder 'not yet measured'" in out


def test_hand_written_text_survives_and_check_detects_drift(copy, cli):
    path = copy / "docs" / "README.md"
    text = path.read_text(encoding="utf-8")
    speed = row(text, "速度")
    edited = text.replace("<!-- zoo:begin random -->", "## 致谢\n\n手写的致谢。\n\n<!-- zoo:begin random -->")
    edited = edited.replace(f"| 速度 | {speed} |", "| 速度 | 1.5 ms/step (1pcs) |")
    path.write_text(edited, encoding="utf-8")
    code, _, err = cli("render-docs", "mcnn", "--workdir", str(copy), "--check")
    assert code == 1 and "differs from what the records give now" in err
    assert cli("render-docs", "mcnn", "--workdir", str(copy))[0] == 0
    again = path.read_text(encoding="utf-8")
    assert "## 致谢\n\n手写的致谢。" in again and f"| 速度 | {speed} |" in again
    assert cli("render-docs", "mcnn", "--workdir", str(copy), "--check")[0] == 0


def test_plugin_templates_override_and_add_sections(copy, tmp_path):
    folder = tmp_path / "tpl" / "sections"
    folder.mkdir(parents=True)
    (folder / "environment.md.j2").write_text("## {{ T.environment }}\n\nOur own cluster.\n")
    (folder / "faq.md.j2").write_text("## FAQ\n\nAsk {{ meta.publisher }}.\n")
    spec = default_manager().get("mcnn")
    text = render(
        spec, copy, "en", tmp_path / "new.md", extra=[DocTemplates(tmp_path / "tpl", ("faq",))], write=False
    ).text
    headings = [row[3:] for row in text.splitlines() if row.startswith("## ")]
    assert headings[-2:] == ["FAQ", "Description of Random Situation"] and "Our own cluster." in text
    assert "MCNN has three columns" not in text  # only the given folders: MCNN's own override is not passed here
    (folder / "faq.md.j2").write_text("## FAQ\n\n{{ no_such_value }}\n")
    with pytest.raises(
        ZooError,
        match=r"delivery template .*faq\.md\.j2, line 3 \(in `\{\{ no_such_value \}\}`\): "
        r"'no_such_value' is undefined",
    ):
        render(spec, copy, "en", extra=[DocTemplates(tmp_path / "tpl", ("faq",))], write=False)


def test_clean_delivery_passes_every_rule(delivered, cli):
    code, out, _ = cli("check", "mcnn", "--workdir", str(delivered))
    assert code == 0, out
    assert "✗" not in out and "0 error(s), 0 warning(s)" in out
    code, out, _ = cli("check", "mcnn", "--workdir", str(delivered), "--json")
    assert code == 0 and json.loads(out) == []


def _edit(workdir: Path, old: str, new: str, lang: str = "zh") -> None:
    path = workdir / "docs" / ("README.md" if lang == "zh" else "README_en.md")
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _source(workdir: Path, name: str, content: str) -> dict:
    plugin = workdir.parent / "plugin_src"
    if not plugin.exists():
        shutil.copytree(
            Path(__file__).parents[1] / "plugins" / "mcnn", plugin, ignore=shutil.ignore_patterns("__pycache__")
        )
    (plugin / name).write_text(content)
    return {"source_dir": plugin}


def _first_artifact(workdir: Path) -> None:
    record = RecordStore(workdir).latest("export")
    path = workdir / record.result.file("onnx").path
    path.write_bytes(path.read_bytes() + b"tampered")


CASES = {
    "META-001": lambda w: _edit(w, "**版本（Version）**：1.1", "**版本（Version）**：1.1.1"),
    "META-002": lambda w: _edit(w, "**修改时间（Modified）**：2026.11.22", "**修改时间（Modified）**：2026-11-22"),
    "META-003": lambda w: _edit(w, "**大小（Size）**：", "**大小（Size）**：999K (om)/"),
    "META-004": lambda w: _edit(w, "**框架（Framework）**：MindSpore 2", "**框架（Framework）**：MindSpore latest 2"),
    "META-005": lambda w: _edit(w, "**模型格式（Model Format）**：ckpt", "**模型格式（Model Format）**：om/ckpt"),
    "META-006": lambda w: _edit(w, "**精度（Precision）**：FP32", "**精度（Precision）**：FP64"),
    "META-007": lambda w: _edit(w, "**处理器（Processor）**：CPU", "**处理器（Processor）**：TPU"),
    "META-008": lambda w: _edit(w, "**应用级别（Categories）**：Research", "**应用级别（Categories）**：Great"),
    "META-009": lambda w: _edit(w, "**描述（Description）**：", "**描述（Description）**：Two. Sentences. "),
    "META-010": lambda w: _edit(w, "commit_id=9d05d30c", "commit_id=9d05"),
    "CAT-001": lambda w: {"category": "Official"},
    "ART-001": _first_artifact,
    "DOC-001": lambda w: [(w / "docs" / n).unlink() for n in ("README.md", "README_en.md")],
    "DOC-002": lambda w: _edit(w, "## 随机情况说明", "## 其他"),
    "DOC-003": lambda w: _edit(w, "## 随机情况说明", "## 随机情况说明\n\nXXX"),
    "DOC-004": lambda w: _edit(w, "| 参数量（M） | 0.128 |", "| 参数量（M） | 0.256 |"),
    "DOC-005": lambda w: _edit(w, "### 数据集", "### 数据集\n\n改动"),
    "DOC-006": lambda w: _edit(w, "## 随机情况说明", "## 随机情况说明\n\n[见此](#nowhere)"),
    "DOC-007": lambda w: _edit(w, "zoo run mcnn --stage train --resume", "zoo run mcnn --stage train --set lr0=0.1"),
    "SRC-001": lambda w: _source(w, "leftover.onnx", "binary"),
    "SRC-002": lambda w: _source(w, "helper.py", '"""No header."""\n'),
    "SRC-003": lambda w: _source(w, "paths.py", "# SPDX-License-Identifier: Apache-2.0\nDATA = '/home/alice/data'\n"),
    "SRC-004": lambda w: _source(w, "urls.py", "# SPDX-License-Identifier: Apache-2.0\nURL = 'http://10.1.2.3/x'\n"),
    "SRC-005": lambda w: _source(w, "keys.py", "# SPDX-License-Identifier: Apache-2.0\npassword = 'hunter2'\n"),
    "SRC-006": lambda w: _source(
        w, "run.sh", "#!/bin/bash\n# SPDX-License-Identifier: Apache-2.0\nexport LD_LIBRARY_PATH=/opt/x\n"
    ),
}


def test_every_builtin_rule_has_a_failing_case():
    assert set(CASES) == set(default_manager().rules())


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fails_on_its_case_and_passes_on_the_clean_delivery(rule_id, delivered, copy):
    manager = default_manager()
    spec = manager.get("mcnn")
    rule = manager.rules()[rule_id]

    def findings(workdir: Path, model) -> list:
        readmes = {
            lang: workdir / "docs" / name
            for lang, name in (("zh", "README.md"), ("en", "README_en.md"))
            if (workdir / "docs" / name).is_file()
        }
        ctx = CheckContext(model, workdir, readmes, manager.doc_templates(model))
        return run_checks(ctx, [rule])[0].findings

    assert findings(delivered, spec) == []
    change = CASES[rule_id](copy)
    model = spec
    if isinstance(change, dict):
        meta_changes = {k: v for k, v in change.items() if k != "source_dir"}
        model = dataclasses.replace(
            spec,
            metadata=spec.metadata.model_copy(update=meta_changes),
            source_dir=change.get("source_dir", spec.source_dir),
        )
    found = findings(copy, model)
    assert found and all(f.rule == rule_id and f.fix for f in found), found


def test_third_party_rule_appears_in_zoo_check(delivered, tmp_path, monkeypatch, cli):
    install_fake_distribution(
        tmp_path,
        "zoo-house-rules",
        {"house": "zoo_house_rules"},
        {
            "zoo_house_rules": """
        from zoo_core.checks import Rule
        from zoo_core.plugin import hookimpl

        def needs_faq(ctx):
            return [("no FAQ section", str(path), None) for path in ctx.readmes.values()
                    if "## FAQ" not in path.read_text(encoding="utf-8")]

        @hookimpl
        def zoo_register_checks(register):
            register(Rule("HOUSE-001", "warning", "README has an FAQ", "add an FAQ section", needs_faq, scope="all"))
            register(Rule("HOUSE-002", "error", "the house's own models only", "-", lambda ctx: [("x", "", None)]))
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = cli("check", "mcnn", "--workdir", str(delivered))
    assert code == 0  # a warning does not fail the check
    assert "✗ HOUSE-001 warning  README has an FAQ" in out and "no FAQ section" in out
    assert "HOUSE-002" not in out  # a plugin's rule judges its own models only, unless registered for all
    code, out, _ = cli("check", "mcnn", "--workdir", str(delivered), "--select", "HOUSE", "--json")
    assert {f["rule"] for f in json.loads(out)} == {"HOUSE-001"}


def test_package_refuses_a_failing_delivery_and_writes_a_verifiable_manifest(delivered, copy, tmp_path, cli):
    _edit(copy, "| 参数量（M） | 0.128 |", "| 参数量（M） | 0.256 |")
    code, _, err = cli("package", "mcnn", "--workdir", str(copy), "--output", str(tmp_path / "bad"))
    assert code == 1 and "has errors (DOC-004, DOC-005)" in err and not (tmp_path / "bad").exists()
    code, out, err = cli("package", "mcnn", "--workdir", str(delivered), "--output", str(tmp_path / "bundle"))
    assert code == 0, err
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    paths = {f["path"] for f in manifest["files"]}
    assert {
        "README.md",
        "README_en.md",
        "training.png",
        "models/best.ckpt",
        "models/mcnn.onnx",
        "models/mcnn.mindir",
        "infer/convert/convert_om.sh",
        "infer/sdk/mcnn.pipeline",
    } <= paths
    assert sum(p.startswith("records/") for p in paths) == 7
    for entry in manifest["files"]:
        assert sha256_file(tmp_path / "bundle" / entry["path"]) == entry["sha256"]


@pytest.mark.parametrize(
    "command, problem",
    [
        ("zoo run mcnn --stage train --resume --set epochs=20", None),
        ("zoo run mcnn --stage all --data /path/to/data --preset demo", None),
        ("zoo run crnn --stage train --set alphabet=x", None),  # another model's command
        ("zoo run mcnn --stage train --set lr0=0.1", "--set lr0: 'mcnn' has no such setting"),
        ("zoo run mcnn --stage trian", "unknown stage 'trian' (did you mean 'train'?"),
        ("zoo run mcnn --stage train --preset tiny", "--preset tiny: 'mcnn' has no such preset"),
        ("zoo run mcnn --stage train --fast", "'--fast' is not an option of zoo run"),
        ("zoo run mcnn --set epochs=2", "has no --stage"),
        ("zoo run mcnn --stage 'train", "cannot be read as a shell command"),
    ],
)
def test_readme_commands_are_checked_against_the_model(command, problem):
    from zoo_core.checks.commands import command_problem

    ctx = CheckContext(default_manager().get("mcnn"), Path("."), {})
    found = command_problem(ctx, command)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_readme_commands_take_only_options_zoo_run_has():
    from zoo_core.checks.commands import RUN_OPTIONS
    from zoo_core.cli import run

    options = {name: not param.is_flag for param in run.params for name in param.opts if name.startswith("--")}
    assert options == RUN_OPTIONS


def test_a_broken_plugin_never_fails_another_model(delivered, copy, tmp_path, monkeypatch, cli):
    """A plugin whose zoo_doc_templates raises, and whose rule for every model raises: MCNN's README renders and
    its check passes, each with one warning naming that plugin."""
    install_fake_distribution(
        tmp_path,
        "zoo-clumsy",
        {"clumsy": "zoo_clumsy"},
        {
            "zoo_clumsy": """
        from zoo_core.checks import Rule
        from zoo_core.plugin import hookimpl

        @hookimpl
        def zoo_doc_templates(model):
            raise KeyError("classes")

        @hookimpl
        def zoo_register_checks(register):
            register(Rule("CLUMSY-001", "error", "counts classes", "-", lambda ctx: ctx.no_such_field, scope="all"))
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = cli("render-docs", "mcnn", "--lang", "en", "--workdir", str(copy))
    assert code == 0, err
    assert "plugin 'clumsy'" in err and "zoo-clumsy" in err and "zoo_doc_templates" in err and "Traceback" not in err
    rendered = (copy / "docs" / "README_en.md").read_text().replace(str(copy), str(delivered))
    assert rendered == (delivered / "docs" / "README_en.md").read_text()  # the broken plugin changed nothing
    code, out, err = cli("check", "mcnn", "--workdir", str(delivered), "--json")
    assert code == 0, out + err
    [finding] = [f for f in json.loads(out) if f["rule"] == "CLUMSY-001"]
    assert finding["severity"] == "warning"
    assert "the rule of plugin clumsy (distribution 'zoo-clumsy')" in finding["message"]
    assert "crashed (AttributeError" in finding["message"]
