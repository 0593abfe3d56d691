"""The console's words in Simplified Chinese and English, and which language a request gets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request

LANGS = ("zh", "en")
LANG_COOKIE = "waihu_lang"

# key -> (English, 中文)
TEXT: dict[str, tuple[str, str]] = {
    "app": ("waihu console", "外呼控制台"),
    "login.title": ("Log in", "登录"),
    "login.username": ("Username", "用户名"),
    "login.password": ("Password", "密码"),
    "login.submit": ("Log in", "登录"),
    "login.failed": ("Wrong username or password.", "用户名或密码错误。"),
    "login.tenant": ("Tenant (only if asked)", "租户（仅在提示时填写）"),
    "login.tenant_required": ("This username exists in several tenants: enter yours.",
                              "该用户名存在于多个租户：请填写您的租户。"),
    "logout": ("Log out", "退出"),
    "lang": ("Language", "语言"),
    "nav.desk": ("Agent desktop", "座席工作台"),
    "nav.wallboard": ("Wallboard", "监控大屏"),
    "nav.campaigns": ("Campaigns", "外呼任务"),
    "nav.imports": ("Contact import", "名单导入"),
    "state": ("State", "状态"),
    "since": ("Time in state", "当前状态时长"),
    "desk.ready": ("Ready", "就绪"),
    "desk.break": ("Break", "小休"),
    "desk.login": ("Log in to the floor", "签入"),
    "desk.logout": ("Log out of the floor", "签出"),
    "desk.reason": ("Reason", "原因"),
    "dnc.source": ("Source", "来源"),
    "dnc.src.complaint": ("Complaint", "投诉"),
    "dnc.src.ivr_opt_out": ("Opted out (IVR)", "按键退订"),
    "dnc.src.customer_request": ("Customer request", "客户要求"),
    "dnc.src.regulator": ("Regulator", "监管要求"),
    "dnc.src.carrier": ("Carrier", "运营商"),
    "desk.no_agent": ("This login is not linked to an agent.", "此账号未关联座席。"),
    "desk.offline": ("Not on the floor", "未签入"),
    "pop.title": ("Customer", "客户信息"),
    "pop.name": ("Name", "姓名"),
    "pop.phones": ("Phone", "电话"),
    "pop.tags": ("Tags", "标签"),
    "pop.history": ("History", "历史记录"),
    "pop.campaign": ("Campaign", "任务"),
    "pop.outcome": ("Outcome", "结果"),
    "wrap.title": ("Disposition", "通话小结"),
    "wrap.code": ("Result", "结果"),
    "wrap.note": ("Note", "备注"),
    "wrap.callback": ("Call back at", "回拨时间"),
    "wrap.personal": ("Personal callback", "个人回拨"),
    "wrap.submit": ("Save", "保存"),
    "wrap.left": ("Wrap-up left (s)", "整理剩余（秒）"),
    "preview.title": ("Preview", "预览"),
    "preview.accept": ("Call", "拨打"),
    "preview.skip": ("Skip", "跳过"),
    "wb.agents": ("Agents", "座席"),
    "wb.agent": ("Agent", "座席"),
    "wb.campaigns": ("Campaigns", "任务"),
    "wb.dialed": ("Dialed", "已拨"),
    "wb.answered": ("Answered", "接通"),
    "wb.connected": ("Connected", "转座席"),
    "wb.abandoned": ("Abandoned", "放弃"),
    "wb.connect_rate": ("Connect rate", "接通率"),
    "wb.abandon_rate": ("Abandon rate", "放弃率"),
    "wb.occupancy": ("Occupancy", "占用率"),
    "wb.backlog": ("Calls in progress", "进行中通话"),
    "wb.force_break": ("Force break", "强制小休"),
    "wb.force_logout": ("Force log out", "强制签出"),
    "c.name": ("Name", "名称"),
    "c.mode": ("Dial mode", "外呼模式"),
    "c.state": ("State", "状态"),
    "c.contacts": ("Contacts", "名单数"),
    "c.create": ("Create campaign", "新建任务"),
    "c.start": ("Start", "启动"),
    "c.pause": ("Pause", "暂停"),
    "c.created": ("Created", "创建时间"),
    "i.file": ("Contact file (CSV or XLSX)", "名单文件（CSV 或 XLSX）"),
    "i.campaign": ("Add to campaign", "加入任务"),
    "i.none": ("(none)", "（无）"),
    "i.upload": ("Upload", "上传"),
    "i.imported": ("Imported", "已导入"),
    "i.duplicates": ("Duplicates merged", "重复合并"),
    "i.rejected": ("Rejected rows", "拒绝行数"),
    "i.row": ("Row", "行号"),
    "i.error": ("Problem", "问题"),
    "i.field": ("Column", "列"),
    "i.code": ("Code", "错误码"),
    "err.title": ("Something is wrong", "出错了"),
    "err.not_found": ("Not found.", "未找到。"),
    "err.forbidden": ("You may not open this page.", "您无权访问此页面。"),
    "err.csrf": ("The form expired; reload the page and try again.", "表单已失效，请刷新后重试。"),
    "st.offline": ("Offline", "离线"),
    "st.ready": ("Ready", "就绪"),
    "st.reserved": ("Reserved", "预占"),
    "st.talking": ("Talking", "通话中"),
    "st.wrap_up": ("Wrap-up", "话后整理"),
    "st.break": ("Break", "小休"),
    "st.phone_ringing": ("Calling your phone…", "正在呼叫您的话机…"),
    "wb.target": ("target", "目标"),
    "wb.action": ("Action", "操作"),
    "pop.script": ("Script", "话术"),
    "pop.masked": ("masked", "已脱敏"),
    "i.report": ("Import report", "导入报告"),
    "cs.draft": ("Draft", "草稿"),
    "cs.running": ("Running", "运行中"),
    "cs.paused": ("Paused", "已暂停"),
    "cs.completed": ("Completed", "已完成"),
    "cs.archived": ("Archived", "已归档"),
    "pop.when": ("Time", "时间"),
    "nav.dnc": ("Do-not-call", "免打扰名单"),
    "nav.users": ("Users", "用户"),
    "nav.tokens": ("API tokens", "接口令牌"),
    "search": ("Customer search", "客户查询"),
    "add": ("Add", "添加"),
    "remove": ("Remove", "移除"),
    "role": ("Role", "角色"),
    "call": ("Call", "呼叫"),
    "call.manual": ("Number to call", "呼叫号码"),
    "token.once": ("Copy the new token now: it is shown only once.", "请立即复制新令牌：它只显示这一次。"),
    "token.revoked": ("Revoked", "已吊销"),
    "token.revoke": ("Revoke", "吊销"),
    "c.abandon_target": ("Abandon-rate target (%)", "放弃率目标（%）"),
    "c.ring_timeout": ("Ring timeout (s)", "振铃超时（秒）"),
    "c.wrap_limit": ("Wrap-up limit (s, empty: none)", "话后整理时限（秒，空为不限）"),
    "nav.webhooks": ("Webhooks", "回调通知"),
    "nav.lines": ("Trunks & caller IDs", "线路与外显号码"),
    "nav.reports": ("Reports", "报表"),
    "c.edit": ("Dialing settings", "外呼设置"),
    "c.save": ("Save", "保存"),
    "c.archive": ("Archive", "归档"),
    "c.locked": ("Pause the campaign to change how it dials.", "请先暂停任务再修改外呼设置。"),
    "c.pacing": ("Pacing algorithm", "预测算法"),
    "c.power_ratio": ("Lines per agent (power)", "每座席线路数（功率模式）"),
    "c.max_lines": ("Most lines at once (empty: no limit)", "最大并发线路（空为不限）"),
    "c.retry": ("Retry policy", "重拨策略"),
    "c.retry_kind": ("After", "结果"),
    "c.retry_delay": ("Wait (min)", "间隔（分钟）"),
    "c.retry_max": ("Attempts at most", "最多尝试次数"),
    "c.window": ("Calling window", "外呼时段"),
    "c.windows": ("Hours, callee's local time (e.g. 09:00-12:00, 13:30-20:00; empty: the tenant's)",
                  "时段，按被叫当地时间（如 09:00-12:00, 13:30-20:00；空为租户默认）"),
    "c.weekdays": ("Weekdays (none ticked: the tenant's)", "星期（都不选为租户默认）"),
    "rk.busy": ("Busy", "忙线"),
    "rk.no_answer": ("No answer", "无人接听"),
    "rk.rejected": ("Rejected", "拒接"),
    "rk.abandoned": ("Abandoned", "放弃"),
    "rk.line_failure": ("Line failure", "线路故障"),
    "rk.unreachable": ("Unreachable", "无法接通"),
    "wd.1": ("Mon", "一"), "wd.2": ("Tue", "二"), "wd.3": ("Wed", "三"), "wd.4": ("Thu", "四"),
    "wd.5": ("Fri", "五"), "wd.6": ("Sat", "六"), "wd.7": ("Sun", "日"),
    "i.recent": ("Recent imports", "最近导入"),
    "i.download": ("Download rejected rows (CSV)", "下载被拒绝的行（CSV）"),
    "wh.url": ("Address (https)", "回调地址（https）"),
    "wh.events": ("Events", "事件"),
    "wh.active": ("Active", "启用"),
    "wh.secret": ("Signing secret — copy it now, it is shown only once:", "签名密钥——请立即复制，仅显示这一次："),
    "wh.delete": ("Delete", "删除"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "ln.trunks": ("Trunks", "中继线路"),
    "ln.callerids": ("Caller IDs", "外显号码"),
    "ln.owner": ("Owner", "归属"),
    "ln.capacity": ("Channels", "并发数"),
    "ln.cps": ("Calls per second", "每秒呼叫数"),
    "ln.cost": ("Cost per minute", "每分钟费用"),
    "ln.regions": ("Regions", "地区"),
    "ln.business": ("Business", "业务类型"),
    "ln.priority": ("Priority", "优先级"),
    "ln.role": ("Role", "角色"),
    "ln.enabled": ("Enabled", "已启用"),
    "ln.enable": ("Enable", "启用"),
    "ln.disable": ("Disable", "停用"),
    "ln.asr": ("Answer rate (5 min)", "接通率（5 分钟）"),
    "ln.attempts": ("Attempts (5 min)", "呼叫数（5 分钟）"),
    "ln.losses": ("Loss causes (1 h)", "损失原因（1 小时）"),
    "ln.alarm": ("Alarm", "告警"),
    "ln.health": ("Trunk health", "线路健康"),
    "ln.add_trunk": ("Add trunk", "添加线路"),
    "ln.number": ("Number", "号码"),
    "ln.province": ("Province", "省份"),
    "ln.city": ("City", "城市"),
    "ln.type": ("Type", "类型"),
    "ln.status": ("Status", "状态"),
    "ln.marks": ("Spam marks", "标记次数"),
    "ln.daily_cap": ("Calls a day at most", "每日上限"),
    "ln.add_callerid": ("Add caller ID", "添加外显号码"),
    "ln.offline": ("Take offline", "下线"),
    "ln.clear": ("Clear", "恢复"),
    "ln.platform": ("platform", "平台"),
    "ln.tenant": ("own", "自有"),
    "ln.ok": ("OK", "正常"),
    "ln.sip": ("SIP address", "SIP 地址"),
    "ln.sip_password": ("SIP password (optional)", "SIP 密码（可选）"),
    "ln.simulated": ("simulated", "模拟线路"),
    "ln.h.enabled": ("in service", "在用"),
    "ln.h.ejected": ("ejected", "已剔除"),
    "ln.h.probing": ("probing", "探测中"),
    "r.daily": ("Daily report", "日报"),
    "r.campaign": ("Campaign report", "任务报告"),
    "r.date": ("Date", "日期"),
    "r.format": ("Format", "格式"),
    "r.download": ("Generate and download", "生成并下载"),
    "r.note": ("Figures are computed from the call records when you ask (in the tenant's time zone).",
               "报表在下载时根据通话记录计算（按租户时区）。"),
    "al.title": ("Alerts", "告警"),
    "al.none": ("No alerts.", "暂无告警。"),
    "al.connect_rate_low": ("Connect rate low", "接通率过低"),
    "al.abandon_rate_high": ("Abandon rate high", "放弃率过高"),
    "al.complaint_rate_high": ("Complaint rate high", "投诉率过高"),
    "al.trunk_down": ("Trunk down", "线路中断"),
    "al.backlog": ("Backlog of overdue contacts", "逾期名单积压"),
    "al.line_loss": ("Line losses high", "线路损失过高"),
    "al.answer_rate": ("Answer rate low", "接通率低"),
    "tk.disabled": ("Disabled", "已停用"),
    "al.when": ("Time", "时间"),
    "al.subject": ("Subject", "对象"),
    "al.value": ("value", "值"),
    "al.threshold": ("threshold", "阈值"),
    "live.none": ("The dialer runtime is not running.", "外呼引擎未运行。"),
}


def t(lang: str, key: str) -> str:
    en, zh = TEXT.get(key, (key, key))
    return zh if lang == "zh" else en


def from_accept(header: str | None) -> str:
    """zh for a browser that prefers Chinese, else en (quality values respected)."""
    best, best_q = "en", -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        tag = tag.strip().lower()
        lang = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang is not None and q > best_q:
            best, best_q = lang, q
    return best


def lang_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGS else from_accept(request.headers.get("accept-language"))


def fmt_time(ts: float | None, tz: str, lang: str) -> str:
    if ts is None:
        return ""
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    d = datetime.fromtimestamp(ts, zone)
    return d.strftime("%Y年%m月%d日 %H:%M:%S") if lang == "zh" else d.strftime("%d %b %Y %H:%M:%S")


def fmt_pct(x: float | None, lang: str) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def fmt_iso(value: str | None, tz: str, lang: str) -> str:
    """An ISO timestamp from the API's documents, shown in the user's time zone."""
    if not value:
        return ""
    try:
        return fmt_time(datetime.fromisoformat(value).timestamp(), tz, lang)
    except ValueError:
        return value
