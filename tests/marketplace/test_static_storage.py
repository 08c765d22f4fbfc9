"""marketplace.storage: the deployed static storage answers as whitenoise's does, and
remembers each answer."""

from __future__ import annotations

import json

import pytest
from django.urls import set_script_prefix
from whitenoise.storage import CompressedManifestStaticFilesStorage

from marketplace.storage import RememberingStaticFilesStorage

PATHS = {
    "css/app.css": "css/app.1a2b3c.css",
    "js/app.js": "js/app.4d5e6f.js",
    "img/a b.svg": "img/a b.0f0f0f.svg",
}


@pytest.fixture
def storages(tmp_path):
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": PATHS, "version": "1.1", "hash": "abc"}))

    def make(cls, base_url):
        return cls(location=str(tmp_path), base_url=base_url)

    return make


@pytest.mark.parametrize("base_url", ["/static/", "https://cdn.example.com/static/"])
def test_urls_are_whitenoises_and_remembered(storages, base_url):
    plain = storages(CompressedManifestStaticFilesStorage, base_url)
    remembering = storages(RememberingStaticFilesStorage, base_url)

    for name in [*PATHS, "css/app.css"]:
        assert remembering.url(name) == plain.url(name)
    assert remembering.url("css/app.css").endswith("css/app.1a2b3c.css")
    assert remembering.url("css/app.css", force=True) == plain.url("css/app.css", force=True)

    remembering.hashed_files["css/app.css"] = "css/app.changed.css"  # as if the manifest changed
    assert remembering.url("css/app.css").endswith("css/app.1a2b3c.css")  # the remembered answer
    list(remembering.post_process({}, dry_run=True))  # collectstatic forgets them
    remembering.hashed_files["css/app.css"] = "css/app.changed.css"  # (it rebuilds the manifest)
    assert remembering.url("css/app.css").endswith("css/app.changed.css")


def test_a_missing_file_is_an_error_every_time(storages):
    remembering = storages(RememberingStaticFilesStorage, "/static/")

    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            remembering.url("css/missing.css")


def test_answers_are_kept_per_script_prefix(storages, settings):
    remembering = storages(RememberingStaticFilesStorage, "/static/")
    plain = storages(CompressedManifestStaticFilesStorage, "/static/")
    first = remembering.url("js/app.js")
    set_script_prefix("/market/")
    try:
        assert remembering.url("js/app.js") == plain.url("js/app.js")
    finally:
        set_script_prefix("/")
    assert remembering.url("js/app.js") == first
