"""``{% nav_url %}`` (marketplace/templatetags/ui.py): ``{% url %}`` looked up once per
process, URL configuration and script prefix."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from marketplace.templatetags import ui

NAMES = ["home", "jobs:search", "jobs:talent", "contracts:list", "account_login", "admin:index"]


def render(source: str) -> str:
    return Template("{% load ui %}" + source).render(Context({}))


def test_nav_url_is_the_url_tag():
    for name in NAMES:
        assert render(f"{{% nav_url '{name}' %}}") == render(f"{{% url '{name}' %}}") == reverse(name)


def test_nav_url_follows_the_script_prefix():
    ui._nav_urls.clear()
    plain = render("{% nav_url 'jobs:search' %}")
    set_script_prefix("/market/")
    try:
        prefixed = render("{% nav_url 'jobs:search' %}")
    finally:
        set_script_prefix("/")

    assert plain == "/jobs/search/"
    assert prefixed == "/market/jobs/search/"
    assert render("{% nav_url 'jobs:search' %}") == plain


def test_nav_url_forgets_when_the_url_configuration_changes(settings):
    render("{% nav_url 'home' %}")
    assert ui._nav_urls

    settings.ROOT_URLCONF = "marketplace.urls"

    assert not ui._nav_urls


def test_an_unknown_name_fails_like_the_url_tag():
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        render("{% nav_url 'no-such-page' %}")
