from __future__ import annotations

from pathlib import Path

from loopml.core.config import find_home, load_settings


def test_home_is_found_from_a_subfolder_like_git(tmp_path: Path) -> None:
    (tmp_path / ".loopml").mkdir()
    (tmp_path / "loopml.yaml").write_text("project:\n  name: churn\n")
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    settings = load_settings(cwd=deep, environ={})
    assert settings.home == tmp_path / ".loopml"
    assert settings.project == "churn"
    assert settings.store_url == f"sqlite:///{tmp_path / '.loopml' / 'loopml.db'}"
    assert settings.artifacts_url == str(tmp_path / ".loopml" / "artifacts")


def test_without_a_project_the_home_is_the_working_directory(tmp_path: Path) -> None:
    assert find_home(tmp_path) is None
    settings = load_settings(cwd=tmp_path, environ={})
    assert settings.home == tmp_path / ".loopml"
    assert settings.project == "default"
    assert not settings.home.exists()


def test_environment_variables_override_what_is_found(tmp_path: Path) -> None:
    env = {
        "LOOPML_HOME": str(tmp_path / "elsewhere" / ".loopml"),
        "LOOPML_STORE_URL": "postgresql://u@127.0.0.1/db",
        "LOOPML_ARTIFACTS_URL": "s3://bucket/prefix",
        "LOOPML_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "LOOPML_PROJECT": "fraud",
    }
    settings = load_settings(cwd=tmp_path, environ=env)
    assert settings.home == tmp_path / "elsewhere" / ".loopml"
    assert settings.store_url == "postgresql://u@127.0.0.1/db"
    assert settings.artifacts_url == "s3://bucket/prefix"
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"
    assert settings.project == "fraud"
