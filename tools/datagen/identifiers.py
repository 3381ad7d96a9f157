"""NPI check digits and NDC formats: the identifier rules generators and tests share.

An NPI is 9 digits plus a Luhn check digit computed as if prefixed by the card-issuer code 80840
(CMS, "Requirements for NPI check digit"). NDCs travel as 10-digit 4-4-2, 5-3-2 or 5-4-1 strings,
with or without hyphens, or as the 11-digit 5-4-2 billing form; only the 11-digit form is unique.
"""

from __future__ import annotations

import re

__all__ = [
    "is_valid_npi",
    "ndc_variants",
    "normalize_ndc",
    "npi_check_digit",
]

_NPI_PREFIX = "80840"
_NDC_HYPHENATED = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")


def npi_check_digit(base: str) -> int:
    """The Luhn check digit for a 9-digit NPI base."""
    if len(base) != 9 or not base.isdigit():
        raise ValueError(f"NPI base must be 9 digits, got {base!r}")
    total = 0
    for position, char in enumerate(reversed(_NPI_PREFIX + base)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(value: str | None) -> bool:
    """True for 10 ASCII digits whose last digit is the Luhn check digit of the first nine."""
    if value is None or len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return npi_check_digit(value[:9]) == int(value[9])


def ndc_variants(ndc11: str) -> tuple[str, ...]:
    """Raw spellings of an 11-digit 5-4-2 NDC that map back to it without ambiguity.

    The 10-digit form exists only where one segment has a leading zero to drop, which is why the
    list is different per code.
    """
    labeler, product, package = ndc11.split("-")
    variants = [ndc11, labeler + product + package]
    if labeler.startswith("0"):
        variants.append(f"{labeler[1:]}-{product}-{package}")
    if product.startswith("0"):
        variants.append(f"{labeler}-{product[1:]}-{package}")
    if package.startswith("0"):
        variants.append(f"{labeler}-{product}-{package[1:]}")
    return tuple(variants)


def normalize_ndc(raw: str) -> str | None:
    """The 11-digit 5-4-2 form of a raw NDC, or None when it has no valid shape."""
    text = raw.strip()
    if len(text) == 11 and text.isdigit():
        return f"{text[:5]}-{text[5:9]}-{text[9:]}"
    match = _NDC_HYPHENATED.match(text)
    if match is None:
        return None
    labeler, product, package = match.groups()
    shape = (len(labeler), len(product), len(package))
    if shape == (5, 4, 2):
        return text
    if shape == (4, 4, 2):
        return f"0{labeler}-{product}-{package}"
    if shape == (5, 3, 2):
        return f"{labeler}-0{product}-{package}"
    if shape == (5, 4, 1):
        return f"{labeler}-{product}-0{package}"
    return None
