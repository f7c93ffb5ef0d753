"""CNPJ (Cadastro Nacional da Pessoa Jurídica) check digits, as the Receita Federal defines them.

A CNPJ has 12 base characters (8 for the company root, 4 for the establishment) and 2 check digits.
Each check digit is a weighted sum modulo 11 over the characters before it (weights 2..9 from the right,
cycling): remainder < 2 gives 0, otherwise 11 - remainder. Since IN RFB 2.229/2024 the 12 base characters
may be letters (alphanumeric CNPJ, issued from July 2026); a character's value is its ASCII code minus 48,
so digits keep their value and 'A' is 17. The check digits stay numeric.
"""

import re

_BASE = re.compile(r"^[0-9A-Z]{12}$")
_FULL = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")
_SEPARATORS = re.compile(r"[./\-\s]")


def normalize_cnpj(value: str) -> str:
    """The CNPJ without punctuation, upper-cased (`11.222.333/0001-81` -> `11222333000181`)."""
    return _SEPARATORS.sub("", value).upper()


def _digit(chars: str) -> int:
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum((ord(char) - 48) * weights[i % 8] for i, char in enumerate(reversed(chars)))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def cnpj_check_digits(base: str) -> str:
    """The two check digits of a 12-character CNPJ base (digits, or letters for alphanumeric CNPJs)."""
    base = normalize_cnpj(base)
    if not _BASE.match(base):
        raise ValueError(f"a CNPJ base has 12 digits or upper-case letters, got {base!r}")
    first = _digit(base)
    second = _digit(base + str(first))
    return f"{first}{second}"


def is_valid_cnpj(value: str) -> bool:
    """True when the value (punctuated or not) is a CNPJ whose check digits are right.

    Numbers made of one repeated digit (`00000000000000`, `11111111111111`) pass the arithmetic but are
    not valid registrations, so they are refused.
    """
    if not isinstance(value, str):
        return False
    cnpj = normalize_cnpj(value)
    if not _FULL.match(cnpj) or len(set(cnpj)) == 1:
        return False
    return cnpj[12:] == cnpj_check_digits(cnpj[:12])


def make_cnpj(root: int, branch: int = 1) -> str:
    """A numeric CNPJ (14 digits, no punctuation) from an 8-digit root and a 4-digit establishment number."""
    base = f"{root:08d}{branch:04d}"
    return base + cnpj_check_digits(base)


def format_cnpj(value: str) -> str:
    """`11222333000181` -> `11.222.333/0001-81`."""
    c = normalize_cnpj(value)
    return f"{c[:2]}.{c[2:5]}.{c[5:8]}/{c[8:12]}-{c[12:]}"
