"""The off-platform detector and the body renderer, on hand-built texts."""

from __future__ import annotations

import pytest

from messaging.rendering import excerpt, render_body
from messaging.safety import off_platform_reasons


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("email me at jane.doe@gmail.com", ["email"]),
        ("jane dot doe at gmail dot com", ["email"]),
        ("write to jane(at)proton(dot)me", ["email"]),
        ("my number is +1 415 555 0132", ["phone"]),
        ("call 415-555-0132 tonight", ["phone"]),
        ("(415) 555-0132", ["phone"]),
        ("0048 601 234 567", ["phone"]),
        ("text me: 601234567", ["phone"]),
        ("add me on WhatsApp", ["messenger"]),
        ("ping me on telegram @janedoe", ["messenger"]),
        ("my skype is jane.doe", ["messenger"]),
        ("https://t.me/janedoe", ["messenger"]),
        ("join discord.gg/abc123", ["messenger"]),
        ("just pay me directly and we both win", ["pay_directly"]),
        ("PayPal me the deposit", ["payment_app"]),
        ("paypal.me/janedoe", ["payment_app"]),
        ("Let's continue outside the platform", ["pay_directly"]),
        ("we can avoid the fees if you send it by Venmo", ["payment_app", "pay_directly"]),
        ("Send the money to my bank account", ["pay_directly"]),
        ("contact me on my personal email", ["pay_directly"]),
        ("WhatsApp +44 7700 900123 and pay me directly", ["phone", "messenger", "pay_directly"]),
    ],
)
def test_requests_to_leave_the_platform_are_recognised(text, reasons):
    assert off_platform_reasons(text) == reasons


@pytest.mark.parametrize(
    "text",
    [
        "Hi! I can start on Monday, the budget of $1,500.00 works for me.",
        "The deadline is 2024-05-01 and the meeting is at 15:30.",
        "We use Python 3.11.2 and Django 5.2 on PostgreSQL 15.",
        "Please see https://docs.djangoproject.com/en/5.2/ for the details.",
        "Order #12345 shipped; invoice 2024/118.",
        "Invoice 20240118 is attached.",
        "The payment will go through the milestone as usual.",
        "Signal handlers in Django should not hold business logic.",
        "I will pay attention to the line height.",
        "Thanks, sounds great. I'll send the draft tomorrow at 10am.",
        "The file is 12,345,678 bytes.",
        "Our budget is 50000 for the year.",
        "Call me when you're ready, we can talk here on the chat.",
        "The logo should work at 16 x 16 and 512 x 512 pixels.",
        "",
    ],
)
def test_ordinary_text_is_not_flagged(text):
    assert off_platform_reasons(text) == []


def test_rendering_escapes_markup_before_making_links():
    html = render_body("<script>alert(1)</script> see https://example.com/a?b=1&c=2.")
    assert str(html) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; see "
        '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" target="_blank">'
        "https://example.com/a?b=1&amp;c=2</a>."
    )


def test_a_link_cannot_break_out_of_its_attribute():
    html = str(render_body('go "http://x.com/"onmouseover="alert(1)" <img src=x onerror=alert(1)>'))
    assert "<img" not in html
    assert 'onmouseover="' not in html
    assert html.startswith(
        'go &quot;<a href="http://x.com/" rel="nofollow noopener noreferrer" target="_blank">http://x.com/</a>'
    )


def test_rendering_keeps_line_breaks_and_links_bare_www_addresses():
    assert str(render_body("line one\nwww.example.org/path, ok")) == (
        'line one<br><a href="https://www.example.org/path" rel="nofollow noopener noreferrer" '
        'target="_blank">www.example.org/path</a>, ok'
    )


def test_javascript_urls_are_not_links():
    assert str(render_body("javascript:alert(1)")) == "javascript:alert(1)"


def test_balanced_parentheses_stay_in_the_link():
    assert str(render_body("(https://en.wikipedia.org/wiki/Foo_(bar))")) == (
        '(<a href="https://en.wikipedia.org/wiki/Foo_(bar)" rel="nofollow noopener noreferrer" '
        'target="_blank">https://en.wikipedia.org/wiki/Foo_(bar)</a>)'
    )


def test_excerpt_is_one_line_and_bounded():
    assert excerpt("a\n  b   c") == "a b c"
    assert excerpt("x" * 200, 10) == "xxxxxxxxx…"
