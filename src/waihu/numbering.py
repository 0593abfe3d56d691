"""Phone-number normalisation and lookup, wrapping the ``phonenumbers`` library.

``normalize`` turns whatever a user typed (or a spreadsheet stored) into a ``PhoneNumber`` in
E.164 plus what the numbering plan tells about it: mobile or landline, province and city,
carrier and time zone. Anything that is not a dialable number raises ``ValidationError`` with a
stable ``phone.*`` code; messages show masked digits only, never the full number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType, ValidationResult, carrier, geocoder, timezone
from phonenumbers.carrierdata import CARRIER_LONGEST_PREFIX
from phonenumbers.geodata import GEOCODE_LONGEST_PREFIX
from phonenumbers.tzdata import TIMEZONE_LONGEST_PREFIX

from waihu.domain.errors import ValidationError
from waihu.domain.phone import PhoneNumber, mask_digits

__all__ = ["KINDS", "NumberInfo", "normalize"]

KINDS = ("mobile", "landline", "voip", "toll_free", "other")

_KIND_BY_TYPE = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
}

# Characters a written phone number may contain besides digits: separators, brackets, the '+'
# of international numbers. Letters (vanity numbers, "ext", stray text) are refused outright.
_ALLOWED = re.compile(r"^[\d\s+\-().\u00a0/]*$")
_SPREADSHEET_FLOAT = re.compile(r"^\+?\d+\.0+$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
# A mainland mobile number: 11 digits starting 13-19.
_CN_MOBILE_LIKE = re.compile(r"^1[3-9]")

# Provincial-level divisions as the zh geocoder spells them (short form first), with the
# suffixes that may follow the short form.
_CN_PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港",
    "澳门",
)  # fmt: skip
# The geocoding, carrier and time-zone data are keyed by at most this many leading digits.
_LOOKUP_PREFIX = max(GEOCODE_LONGEST_PREFIX, CARRIER_LONGEST_PREFIX, TIMEZONE_LONGEST_PREFIX)
_CN_MUNICIPALITIES = frozenset({"北京", "天津", "上海", "重庆"})
_PROVINCE_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市",
)  # fmt: skip


_Looked = tuple[str | None, str | None, str | None, str | None]


@dataclass(frozen=True)
class NumberInfo:
    """A normalised number and what the numbering plan says about it."""

    phone: PhoneNumber
    kind: str
    region: str | None
    city: str | None
    carrier: str | None
    timezone: str | None


def _fail(code: str, message: str) -> ValidationError:
    return ValidationError(code=code, message=message)


def _clean(raw: str) -> str:
    """NFKC (full-width digits and '+' become ASCII), trim, drop a spreadsheet's '.0'."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if _SPREADSHEET_FLOAT.match(text):
        text = text.split(".", 1)[0]
    return text


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _split_cn_description(desc: str) -> tuple[str | None, str | None]:
    """'浙江省杭州市' -> ('浙江', '杭州'); '北京市' -> ('北京', '北京'); '中国' -> (None, None)."""
    desc = desc.strip()
    if not desc or desc == "中国":
        return None, None
    for province in _CN_PROVINCES:
        if desc.startswith(province):
            rest = desc[len(province) :]
            for suffix in _PROVINCE_SUFFIXES:
                if rest.startswith(suffix):
                    rest = rest[len(suffix) :]
                    break
            # Several cities sharing one area code are listed with '、': keep the first.
            city = rest.split("、", 1)[0]
            if city.endswith("市") and len(city) > 2:
                city = city[:-1]
            if not city and province in _CN_MUNICIPALITIES:
                city = province
            return province, city or None
    region = desc[:-1] if desc[-1] in "省市" and len(desc) > 2 else desc
    return region, None


def _lookup(number: phonenumbers.PhoneNumber) -> _Looked:
    """Geography, carrier and time zone of a valid number."""
    region: str | None
    city: str | None
    if number.country_code == 86:
        region, city = _split_cn_description(geocoder.description_for_valid_number(number, "zh"))
        carrier_name = carrier.name_for_valid_number(number, "zh") or None
    else:
        country = geocoder.country_name_for_number(number, "en") or None
        area = geocoder.description_for_valid_number(number, "en") or None
        region = country or area
        city = area if area and area != country else None
        carrier_name = carrier.name_for_valid_number(number, "en") or None
    zones = [z for z in timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    return region, city, carrier_name, (zones[0] if zones else None)


class _Representative:
    """A parsed number that compares equal to any other, so that only the prefix keys the cache."""

    __slots__ = ("number",)

    def __init__(self, number: phonenumbers.PhoneNumber) -> None:
        self.number = number

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Representative)


