"""The address codec (analysis/address.py): query string ⇄ filter, page options and notices."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from analysis.address import (
    MAX_PARAMETERS,
    MAX_VALUES_PER_KEY,
    Address,
    AddressError,
    decode,
    encode,
    normal_path,
)
from data.codebook import Attribute, Codebook
from data.store import Filter

CODEBOOK = Codebook(
    (
        Attribute("gender", "Gender", "", "demographics", "categorical", ("Man", "Woman"), ("Man", "Woman")),
        Attribute("ageBroad", "Age group", "", "demographics", "ordinal", ("09--17", "48+"), ("9–17", "48 and over")),
        Attribute("isForcedLabour", "Forced labour", "", "exploitation type", "flag", ("1",), ("yes",)),
    )
)


def test_a_query_string_round_trips():
    search = "?gender=Woman&gender=~&ageBroad=48%2B&_view=gender"
    address = decode(search, CODEBOOK, option_keys=("_view",))
    assert address.filter == Filter.build(CODEBOOK, {"gender": ["Woman", None], "ageBroad": ["48+"]})
    assert address.options == {"_view": ("gender",)} and address.option("_view") == "gender"
    assert address.notices == ()
    again = encode(address.filter, {"_view": "gender"})
    assert parse_qs(again[1:]) == parse_qs(search[1:])
    assert decode(again, CODEBOOK, option_keys=("_view",)) == address


def test_encoding_is_in_codebook_order_and_empty_without_anything():
    flt = Filter.build(CODEBOOK, {"ageBroad": ["48+"], "gender": [None, "Man"]})
    assert encode(flt) == "?gender=Man&gender=~&ageBroad=48%2B"
    assert encode(flt, {"columns": ["gender", "ageBroad"]}).endswith("&columns=gender&columns=ageBroad")
    assert encode(Filter()) == ""


def test_a_parsed_query_decodes_like_its_string():
    assert decode({"gender": ["Man"], "ageBroad": ["48+"]}, CODEBOOK) == decode("gender=Man&ageBroad=48%2B", CODEBOOK)


@pytest.mark.parametrize("query", [None, "", "?", 3, ["gender=Man"], {"gender": []}])
def test_nothing_usable_is_no_filter(query):
    assert decode(query, CODEBOOK) == Address()


def test_unknown_keys_and_values_are_left_out_with_notices():
    address = decode("?gender=Martian&gender=Man&nope=1&ageBroad=~", CODEBOOK)
    assert address.filter.as_dict() == {"gender": ["Man"], "ageBroad": [None]}
    assert address.notices == (
        "Ignored “Martian”, which is not a value of Gender.",
        "Ignored the unknown filter “nope”.",
    )


def test_a_filter_the_page_does_not_offer_is_named_first():
    address = decode("?nope=1&isForcedLabour=1&gender=Man", CODEBOOK, attributes=["gender", "ageBroad"])
    assert address.filter.as_dict() == {"gender": ["Man"]}
    assert address.notices == (
        "Forced labour is not a filter on this page and was left out.",
        "Ignored the unknown filter “nope”.",
    )


def test_notices_clip_what_they_quote():
    address = decode({"gender": ["x" * 100 + "\x00"]}, CODEBOOK)
    assert address.notices == ("Ignored “" + "x" * 40 + "…”, which is not a value of Gender.",)


def test_lenient_decoding_keeps_at_most_the_limit_of_values_per_key():
    address = decode({"gender": ["Martian"] * (MAX_VALUES_PER_KEY + 5)}, CODEBOOK)
    assert len(address.notices) == MAX_VALUES_PER_KEY


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"nope": ["1"]}, "Unknown filter: nope."),
        ({"gender": ["Martian"]}, "Unknown value of gender: Martian."),
        ({"gender": ["Man"] * (MAX_VALUES_PER_KEY + 1)}, "Too many values for one filter."),
        ({"gender": ["Man"] * (MAX_PARAMETERS + 1)}, "Too many parameters."),
        ({"gender": ["Man"], "isForcedLabour": ["yes\nno"]}, "Unknown value of isForcedLabour: yesno."),
    ],
)
def test_strict_decoding_refuses_with_one_line(query, reason):
    with pytest.raises(AddressError) as caught:
        decode(query, CODEBOOK, strict=True)
    assert str(caught.value) == reason


def test_strict_decoding_accepts_a_valid_query_and_its_options():
    address = decode({"gender": ["~"], "columns": ["gender", ""]}, CODEBOOK, option_keys=("columns",), strict=True)
    assert address.filter.as_dict() == {"gender": [None]}
    assert address.options == {"columns": ("gender", "")} and address.notices == ()


@pytest.mark.parametrize(
    "path, normal", [(None, "/"), ("", "/"), ("/", "/"), ("/explore/", "/explore"), ("/explore", "/explore")]
)
def test_paths_are_compared_without_a_trailing_slash(path, normal):
    assert normal_path(path) == normal
