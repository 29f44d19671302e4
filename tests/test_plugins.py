# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from zoo_core import ModelSpec, ZooError, hookimpl, load_metadata
from zoo_core.model import STAGES
from zoo_core.plugin.manager import PluginManager, default_manager
from zoo_core.records import RecordStore
from zoo_mcnn.config import PRESETS, McnnConfig
from zoo_mcnn.plugin import METRICS as MCNN_METRICS
from zoo_mcnn.plugin import zoo_register_models as mcnn_register


def install_fake_distribution(root: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A distribution on sys.path with entry points in the 'zoo.plugins' group, as pip would install it."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"  # as pip names it
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[zoo.plugins]\n{lines}\n")
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))


def spec_named(name: str) -> ModelSpec:
    metadata = load_metadata(Path(__file__).parents[1] / "plugins" / "mcnn" / "metadata.yaml")
    return ModelSpec(
        name=name, metadata=metadata, config_cls=McnnConfig, presets=PRESETS, stages={}, metrics=MCNN_METRICS
    )


def test_mcnn_is_discovered_through_the_entry_point_group():
    manager = default_manager()
    assert "mcnn" in manager.models()
    assert manager.owner("mcnn") == "mcnn (distribution 'zoo')"
    assert manager.get("mcnn").implemented == list(STAGES)
    assert set(manager.converters()) == {"atc-onnx", "atc-air", "converter-lite", "onnx-optimize", "onnx-fp16"}


