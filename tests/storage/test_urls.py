"""Storage URLs are shown and kept without their password."""

from __future__ import annotations

import pytest

import tuneful
from tuneful.storage.urls import has_password, redact_url, strip_password

SECRET = "S3cret"


@pytest.mark.parametrize(
    ("url", "shown", "kept"),
    [
        (
            "postgresql://alice:S3cret@db/hpo",
            "postgresql://alice:***@db/hpo",
            "postgresql://alice@db/hpo",
        ),
        (
            "postgresql+psycopg2://alice:S3cret@db:5432/hpo",
            "postgresql+psycopg2://alice:***@db:5432/hpo",
            "postgresql+psycopg2://alice@db:5432/hpo",
        ),
        (
            "postgresq://alice:S3cret@db/hpo",
            "postgresq://alice:***@db/hpo",
            "postgresq://alice@db/hpo",
        ),
        (
            "postgresql://alice:p@S3cret@db/hpo",
            "postgresql://alice:***@db/hpo",
            "postgresql://alice@db/hpo",
        ),
        (
            "postgresql://db/hpo?password=S3cret&sslmode=require",
            "postgresql://db/hpo?password=***&sslmode=require",
            "postgresql://db/hpo?sslmode=require",
        ),
        (
            "postgresql://db/hpo?sslmode=require&PASSWORD=S3cret",
            "postgresql://db/hpo?sslmode=require&PASSWORD=***",
            "postgresql://db/hpo?sslmode=require",
        ),
        ("sqlite:///tuneful.db", "sqlite:///tuneful.db", "sqlite:///tuneful.db"),
        ("sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db"),
        ("postgresql://alice@db/hpo", "postgresql://alice@db/hpo", "postgresql://alice@db/hpo"),
    ],
)
def test_password_masked_when_shown_and_dropped_when_kept(url: str, shown: str, kept: str) -> None:
    assert redact_url(url) == shown
    assert strip_password(url) == kept
    assert has_password(url) == (SECRET in url)


def test_study_repr_and_storage_url_hide_the_password() -> None:
    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0, "high": 1}}, storage="memory://"
    )
    study.storage.url = "postgresql://alice:S3cret@db/hpo"  # as a PostgreSQL storage has it
    assert SECRET not in repr(study)
    assert SECRET not in study.storage_url
    assert study.storage_url == "postgresql://alice:***@db/hpo"