@lru_cache(maxsize=65536)
def _cached_lookup(prefix: str, kind: str, rep: _Representative) -> _Looked:
    return _lookup(rep.number)


def _describe(e164: str, kind: str, number: phonenumbers.PhoneNumber) -> _Looked:
    """``_lookup`` cached by leading digits.

    The data are keyed by at most ``_LOOKUP_PREFIX`` leading digits (country code included),
    so numbers of one kind sharing that prefix get the same
    answer; a contact list is full of such neighbours.
    """
    return _cached_lookup(e164[1 : 1 + _LOOKUP_PREFIX], kind, _Representative(number))


def _length_error(national: str, masked: str, country_code: int) -> ValidationError | None:
    if country_code == 86 and _CN_MOBILE_LIKE.match(national):
        if len(national) < 11:
            return _fail("phone.too_short", f"{masked}: a mobile number has 11 digits, got {len(national)}")
        if len(national) > 11:
            return _fail("phone.too_long", f"{masked}: a mobile number has 11 digits, got {len(national)}")
    return None


def normalize(raw: str, default_region: str = "CN") -> NumberInfo:
    """Parse ``raw`` (any common written form) into a ``NumberInfo``; raise ``ValidationError``.

    ``default_region`` is the ISO 3166 region assumed for numbers written without a country
    code ('CN': a leading 0 is the trunk prefix, 00 the international prefix).
    """
    text = _clean(raw)
    if not text:
        raise _fail("phone.empty", "the phone number is empty")
    if _SCIENTIFIC.match(text):
        raise _fail(
            "phone.scientific_notation",
            "the number was stored in scientific notation (like 1.38E+10) and its last digits are "
            "lost; format the column as text in the spreadsheet and enter the numbers again",
        )
    digits = _digits(text)
    masked = mask_digits(digits)
    if not digits or not _ALLOWED.match(text):
        raise _fail("phone.not_a_number", "the value contains characters that are not part of a phone number")
    if len(digits) < 3:
        raise _fail("phone.too_short", f"{masked}: too few digits for a phone number")
    if len(digits) > 17:
        raise _fail("phone.too_long", f"{masked}: too many digits for a phone number")
    international = text.startswith("+") or (default_region == "CN" and digits.startswith("00"))
    if default_region == "CN" and not international and len(digits) in (7, 8) and digits[0] in "23456789":
        raise _fail(
            "phone.missing_area_code",
            f"{masked}: a landline number needs its area code (for example 010 or 0571)",
        )
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        code = {
            phonenumbers.NumberParseException.TOO_SHORT_NSN: "phone.too_short",
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "phone.too_short",
            phonenumbers.NumberParseException.TOO_LONG: "phone.too_long",
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "phone.invalid",
        }.get(exc.error_type, "phone.not_a_number")
        what = "unknown country code" if code == "phone.invalid" else "not a phone number"
        raise _fail(code, f"{masked}: {what}") from None

    if not phonenumbers.is_valid_number(number):
        national = str(number.national_number)
        length_error = _length_error(national, masked, number.country_code or 0)
        if length_error is not None:
            raise length_error
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason == ValidationResult.TOO_SHORT:
            raise _fail("phone.too_short", f"{masked}: too few digits for this numbering plan")
        if reason == ValidationResult.TOO_LONG:
            raise _fail("phone.too_long", f"{masked}: too many digits for this numbering plan")
        if reason == ValidationResult.INVALID_COUNTRY_CODE:
            raise _fail("phone.invalid", f"{masked}: unknown country code")
        raise _fail("phone.invalid", f"{masked}: not a valid number in its numbering plan")

    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    kind = _KIND_BY_TYPE.get(phonenumbers.number_type(number), "other")
    region, city, carrier_name, tz = _describe(e164, kind, number)
    return NumberInfo(
        phone=PhoneNumber(e164), kind=kind, region=region, city=city, carrier=carrier_name, timezone=tz
    )
