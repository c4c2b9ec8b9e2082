from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.extract.numbers import find_quantities, parse_chinese_numeral


def one(text):
    qs = find_quantities(text)
    assert len(qs) == 1, [(q.value, q.unit, text[q.start : q.end]) for q in qs]
    return qs[0]


@pytest.mark.parametrize(
    ("text", "value", "unit", "qualifier"),
    [
        ("共有社工站88个", 88, "个", "exact"),
        ("服务群众15万人次", 150000, "人次", "exact"),
        ("累计投入2,450万元", 24500000, "元", "exact"),
        ("投入资金1.2亿元", 120000000, "元", "exact"),
        ("筹集善款 3.06 万元", 30600, "元", "exact"),
        ("发展志愿者六千余名", 6000, "名", "more_than"),
        ("社工两万五千人", 25000, "人", "exact"),
        ("配备社工两万五人", 25000, "人", "exact"),
        ("社工三千余人", 3000, "人", "more_than"),
        ("覆盖率达95.29%", Decimal("95.29"), "%", "exact"),
        ("建成率百分之八十五", 85, "%", "exact"),
        ("惠及群众超过8000人次", 8000, "人次", "more_than"),
        ("资金逾500万元", 5000000, "元", "more_than"),
        ("突破1万名", 10000, "名", "more_than"),
        ("约120个", 120, "个", "about"),
        ("近三千人", 3000, "人", "about"),
        ("400人左右", 400, "人", "about"),
        ("大约60家", 60, "家", "about"),
        ("不足50人", 50, "人", "less_than"),
        ("不到20个", 20, "个", "less_than"),
        ("300人以上", 300, "人", "more_than"),
        ("200人以下", 200, "人", "less_than"),
        ("９６名", 96, "名", "exact"),
        ("超千余人次", 1000, "人次", "more_than"),
        ("6000多万元", 60000000, "元", "more_than"),
        ("10万余人次", 100000, "人次", "more_than"),
    ],
)
def test_reads_quantities(text, value, unit, qualifier):
    from etl.extract.textnorm import normalize

    q = one(normalize(text).text)
    assert q.value == Decimal(value)
    assert q.unit == unit
    assert q.qualifier == qualifier


@pytest.mark.parametrize(
    "text", ["一线社工", "老百姓", "十分重要", "五保户", "一次性补助", "千家万户", "一个又一个", "第十二届"]
)
def test_words_made_of_numerals_are_not_numbers(text):
    assert [q for q in find_quantities(text) if q.unit] == []


def test_ranges_take_the_lower_bound_and_keep_the_upper():
    q = one("补助3-5万元")
    assert (q.value, q.high, q.qualifier, q.unit) == (30000, 50000, "more_than", "元")
    q = one("补助3万至5万元")
    assert (q.value, q.high) == (30000, 50000)
    q = one("建设2至4个")
    assert (q.value, q.high, q.unit) == (2, 4, "个")


def test_from_to_is_two_counts_not_a_range():
    qs = find_quantities("持证人数从3名增加到57名")
    assert [(q.value, q.qualifier) for q in qs] == [(3, "exact"), (57, "exact")]


def test_targets_are_flagged():
    q = one("活动≥12场")
    assert q.target and q.value == 12


def test_identifiers_and_ordinals_are_not_counts():
    assert [q.value for q in find_quantities("编号A12个") if q.unit] == []
    assert find_quantities("第3批") == [] or all(q.value != 3 for q in find_quantities("第3批"))


@pytest.mark.parametrize(
    ("cn", "value"),
    [
        ("一千二百万", 12_000_000),
        ("两万五", 25_000),
        ("三千五", 3_500),
        ("十二", 12),
        ("一百零五", 105),
        ("二〇二三", 2023),
        ("十万", 100_000),
        ("一亿二千万", 120_000_000),
        ("三百", 300),
    ],
)
def test_chinese_numerals(cn, value):
    assert parse_chinese_numeral(cn) == value


_DIGITS = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """Render 1..99,999,999 in standard Chinese numerals (the inverse the reader must satisfy)."""

    def below_10k(x: int, pad: bool) -> str:
        out, zero = "", False
        for unit, div in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
            d = x // div % 10
            if d:
                if zero or (pad and not out and div < 1000):
                    out += "零"
                out += _DIGITS[d] + unit
                zero = False
            elif out:
                zero = True
        return out

    high, low = divmod(n, 10_000)
    s = below_10k(high, False) + "万" if high else ""
    if low:
        s += below_10k(low, bool(high))
    return s


@given(st.integers(min_value=1, max_value=99_999_999))
def test_chinese_rendering_reads_back(n):
    assert parse_chinese_numeral(to_chinese(n)) == n


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["名", "个", "人次", "家"]))
def test_arabic_with_separators_reads_back(n, unit):
    q = one(f"共{n:,}{unit}")
    assert q.value == n and q.unit == unit


@given(st.integers(min_value=1, max_value=99_999), st.integers(min_value=0, max_value=99))
def test_wan_with_decimals_reads_back(whole, frac):
    q = one(f"投入{whole}.{frac:02d}万元")
    assert q.value == Decimal(f"{whole}.{frac:02d}") * 10_000


@given(st.integers(min_value=2, max_value=99_999_999), st.sampled_from(["名", "个", "人次"]))
def test_chinese_counts_in_text_read_back(n, unit):
    q = one(f"共有{to_chinese(n)}{unit}")
    assert q.value == n
