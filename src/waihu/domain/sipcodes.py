"""SIP final responses and Q.850 causes mapped to loss causes: the one mapping function.

``loss_cause_for(sip_code, reason_header)`` is pure. When the response carries an RFC 3326
``Reason: Q.850;cause=N`` header, the Q.850 cause wins over the SIP status code, because the
carrier's switch knows better than the status code it had to squeeze its answer into (many
gateways send 480 or 503 for every failure). The table is documented in docs/loss-causes.md.
"""

from __future__ import annotations

import re

from waihu.domain.calls import LossCause

# ITU-T Q.850 cause values
Q850: dict[int, LossCause] = {
    1: LossCause.EMPTY_NUMBER,  # unallocated (unassigned) number
    3: LossCause.EMPTY_NUMBER,  # no route to destination
    17: LossCause.BUSY,  # user busy
    18: LossCause.NO_ANSWER,  # no user responding
    19: LossCause.NO_ANSWER,  # no answer from user (user alerted)
    20: LossCause.POWERED_OFF,  # subscriber absent
    21: LossCause.REJECTED,  # call rejected
    22: LossCause.EMPTY_NUMBER,  # number changed
    27: LossCause.UNREACHABLE,  # destination out of order
    28: LossCause.EMPTY_NUMBER,  # invalid number format
    31: LossCause.NO_ANSWER,  # normal, unspecified (on a failed setup)
    34: LossCause.CONGESTION,  # no circuit/channel available
    38: LossCause.TECHNICAL,  # network out of order
    41: LossCause.TECHNICAL,  # temporary failure
    42: LossCause.CONGESTION,  # switching equipment congestion
    44: LossCause.CONGESTION,  # requested channel not available
    47: LossCause.CONGESTION,  # resource unavailable, unspecified
    50: LossCause.RISK_CONTROL,  # requested facility not subscribed
    55: LossCause.RISK_CONTROL,  # incoming calls barred within CUG
    57: LossCause.RISK_CONTROL,  # bearer capability not authorized
    63: LossCause.TECHNICAL,  # service or option not available
    102: LossCause.TIMEOUT,  # recovery on timer expiry
    127: LossCause.TECHNICAL,  # interworking, unspecified
}

SIP: dict[int, LossCause] = {
    486: LossCause.BUSY,
    600: LossCause.BUSY,
    480: LossCause.NO_ANSWER,
    408: LossCause.NO_ANSWER,
    487: LossCause.NO_ANSWER,  # request terminated: after our CANCEL
    404: LossCause.EMPTY_NUMBER,
    604: LossCause.EMPTY_NUMBER,
    484: LossCause.EMPTY_NUMBER,  # address incomplete
    410: LossCause.EMPTY_NUMBER,  # gone
    603: LossCause.REJECTED,  # declined by the callee
    403: LossCause.RISK_CONTROL,  # forbidden by the carrier: risk control / caller ID refused
    401: LossCause.TECHNICAL,  # a challenge we could not answer (no or wrong credentials)
    407: LossCause.TECHNICAL,
    488: LossCause.TECHNICAL,  # not acceptable here (codecs)
    606: LossCause.TECHNICAL,
    500: LossCause.TECHNICAL,  # Kamailio turns a trunk's 503 into 500
    501: LossCause.TECHNICAL,
    502: LossCause.CONGESTION,
    503: LossCause.CONGESTION,
    504: LossCause.TIMEOUT,
}

_Q850_RE = re.compile(r"^\s*Q\.850\s*;(?:.*?;)?\s*cause\s*=\s*(\d+)", re.IGNORECASE)
_Q850_ANY_RE = re.compile(r"Q\.850\s*;[^,]*?cause\s*=\s*(\d+)", re.IGNORECASE)


def q850_cause(reason_header: str | None) -> int | None:
    """The Q.850 cause in a Reason header value (``Q.850;cause=17;text="..."``), if any."""
    if not reason_header:
        return None
    m = _Q850_RE.search(reason_header) or _Q850_ANY_RE.search(reason_header)
    return int(m.group(1)) if m else None


def loss_cause_for(sip_code: int, reason_header: str | None = None) -> LossCause:
    """The loss cause of a failed call attempt from its final SIP status and Reason header."""
    q = q850_cause(reason_header)
    if q is not None and q in Q850:
        return Q850[q]
    if sip_code in SIP:
        return SIP[sip_code]
    if 600 <= sip_code < 700:
        return LossCause.REJECTED
    return LossCause.TECHNICAL  # other 4xx/5xx, 3xx we do not follow, nonsense codes
