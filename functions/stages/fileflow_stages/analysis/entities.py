"""Rule-based entities in text: emails, URLs, phone numbers, dates, amounts. No boto3.

Emails and phone numbers are personal data (PII): only their counts and masked samples are kept
(`j***@e***.com`, `***-***-4567`), never the values. URLs, dates and amounts keep a few samples.
`mask_pii()` masks the same in a text before it is stored (OCR text on the file item).
"""

from __future__ import annotations

import re
from typing import Any, Final

SAMPLES: Final = 3
_SAMPLE_CHARS: Final = 80

EMAIL: Final = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b")
URL: Final = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()\[\]]{2,2000}", re.IGNORECASE)
# International (+CC ...) or national numbers with separators: 7 to 15 digits in all.
PHONE: Final = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?!\w)"
)
_MONTHS: Final = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE: Final = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
    rf"|\d{{1,2}} {_MONTHS} \d{{4}}|{_MONTHS} \d{{1,2}},? \d{{4}})\b",
    re.IGNORECASE,
)
AMOUNT: Final = re.compile(
    r"(?:[$€£¥]\s?\d{1,3}(?:[,.\s]\d{3})*(?:[.,]\d{1,2})?"
    r"|\b\d{1,3}(?:[,.\s]\d{3})*(?:[.,]\d{1,2})?\s?(?:USD|EUR|GBP|CHF|JPY|€|\$)(?!\w))",
)


def _digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def _phones(text: str) -> list[str]:
    found = []
    for match in PHONE.finditer(text):
        value = match.group(0)
        if 7 <= _digits(value) <= 15 and not DATE.fullmatch(value.strip()):
            found.append(value)
    return found


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{name[:1]}***.{tld}"


def mask_phone(value: str) -> str:
    digits = [char for char in value if char.isdigit()]
    return "***-" + "".join(digits[-2:])


def mask_pii(text: str) -> str:
    masked = EMAIL.sub(lambda match: mask_email(match.group(0)), text)
    for phone in sorted(set(_phones(masked)), key=len, reverse=True):
        masked = masked.replace(phone, mask_phone(phone))
    return masked


def _entry(values: list[str], *, pii: bool, mask: Any = None) -> dict[str, Any]:
    unique = list(dict.fromkeys(values))
    samples = [mask(value) if mask else value[:_SAMPLE_CHARS] for value in unique[:SAMPLES]]
    return {"count": len(values), "pii": pii, "samples": samples}


def extract_entities(text: str) -> dict[str, Any]:
    """{emails, urls, phones, dates, amounts: {count, pii, samples}, pii: bool}."""
    emails = EMAIL.findall(text)
    without_emails = EMAIL.sub(" ", text)
    urls = [url.rstrip(".,;:!?") for url in URL.findall(without_emails)]
    without_urls = URL.sub(" ", without_emails)
    dates = DATE.findall(without_urls)
    amounts = AMOUNT.findall(DATE.sub(" ", without_urls))
    phones = _phones(AMOUNT.sub(" ", DATE.sub(" ", without_urls)))
    entities: dict[str, Any] = {
        "emails": _entry(emails, pii=True, mask=mask_email),
        "urls": _entry(urls, pii=False),
        "phones": _entry(phones, pii=True, mask=mask_phone),
        "dates": _entry(dates, pii=False),
        "amounts": _entry(amounts, pii=False),
    }
    entities["pii"] = bool(emails or phones)
    return entities
