# SPDX-License-Identifier: Apache-2.0
"""Release-checklist rules about a plugin's source delivery: junk and large files, license headers, personal
paths, IP URLs, secrets, and entry scripts that set up the environment."""

from __future__ import annotations

import re

from . import CheckContext, Problems, Rule

JUNK = (
    ".log",
    ".pb",
    ".h5",
    ".so",
    ".zip",
    ".tar",
    ".tar.gz",
    ".swp",
    ".ipynb",
    ".pyc",
    ".bin",
    ".pth",
    ".onnx",
    ".npy",
    ".om",
    ".pkl",
    ".pt",
    ".mat",
    ".tfrecord",
    ".air",
    ".mindir",
    ".ckpt",
)
SECRET = re.compile(
    r"(password|passwd|secret|api[_-]?key|access[_-]?key)\s*[:=]\s*['\"][^'\"]+['\"]"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----",
    re.I,
)
PERSONAL = re.compile(r"/home/(?!runner\b)[a-z_][\w.-]*/|/Users/[A-Za-z][\w.-]*/|[A-Z]:\\Users\\")
IP_URL = re.compile(r"\b(?:https?|ftp)://\d{1,3}(?:\.\d{1,3}){3}")
EXPORTS = re.compile(r"^\s*export\s+(PATH|LD_LIBRARY_PATH|PYTHONPATH|LD_PRELOAD|ASCEND_[A-Z_]*)=", re.M)


def junk_files(ctx: CheckContext) -> Problems:
    problems: Problems = []
    for path in ctx.spec.source_files():
        if path.stat().st_size >= 2 * 2**20:
            problems.append(
                (f"{path.stat().st_size / 2**20:.1f} MiB: no file of 2 MiB or more in a delivery", str(path), None)
            )
        if path.name.endswith(JUNK) or "events.out." in path.name or "kernel_meta" in path.parts:
            problems.append(("run output or binary in the source delivery", str(path), None))
    return problems


def license_headers(ctx: CheckContext) -> Problems:
    problems: Problems = []
    for path in ctx.spec.source_files():
        if path.suffix in (".py", ".sh"):
            head = "\n".join(path.read_text(encoding="utf-8").splitlines()[:5])
            if "SPDX-License-Identifier" not in head and "Apache License" not in head:
                problems.append(("no license header in the first 5 lines", str(path), 1))
    return problems


def scan(ctx: CheckContext, pattern: re.Pattern, what: str) -> Problems:
    problems: Problems = []
    targets = [p for p in ctx.spec.source_files() if p.suffix in (".py", ".sh", ".yaml", ".yml", ".md", ".j2", ".json")]
    for path in targets + list(ctx.readmes.values()):
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if pattern.search(line):
                problems.append((f"{what}: {line.strip()[:80]}", str(path), n))
    return problems


def entry_scripts(ctx: CheckContext) -> Problems:
    scripts = [p for p in ctx.spec.source_files() if p.suffix == ".sh"]
    scripts += sorted((ctx.workdir / "convert" / "infer").rglob("*.sh"))
    return [
        (
            f"entry script exports {m.group(1)}; put environment set-up in the README",
            str(path),
            path.read_text(encoding="utf-8")[: m.start()].count("\n") + 1,
        )
        for path in scripts
        for m in EXPORTS.finditer(path.read_text(encoding="utf-8"))
    ]


RULES = [
    Rule("SRC-001", "error", "no junk or files >= 2 MiB in the plugin", "remove run outputs and binaries", junk_files),
    Rule(
        "SRC-002",
        "error",
        "license header in every source file",
        "add '# SPDX-License-Identifier: Apache-2.0'",
        license_headers,
    ),
    Rule(
        "SRC-003",
        "error",
        "no personal paths",
        "use relative paths or placeholders",
        lambda ctx: scan(ctx, PERSONAL, "personal path"),
    ),
    Rule(
        "SRC-004",
        "error",
        "no IP-address URLs",
        "use host names documented in the README",
        lambda ctx: scan(ctx, IP_URL, "IP URL"),
    ),
    Rule(
        "SRC-005",
        "error",
        "no secrets",
        "remove the secret; read it from the environment",
        lambda ctx: scan(ctx, SECRET, "secret"),
    ),
    Rule(
        "SRC-006",
        "error",
        "entry scripts do not export PATH-like variables",
        "move set-up to the README",
        entry_scripts,
    ),
]
