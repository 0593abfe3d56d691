"""Write the sample contact files next to this script.

    python examples/contacts/make_samples.py

The numbers are fictional: they follow the numbering plans (so they import) but are made up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

ZH_HEADER = ["手机号", "姓名", "性别", "年龄", "地区", "标签", "备用电话", "会员卡号", "备注"]
ZH_ROWS = [
    ["138 1234 5670", "张伟", "男", "35", "北京", "老客户，高意向", "010-65432178", "VIP-0001", ""],
    ["+86 139 0000 1111", "王芳", "女", "28", "浙江", "新客户", "", "", "晚上联系"],
    ["15000001234", "李娜", "女", "", "上海", "", "0571-86541234", "VIP-0002", ""],
    ["", "刘洋", "男", "41", "广东", "", "020-87654321", "", "只有座机"],
    ["1380013800", "陈静", "女", "三十", "", "", "", "", "号码少一位、年龄不是数字"],
    ["18600001234", "杨帆", "男", "52", "四川", "回访", "88888888", "", "座机缺区号"],
]

EN_HEADER = ["Phone", "Full Name", "Email", "Tags", "Priority", "Source", "Company"]
EN_ROWS = [
    ["+1 415 555 0132", "Alex Doe", "alex@example.com", "lead; webinar", "2", "web", "Example Inc"],
    ["+44 20 7946 0958", "Sam Roe", "sam@example.org", "", "1", "referral", ""],
    ["13812345671", "Li Lei", "lilei@example.cn", "vip", "", "fair", "Example Ltd"],
    ["+86 139 0000 1111", "Han Meimei", "not an email", "", "high", "", ""],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "客户"
    sheet.append(["手机号", "客户姓名", "出生日期", "优先级", "客户等级", "固话"])
    # Phone cells typed as numbers, the way Excel stores them when nobody formats the column.
    sheet.append([13812345670, "周杰", dt.date(1990, 5, 17), 1, "A", None])
    sheet.append([13900001111.0, "吴敏", dt.date(1985, 11, 2), 2, "B", "0571-86541234"])
    sheet.append([None, None, None, None, None, None])
    sheet.append([15000001234, "郑强", None, 3, "C", None])
    sheet.append(["1.3800138E+10", "冯雪", None, None, None, None])
    stamp = dt.datetime(2024, 1, 1)  # noqa: DTZ001 - workbook metadata is naive
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.save(path)


def main() -> None:
    write_csv(HERE / "sample_zh_gbk.csv", ZH_HEADER, ZH_ROWS, "gbk")
    write_csv(HERE / "sample_en.csv", EN_HEADER, EN_ROWS, "utf-8")
    write_xlsx(HERE / "sample.xlsx")


if __name__ == "__main__":
    main()
