"""Follow docs/plugin-guide.md literally: write its files into an empty folder, install, validate, use."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import DEV

GUIDE = DEV.ROOT / "docs" / "plugin-guide.md"


def guide_files() -> dict[str, str]:
    """Every fenced block of the guide whose first line is `# file: PATH`."""
    files = {}
    for block in re.findall(r"```[a-z]*\n(.*?)```", GUIDE.read_text(), flags=re.S):
        first, _, rest = block.partition("\n")
        match = re.fullmatch(r"# file: (\S+)", first.strip())
        if match:
            files[match.group(1)] = block
    return files


def test_guide_has_the_files_it_promises():
    assert set(guide_files()) == {
        "pyproject.toml",
        "src/action_mynet/__init__.py",
        "src/action_mynet/plugin.py",
        "src/action_mynet/models.py",
        "tests/test_conformance.py",
    }


def test_following_the_guide_gives_a_valid_plugin(tmp_path: Path, make_venv):
    project = tmp_path / "action-mynet"
    for rel, text in guide_files().items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    venv = make_venv()
    venv.install("action-core", "action-testkit", "pytest", f"{project}[test]")
    assert "mynet  action-mynet 0.1.0  not loaded" in venv.run("action-run", "plugins").stdout
    report = venv.run("action-run", "plugins", "validate", "mynet").stdout
    assert report.strip().endswith("valid") and "FAIL" not in report, report
    models = venv.run("action-run", "list", "models").stdout
    rows = [" ".join(line.split()) for line in models.splitlines()]
    assert "mynet_small [mynet] MyNet, 2 stages" in rows, models
    tests = venv.run("python", "-m", "pytest", str(project / "tests"), "-q", "-p", "no:cacheprovider")
    assert "1 passed" in tests.stdout


def test_template_plugin_instantiates_installs_and_validates(tmp_path: Path, make_venv):
    venv = make_venv()
    venv.install("action-core", "action-testkit", "pytest")
    created = venv.run("action-run", "plugins", "new", "fancy_net", "--dir", str(tmp_path)).stdout
    project = tmp_path / "action-fancy-net"
    assert str(project) in created
    venv.install(f"{project}[test]")
    report = venv.run("action-run", "plugins", "validate", "fancy_net").stdout
    assert report.strip().endswith("valid") and "FAIL" not in report and "WARN" not in report, report
    tests = venv.run("python", "-m", "pytest", str(project / "tests"), "-q", "-p", "no:cacheprovider")
    assert "1 passed" in tests.stdout
    again = venv.run("action-run", "plugins", "new", "fancy_net", "--dir", str(tmp_path), check=False)
    assert again.returncode == 2 and "already exists" in again.stderr
