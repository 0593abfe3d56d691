"""Human text for compliance reason codes, in English and Simplified Chinese."""

from __future__ import annotations

REASON_TEXT: dict[str, tuple[str, str]] = {
    "compliance.outside_calling_window": ("outside the calling window (callee's local time)",
                                          "不在允许外呼时段（被叫当地时间）"),
    "compliance.holiday": ("public holiday", "法定节假日"),
    "compliance.lunch_break": ("lunch break", "午休时段"),
    "compliance.daily_cap": ("daily call cap reached for this callee", "该被叫当日呼叫次数已达上限"),
    "compliance.rolling_cap": ("too many calls in the rolling window", "滚动时间窗内呼叫次数已达上限"),
    "compliance.min_gap": ("too soon after the previous call", "距上次呼叫间隔过短"),
    "compliance.marketed_recently": ("marketed by another campaign recently", "近期已被其他营销任务呼叫"),
    "compliance.max_attempts": ("maximum attempts in this campaign reached", "本任务内呼叫次数已达上限"),
    "compliance.dnc": ("on a do-not-call list", "在免打扰名单中"),
    "compliance.region_excluded": ("the callee's region is excluded", "被叫所在地区被排除"),
    "compliance.no_consent": ("no valid consent on record", "无有效授权同意记录"),
    "compliance.override": ("a supervisor overrode the hold", "主管已覆盖拦截"),
}


def describe(code: str) -> str:
    en, zh = REASON_TEXT.get(code, (code, code))
    return f"{en} / {zh}"
