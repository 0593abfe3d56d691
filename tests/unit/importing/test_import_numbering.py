"""waihu.numbering.normalize: written forms, lookups and the phone.* error codes."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from waihu.domain.errors import ValidationError
from waihu.numbering import KINDS, normalize

MOBILE = "+8613800138000"
BEIJING = "+861012345678"
HANGZHOU = "+8657188888888"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", MOBILE),
        ("138 0013 8000", MOBILE),
        ("138-0013-8000", MOBILE),
        ("+86 138 0013 8000", MOBILE),
        ("86 13800138000", MOBILE),
        ("8613800138000", MOBILE),
        ("008613800138000", MOBILE),
        ("１３８００１３８０００", MOBILE),
        ("＋８６ １３８００１３８０００", MOBILE),
        ("13800138000.0", MOBILE),
        ("  13800138000\t", MOBILE),
        ("+86-10-12345678", BEIJING),
        ("010-12345678", BEIJING),
        ("(0571) 8888 8888", HANGZHOU),
        ("0571-88888888", HANGZHOU),
        ("+1 650 253 0000", "+16502530000"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_written_forms_normalise_to_e164(raw: str, e164: str) -> None:
    assert normalize(raw).phone.e164 == e164


@pytest.mark.parametrize(
    ("raw", "kind", "region", "city", "carrier", "tz"),
    [
        ("13800138000", "mobile", "北京", "北京", "中国移动", "Asia/Shanghai"),
        ("14700001111", "mobile", "福建", "福州", "中国移动", "Asia/Shanghai"),
        ("0571-88888888", "landline", "浙江", "杭州", None, "Asia/Shanghai"),
        ("010-12345678", "landline", "北京", "北京", None, "Asia/Shanghai"),
        ("0991-2345678", "landline", "新疆", "乌鲁木齐", None, "Asia/Shanghai"),
        ("0771-2345678", "landline", "广西", "南宁", None, "Asia/Shanghai"),
        ("0718-8234567", "landline", "湖北", "恩施土家族苗族自治州", None, "Asia/Shanghai"),
        ("+1 650 253 0000", "other", "United States", "Mountain View, CA", None, "America/Los_Angeles"),
        ("+44 20 7946 0958", "landline", "United Kingdom", "London", None, "Europe/London"),
    ],
)
def test_lookups(raw: str, kind: str, region: str, city: str | None, carrier: str | None, tz: str) -> None:
    info = normalize(raw)
    got = (info.kind, info.region, info.city, info.carrier, info.timezone)
    assert got == (kind, region, city, carrier, tz)
    assert info.kind in KINDS


def test_cached_lookup_does_not_leak_between_kinds_or_prefixes() -> None:
    # Same first digits as a cached mobile, different answers must come back.
    assert normalize("13800138000").region == "北京"
    assert normalize("14700001111").region == "福建"
    assert normalize("0571-88888888").city == "杭州"
    assert normalize("0571-88888888").kind == "landline"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "phone.empty"),
        ("   ", "phone.empty"),
        ("abc", "phone.not_a_number"),
        ("138abc00138", "phone.not_a_number"),
        ("1-800-FLOWERS", "phone.not_a_number"),
        ("--", "phone.not_a_number"),
        ("12", "phone.too_short"),
        ("1380013800", "phone.too_short"),
        ("138001380001", "phone.too_long"),
        ("1234567890123456789", "phone.too_long"),
        ("+999 1234567", "phone.invalid"),
        ("+8612345678", "phone.invalid"),
        ("12345678901", "phone.invalid"),
        ("88888888", "phone.missing_area_code"),
        ("8888888", "phone.missing_area_code"),
        ("1.3800138E+10", "phone.scientific_notation"),
        ("1.38001E10", "phone.scientific_notation"),
    ],
)
def test_error_codes(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize(raw)
    assert info.value.code == code


@pytest.mark.parametrize("raw", ["13800138000", "138001380001", "1380013800", "+8612345678", "88888888"])
def test_messages_never_show_the_full_number(raw: str) -> None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    try:
        info = normalize(raw)
    except ValidationError as exc:
        assert digits not in str(exc)
        assert digits not in exc.message
    else:
        assert digits not in repr(info)
        assert digits not in str(info)


def test_international_number_with_other_default_region() -> None:
    assert normalize("(650) 253-0000", default_region="US").phone.e164 == "+16502530000"


# Mainland mobile prefixes; hypothesis fills in the rest and keeps what the library accepts.
_PREFIXES = ["130", "133", "135", "138", "139", "150", "158", "177", "186", "188", "199"]
_SEPARATORS = st.sampled_from(["", " ", "-", "  ", "\u3000"])
_COUNTRY = st.sampled_from(["", "+86", "+86 ", "86", "0086", "+86-", "＋８６"])


@settings(deadline=None)  # the first call loads the numbering-plan data
@given(
    prefix=st.sampled_from(_PREFIXES),
    rest=st.text(alphabet="0123456789", min_size=8, max_size=8),
    seps=st.lists(_SEPARATORS, min_size=11, max_size=11),
    country=_COUNTRY,
    fullwidth=st.booleans(),
)
def test_any_valid_mobile_with_random_separators_gives_one_e164(
    prefix: str, rest: str, seps: list[str], country: str, fullwidth: bool
) -> None:
    national = prefix + rest
    assume(phonenumbers.is_valid_number(phonenumbers.parse(national, "CN")))
    written = "".join(d + s for d, s in zip(national, seps, strict=True))
    if fullwidth:
        written = written.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    assert normalize(country + written).phone.e164 == "+86" + national