def test_broken_plugin_is_reported_with_its_distribution_and_skipped(tmp_path, monkeypatch):
    install_fake_distribution(
        tmp_path,
        "zoo-broken",
        {"broken": "zoo_broken_plugin"},
        {"zoo_broken_plugin": "raise RuntimeError('boom at import')\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("ZOO_STRICT_PLUGINS", raising=False)
    warnings: list[str] = []
    manager = PluginManager(warn=warnings.append)
    manager.load_entry_points()
    assert "mcnn" in manager.models()
    assert len(warnings) == 1
    assert "plugin 'broken' from distribution 'zoo-broken' was skipped: RuntimeError: boom at import" in warnings[0]
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(ZooError, match="zoo-broken.*ZOO_STRICT_PLUGINS is set"):
        PluginManager(warn=warnings.append).load_entry_points()


def test_broken_plugin_does_not_break_the_cli(tmp_path, monkeypatch, cli):
    install_fake_distribution(tmp_path, "zoo-broken", {"broken": "zoo_missing_module"}, {})
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = cli("list")
    assert code == 0 and "mcnn" in out
    assert "distribution 'zoo-broken' was skipped: ModuleNotFoundError" in err


def test_two_plugins_claiming_one_name_is_an_error_naming_both(tmp_path, monkeypatch):
    install_fake_distribution(
        tmp_path,
        "zoo-copycat",
        {"copycat": "zoo_copycat_plugin"},
        {
            "zoo_copycat_plugin": """
        from zoo_core import hookimpl
        from tests.test_plugins import spec_named

        @hookimpl
        def zoo_register_models(register):
            register(spec_named("mcnn"))
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ZooError) as info:
        default_manager().models()
    message = str(info.value)
    assert "model 'mcnn' is registered twice" in message
    assert "distribution 'zoo'" in message and "distribution 'zoo-copycat'" in message


def test_invalid_model_is_skipped_with_a_warning():
    warnings: list[str] = []
    manager = PluginManager(warn=warnings.append)

    class Bad:
        @hookimpl
        def zoo_register_models(self, register):
            register(spec_named("Not A Name"))

    class NotASpec:
        @hookimpl
        def zoo_register_models(self, register):
            register({"name": "dict"})

    manager.register(Bad(), "bad")
    manager.register(NotASpec(), "notaspec")
    manager.register(__import__("zoo_mcnn.plugin", fromlist=["x"]), "mcnn")
    assert list(manager.models()) == ["mcnn"]
    assert any("'bad'" in w and "name must be lower-case" in w for w in warnings)
    assert any("'notaspec'" in w and "expected ModelSpec" in w for w in warnings)


def test_stage_finished_hook_sees_every_record(tmp_path, cli, monkeypatch):
    seen = []

    class Observer:
        @hookimpl
        def zoo_stage_finished(self, record):
            seen.append((record.stage, record.status))

    original = PluginManager.load_entry_points

    def load_with_observer(self):
        original(self)
        self.register(Observer(), "observer")

    monkeypatch.setattr(PluginManager, "load_entry_points", load_with_observer)
    code, _, _ = cli("run", "mcnn", "--stage", "dataset", "--preset", "smoke", "--workdir", str(tmp_path / "w"))
    assert code == 0
    assert seen == [("dataset", "ok")]
    code, _, _ = cli(
        "run", "mcnn", "--stage", "dataset", "--data", str(tmp_path / "nope"), "--workdir", str(tmp_path / "w")
    )
    assert code == 1
    assert seen[-1] == ("dataset", "failed")


def test_mcnn_registers_one_spec():
    registered = []
    mcnn_register(registered.append)
    assert [spec.name for spec in registered] == ["mcnn"]


def test_plugins_add_converters_and_duplicates_name_both():
    from zoo_core import Conversion, Converter

    def make(name):
        def run(job):
            return Conversion(converter=name, status="ok")

        class Plugin:
            @hookimpl
            def zoo_register_converters(self, register):
                register(Converter(name, "onnx", "txt", None, "test converter", run))

        return Plugin()

    manager = PluginManager(warn=lambda message: None)
    manager.register(make("onnx-to-text"), "texter", "zoo-texter")
    assert manager.converters()["onnx-to-text"].target_format == "txt"
    assert "onnx-fp16" in manager.converters()
    manager.register(make("onnx-fp16"), "copycat", "zoo-copycat")
    with pytest.raises(
        ZooError,
        match="converter 'onnx-fp16' is registered twice: by zoo-converters "
        "\\(distribution 'zoo'\\) and by copycat \\(distribution 'zoo-copycat'\\)",
    ):
        manager.converters()


def test_wrong_hook_signature_is_skipped_with_a_warning(tmp_path, monkeypatch, cli):
    install_fake_distribution(
        tmp_path,
        "zoo-badsig",
        {"badsig": "zoo_badsig_plugin"},
        {
            "zoo_badsig_plugin": """
        from zoo_core import hookimpl

        @hookimpl
        def zoo_register_models(register, colour):
            pass
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = cli("list")
    assert code == 0 and "mcnn" in out
    assert "plugin 'badsig' from distribution 'zoo-badsig' was skipped: PluginValidationError" in err
    assert "colour" in err


def test_invalid_model_from_a_distribution_is_skipped(tmp_path, monkeypatch, cli):
    install_fake_distribution(
        tmp_path,
        "zoo-badmeta",
        {"badmeta": "zoo_badmeta_plugin"},
        {
            "zoo_badmeta_plugin": """
        from pathlib import Path
        from zoo_core import ModelSpec, hookimpl, load_metadata

        @hookimpl
        def zoo_register_models(register):
            path = Path(__file__).with_name("badmeta.yaml")
            path.write_text("publisher: ''\\n")
            register(ModelSpec(name="badmeta", metadata=load_metadata(path), config_cls=None, presets={},
                               stages={}))
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = cli("list", "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)["models"]] == ["mcnn"]
    assert "'badmeta' from distribution 'zoo-badmeta' was skipped" in err and "publisher" in err
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    code, _, err = cli("list")
    assert code == 1 and "ZOO_STRICT_PLUGINS is set" in err


def test_stage_raising_mid_run_fails_that_run_only(tmp_path, monkeypatch, cli):
    install_fake_distribution(
        tmp_path,
        "zoo-crashy",
        {"crashy": "zoo_crashy_plugin"},
        {
            "zoo_crashy_plugin": """
        from zoo_core import hookimpl
        from tests.test_plugins import spec_named

        def boom(ctx):
            ctx.log.info("half way")
            raise RuntimeError("stage exploded")

        @hookimpl
        def zoo_register_models(register):
            spec = spec_named("crashy")
            register(type(spec)(**{**spec.__dict__, "stages": {"train": boom}}))
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = cli("run", "crashy", "--stage", "train", "--workdir", str(tmp_path / "w"))
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "train failed with an internal error: RuntimeError: stage exploded (traceback in" in err
    record = RecordStore(tmp_path / "w").latest("train", "failed")
    assert "Traceback" in (tmp_path / "w" / record.log).read_text()
    code, out, _ = cli("list")
    assert code == 0 and "crashy" in out and "mcnn" in out


def test_disabled_plugins_and_api_versions(tmp_path, monkeypatch, cli):
    install_fake_distribution(
        tmp_path,
        "zoo-future",
        {"future": "zoo_future_plugin"},
        {
            "zoo_future_plugin": """
        ZOO_API_VERSION = 3
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, _, err = cli("list")
    assert code == 0
    assert (
        "'future' from distribution 'zoo-future' was skipped: written for zoo plugin API 3, this zoo provides "
        "API 2" in err
    )
    monkeypatch.setenv("ZOO_DISABLE_PLUGINS", "mcnn, zoo-future")
    code, out, err = cli("plugins", "--json")
    data = json.loads(out)
    assert {d["name"] for d in data["disabled"]} == {"mcnn", "future"} and err == ""
    assert "mcnn" not in {p["name"] for p in data["plugins"]}
    code, _, err = cli("run", "mcnn", "--stage", "train")
    assert code == 2 and "unknown model 'mcnn'" in err


def test_zoo_plugins_lists_distribution_models_and_hooks(cli):
    code, out, _ = cli("plugins", "--json")
    rows = {p["name"]: p for p in json.loads(out)["plugins"]}
    assert rows["mcnn"]["distribution"] == "zoo" and rows["mcnn"]["models"] == ["mcnn"]
    assert rows["mcnn"]["hooks"] == ["zoo_register_models"]  # its doc templates come with its spec
    assert rows["zoo-checks"]["hooks"] == ["zoo_register_checks"]


def test_mcnn_uses_only_the_public_api():
    public = {"zoo_core", "zoo_core.plugin", "zoo_core.testing"}
    import ast

    for path in (Path(__file__).parents[1] / "plugins" / "mcnn").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zoo_core"):
                assert node.module in public, f"{path.name} imports {node.module}"
            if isinstance(node, ast.Import):
                assert not [a.name for a in node.names if a.name.startswith("zoo_core.")], path.name


@pytest.mark.parametrize(
    "names, disabled", [("MCNN", {"mcnn"}), ("zoo", {"mcnn"}), (" Zoo_Future ,mcnn", {"mcnn", "future"})]
)
def test_disable_plugins_takes_the_names_zoo_plugins_prints_in_any_case(tmp_path, monkeypatch, cli, names, disabled):
    install_fake_distribution(
        tmp_path,
        "zoo-future",
        {"future": "zoo_future_plugin"},
        {
            "zoo_future_plugin": """
        ZOO_API_VERSION = 3
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ZOO_DISABLE_PLUGINS", names)
    code, out, err = cli("plugins", "--json")
    assert code == 0 and {d["name"] for d in json.loads(out)["disabled"]} == disabled
    assert "ZOO_DISABLE_PLUGINS names" not in err


def test_disable_plugins_warns_about_names_that_match_nothing(monkeypatch, cli):
    monkeypatch.setenv("ZOO_DISABLE_PLUGINS", "mcnn,mcnn2,zoo-checks")
    code, out, err = cli("list")
    assert code == 0 and "mcnn " not in out
    assert (
        "zoo: warning: ZOO_DISABLE_PLUGINS names 'mcnn2', which matches no installed plugin or distribution "
        "(installed: "
    ) in err and "mcnn (zoo)" in err
    assert "ZOO_DISABLE_PLUGINS names 'zoo-checks', a part of zoo itself, which cannot be disabled" in err
