"""CNPJ check digits against registrations known to be valid, and numbers that must fail."""

import pytest

from ingestion.erp.cnpj import cnpj_check_digits, format_cnpj, is_valid_cnpj, make_cnpj, normalize_cnpj

VALID = [
    "11.222.333/0001-81",  # the textbook example of the algorithm
    "00.000.000/0001-91",  # Banco do Brasil S.A.
    "60.701.190/0001-04",  # Itaú Unibanco S.A.
    "33.000.167/0001-01",  # Petróleo Brasileiro S.A. (Petrobras)
    "60746948000112",  # Banco Bradesco S.A., unpunctuated
    "12.ABC.345/01DE-35",  # the alphanumeric example published by the Receita Federal (IN RFB 2.229/2024)
]
INVALID = [
    "11.222.333/0001-82",  # second check digit wrong
    "11.222.333/0001-91",  # first check digit wrong
    "60.701.190/0001-40",  # digits swapped
    "00000000000000",  # repeated digit: arithmetic passes, not a registration
    "11111111111111",
    "1122233300018",  # 13 characters
    "112223330001811",  # 15 characters
    "12.ABC.345/01DE-3A",  # a letter in a check digit
    "",
]


@pytest.mark.parametrize("value", VALID)
def test_known_valid_cnpjs_pass(value):
    assert is_valid_cnpj(value)


@pytest.mark.parametrize("value", INVALID)
def test_wrong_cnpjs_fail(value):
    assert not is_valid_cnpj(value)


def test_check_digits_of_a_base():
    assert cnpj_check_digits("112223330001") == "81"
    assert cnpj_check_digits("12ABC34501DE") == "35"
    with pytest.raises(ValueError, match="12 digits"):
        cnpj_check_digits("1122233300")


def test_make_and_format():
    cnpj = make_cnpj(11222333, 1)
    assert cnpj == "11222333000181"
    assert format_cnpj(cnpj) == "11.222.333/0001-81"
    assert normalize_cnpj("11.222.333/0001-81") == cnpj
    assert all(
        is_valid_cnpj(make_cnpj(root, branch)) for root in (10000000, 45678901, 99999998) for branch in (1, 2, 37)
    )


def test_not_a_string_is_invalid():
    assert not is_valid_cnpj(11222333000181)
