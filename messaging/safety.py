"""Spotting messages that try to move contact or payment off the platform.

Before a contract exists, people who met on the marketplace have every reason to keep
talking (and paying) here: the escrow protects both. A message that shares an email
address, a phone number or a messaging handle, or asks to be paid directly, is delivered
but flagged: the recipient sees a warning and staff see it in the admin.

Deliberately conservative: prices, dates, version numbers, order references and links to
ordinary web pages are not flagged. Each rule has a name, stored on the message so staff
can see why it was flagged.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
# "jane dot doe at gmail dot com", "jane(at)gmail(dot)com", "jane [at] proton.me"
_OBFUSCATED_EMAIL = re.compile(
    r"\b[\w.+-]+\s*(?:\(at\)|\[at\]|\{at\}|\s+at\s+)\s*[\w-]+\s*(?:\(dot\)|\[dot\]|\{dot\}|\s+dot\s+|\.)\s*"
    r"(?:com|net|org|io|me|co|de|uk|fr|es|it|pl|ru|in|info|biz)\b",
    re.IGNORECASE,
)
# A run of digits with the usual phone separators. Amounts ($1,500.00), dates (2024-05-01)
# and versions (3.11.2) are ruled out in _looks_like_phone.
_PHONE_CANDIDATE = re.compile(r"(?<![\w$€£.,/-])(?:\+|00)?\(?\d[\d\s().-]{6,}\d(?![\w%])")
_MESSENGERS = re.compile(
    r"\b(?:whats\s*app|whatsapp|telegram|skype|signal\s+(?:me|app|number)|viber|wechat|we\s+chat|"
    r"kakao\s*talk|line\s+id|discord|snapchat|imo\s+app|hangouts|google\s+chat|icq)\b"
    r"|\bt\.me/|\bwa\.me/|\bskype:|\bdiscord\.gg/|\btelegram\.me/",
    re.IGNORECASE,
)
_PAYMENT_APPS = re.compile(
    r"\bpaypal\.me\b|\bpaypal\s+me\b|\bvenmo\b|\bcash\s*app\b|\bzelle\b|\bwestern\s+union\b|"
    r"\bmoneygram\b|\bpayoneer\s+(?:me|directly)\b|\bwise\s+transfer\b|\b(?:iban|swift\s+code)\b",
    re.IGNORECASE,
)
_PAY_DIRECTLY = re.compile(
    r"\bpay(?:ing|ment|ments)?\s+(?:me\s+|you\s+|us\s+)?(?:directly|direct|outside|off(?:\s|-)?(?:the\s+)?"
    r"(?:platform|site|app))\b"
    r"|\b(?:outside|off)\s+(?:of\s+)?(?:the\s+|this\s+)?(?:platform|site|marketplace|upwork|fiverr)\b"
    r"|\b(?:avoid|skip|save\s+on|bypass)\s+(?:the\s+)?(?:platform\s+|marketplace\s+|service\s+)?fees?\b"
    r"|\bsend\s+(?:the\s+)?(?:money|payment|funds)\s+(?:directly|to\s+my\s+(?:bank|account|card))\b"
    r"|\b(?:bank|wire)\s+transfer\s+(?:directly|instead)\b"
    r"|\b(?:contact|reach|text|call|email|message)\s+me\s+(?:directly\s+)?(?:on|at|via)\s+(?:my\s+)?"
    r"(?:personal|private|gmail|email|phone|number|cell|mobile)\b",
    re.IGNORECASE,
)


def _looks_like_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 8 <= len(digits) <= 15:
        return False
    text = candidate.strip()
    # ISO dates and times, version numbers and decimal amounts use these shapes
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:\s+\d{2})?", text):
        return False
    if re.fullmatch(r"\d+(?:\.\d+){2,}", text):  # 3.11.2 or 10.0.0.1
        return False
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        return False
    if text.startswith(("+", "00", "(")):
        return True
    groups = [g for g in re.split(r"[\s().-]+", text) if g]
    if len(groups) == 1:
        return len(digits) >= 9  # one long run: 8 digits is as often an order number
    # a phone number is written in a few groups of digits
    return len(groups) <= 5


def off_platform_reasons(text: str) -> list[str]:
    """The names of the rules ``text`` trips, in a fixed order; empty when it is ordinary."""
    reasons = []
    if _EMAIL.search(text) or _OBFUSCATED_EMAIL.search(text):
        reasons.append("email")
    if any(_looks_like_phone(m.group(0)) for m in _PHONE_CANDIDATE.finditer(text)):
        reasons.append("phone")
    if _MESSENGERS.search(text):
        reasons.append("messenger")
    if _PAYMENT_APPS.search(text):
        reasons.append("payment_app")
    if _PAY_DIRECTLY.search(text):
        reasons.append("pay_directly")
    return reasons


REASON_LABELS = {
    "email": "an email address",
    "phone": "a phone number",
    "messenger": "another messaging app",
    "payment_app": "a payment app",
    "pay_directly": "paying or talking outside the marketplace",
}
