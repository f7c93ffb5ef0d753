"""Decimal money as JSON numbers without a float (ingestion/common/decimal_json.py): the same text as `json.dumps`
for everything else, each Decimal digit for digit, and no marker string that a source's own data could trigger."""

import json
from datetime import date
from decimal import Decimal

import pytest

from ingestion.common import decimal_json
from ingestion.pluggy.parse import raw_json

SAMPLE = {
    "name": 'Câmbio à vista "quoted" \\ tab\t',
    "empty": {},
    "none": [],
    "nested": {"z": [1, -2.5, True, False, None, {"inner": []}], "a": "x"},
    "big": 10**30,
}
OPTIONS = [
    {},
    {"sort_keys": True},
    {"indent": 2},
    {"indent": 2, "sort_keys": True, "ensure_ascii": False},
    {"separators": (",", ":"), "ensure_ascii": False},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_without_decimals_the_text_is_json_dumps(options):
    assert decimal_json.dumps(SAMPLE, **options) == json.dumps(SAMPLE, **options)


def test_each_decimal_is_written_as_the_number_it_holds():
    amounts = [
        Decimal("89.90"),
        Decimal("-0.01"),
        Decimal("1E+2"),
        Decimal("0.000000000000001"),
        Decimal("12345678.9012"),
    ]
    text = decimal_json.dumps({"amounts": amounts}, separators=(",", ":"))
    assert text == '{"amounts":[89.90,-0.01,1E+2,1E-15,12345678.9012]}'
    back = json.loads(text, parse_float=Decimal)["amounts"]
    assert [str(value) for value in back] == [str(value) for value in amounts]  # same digits, same exponent


def test_indented_output_with_decimals_matches_json_layout():
    value = {"b": [Decimal("1.50"), {"c": Decimal("2")}], "a": {}}
    expected = json.dumps({"b": [1.5, {"c": 2}], "a": {}}, indent=2).replace("1.5", "1.50")
    assert decimal_json.dumps(value, indent=2) == expected


def test_decimal_text_spells_them_otherwise():
    assert decimal_json.dumps([Decimal("100.00")], decimal_text=lambda d: format(d.normalize(), "f")) == "[100]"


def test_what_is_not_json_is_refused_or_goes_through_default():
    for not_a_number in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        with pytest.raises(ValueError, match="not a JSON number"):
            decimal_json.dumps([not_a_number])
    with pytest.raises(TypeError, match="date is not JSON serializable"):
        decimal_json.dumps({"day": date(2024, 1, 2)})
    assert decimal_json.dumps({"day": date(2024, 1, 2)}, default=str) == '{"day": "2024-01-02"}'
    with pytest.raises(TypeError, match="keys must be str"):
        decimal_json.dumps({1: "one"})


def test_a_string_that_looks_like_a_marker_stays_a_string():
    """The old trick wrote each Decimal as a marker string and replaced the markers afterwards, so a source's text
    that happened to look like one became a number in the quarantined raw JSON."""
    record = {"description": "\u0000decimal:5", "amount": Decimal("5.00")}
    assert raw_json(record) == '{"amount": 5.00, "description": "\\u0000decimal:5"}'
