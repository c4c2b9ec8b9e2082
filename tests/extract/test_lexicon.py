"""Every rule of the lexicon exercised by a sentence written for this test, positive and negative."""

import tomllib
from importlib import resources

import pytest

from etl.extract.facts import extract_text
from etl.extract.lexicon import LexiconError, indicator_specs, load_lexicon, parse_lexicon

ISSUER = "320900"  # 盐城市: the region of every sentence below unless it names another


def facts(text):
    return {(f.indicator, f.value, f.qualifier, f.change) for f in extract_text(text, issuer_region=ISSUER)}


POSITIVE = {
    "social_work_stations": ("盐城市已建成镇（街道）社会工作服务站136个。", 136),
    "station_coverage_rate": ("盐城市社工站建成率达到97.5%。", 97.5),
    "social_work_orgs": ("盐城市登记的社工机构共有58家。", 58),
    "community_social_orgs": ("盐城市备案社区社会组织4600个。", 4600),
    "social_workers": ("盐城市配备驻站社工310名。", 310),
    "certified_social_workers": ("盐城市持证社会工作者达到5200人。", 5200),
    "volunteers": ("盐城市注册志愿者突破20万名。", 200000),
    "service_projects": ("盐城市实施民生服务项目88个。", 88),
    "service_activities": ("盐城市各社工站开展主题活动1500余场。", 1500),
    "people_served": ("盐城市社工站服务困难群众12万人次。", 120000),
    "funding": ("盐城市筹措福彩公益金760万元用于社工站运营。", 7600000),
}


@pytest.mark.parametrize("code", sorted(POSITIVE))
def test_each_indicator_has_a_sentence_that_reads_it(code):
    text, value = POSITIVE[code]
    got = {(i, v) for i, v, _, _ in facts(text)}
    assert (code, value) in got, got


def test_every_indicator_of_the_contract_is_covered_here_and_in_the_lexicon():
    assert set(POSITIVE) == set(indicator_specs()) == set(load_lexicon().rules)


def test_a_unit_the_indicator_does_not_admit_is_no_fact():
    # 社工 counts people: a number of 个 after it counts something else (社工人才基地 is a false friend anyway)
    assert facts("盐城市社工工作小组3个。") == set()


def test_people_served_by_head_needs_a_service_word():
    assert facts("盐城市有困难群众3000户。") == set()
    assert ("people_served", 3000, "exact", "level") in facts("盐城市社工站帮扶困难群众3000户。")


def test_training_person_times_are_not_people_served():
    assert facts("盐城市组织社工培训2600人次。") == set()


NEGATIVE = {
    "plan": "盐城市计划建设社工站150个。",
    "plan_sentence": "下一步，盐城市还要新建社工站20个。",
    "ratio": "盐城市每万人拥有持证社工15人。",
    "honours": "盐城市评选优秀社工30名。",
    "prices": "盐城市社工月薪标准为5000元。",
    "exams_sentence": "盐城市今年报考社会工作者的共有3000人，其中助理社会工作师1800人。",
    "honours_after": "盐城市共有12个社工站被评为省级示范站。",
    "exams_after": "盐城市今年有2.2万人报名参加社工考试。",
    "balance_after": "盐城市社工站项目资金36万元结转下年使用。",
}
PATTERNS = {
    "plan_sentence": ["盐城市社会工作发展规划提出到2030年，全市持证社工达到1万人。"],
    "ratio": ["盐城市按每5万人配备3名专职社工测算。", "盐城市给8个乡镇各建设1个社工站。"],
}


@pytest.mark.parametrize("kind", sorted(NEGATIVE))
def test_each_exclusion_kind_voids_the_number(kind):
    assert facts(NEGATIVE[kind]) == set()


def test_every_exclusion_kind_has_a_negative_sentence():
    assert set(NEGATIVE) == set(load_lexicon().exclusions)
    raw = tomllib.loads(resources.files("etl.data").joinpath("lexicon.toml").read_text(encoding="utf-8"))
    assert set(PATTERNS) == set(raw["exclusion_patterns"])


@pytest.mark.parametrize("text", [t for ts in PATTERNS.values() for t in ts])
def test_each_exclusion_pattern_voids_the_number(text):
    assert facts(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "盐城市取得社会工作者职业资格证书的有4100人。",
        "盐城市持有社会工作师证书人数达到950人。",
        "盐城市今年共有620人通过全国社会工作者职业水平考试。",
    ],
)
def test_holding_a_qualification_counts_certified_social_workers(text):
    got = {(i, v) for i, v, _, _ in facts(text)}
    assert len(got) == 1 and next(iter(got))[0] == "certified_social_workers", got


def test_passing_a_preliminary_review_is_not_holding_a_qualification():
    assert facts("盐城市今年有500人通过社会工作者职业水平考试资格初审。") == set()


def test_a_verb_after_the_measure_word_closes_the_count():
    # the 40 people passed an exam named after social workers: they are not counted as social workers
    got = facts("盐城市40人通过社会工作者考试。")
    assert ("social_workers", 40, "exact", "level") not in got


FALSE_FRIENDS = {
    "社区服务站": "盐城市建成社区服务站200个。",
    "便民服务站": "盐城市设立便民服务站60个。",
    "服务点": "盐城市社工站设立服务点40个。",
    "分会场服务点": "活动设置社工站分会场服务点12个。",
    "社会组织孵化基地": "盐城市建成社会组织孵化基地9个。",
    "社工室": "盐城市建成村（社区）社工室1200个。",
    "社会工作室": "盐城市挂牌社会工作室300个。",
    "县级总站": "盐城市建成社工站县级总站9个。",
    "社工总站": "盐城市共有社工总站9个。",
    "社会工作协会": "盐城市成立社会工作协会10家。",
    "社工协会": "盐城市各县成立社工协会9家。",
    "社会工作专业院校": "盐城市开设社会工作专业院校3所。",
    "社会工作专业毕业生": "盐城市每届社会工作专业毕业生300人。",
    "社工证": "盐城市今年有200人考取社工证。",
    "社工人才基地": "盐城市建成社工人才基地5个。",
    "社会工作专业人才基地": "盐城市授牌社会工作专业人才基地4个。",
    "培训班": "盐城市社工站举办社工培训班12期。",
    "兴趣班": "盐城市社工站开设老年兴趣班25个。",
    "班级": "盐城市社区大学组建班级30个，服务活动丰富。",
    "课堂": "盐城市社工站开办四点半课堂40个。",
    "社区基金": "盐城市社工站培育的社区基金达到45个。",
    "社会组织服务中心": "盐城市社会组织服务中心覆盖率达到60%。",
    "考察团": "盐城市社工站接待各地考察团30多个。",
}


@pytest.mark.parametrize(
    "text",
    [
        "盐城市社工站建设成效排名全省第2位。",  # a rank
        "盐城市社工站建设始于2018年。",  # a year
        "盐城市每个社工站场地不少于60平米。",  # an area
        "盐城市社工站服务面积达到120平方米。",  # an area
        "盐城市社会工作者职业资格考试报名人数达9000人。",  # exam registrants
    ],
)
def test_ranks_years_areas_and_exam_registrants_are_not_indicators(text):
    assert facts(text) == set()


@pytest.mark.parametrize("term", sorted(FALSE_FRIENDS))
def test_false_friends_are_not_indicators(term):
    assert facts(FALSE_FRIENDS[term]) == set()


def test_every_false_friend_has_a_sentence():
    raw = tomllib.loads(resources.files("etl.data").joinpath("lexicon.toml").read_text(encoding="utf-8"))
    assert set(FALSE_FRIENDS) == set(raw["false_friends"]["terms"])


def test_generic_social_organisations_are_not_community_ones():
    assert facts("盐城市登记社会组织5100家。") == set()


def test_increment_and_level_kept_apart():
    got = facts("盐城市今年新增社工站12个，社工站总数达到148个。")
    assert got == {
        ("social_work_stations", 12, "exact", "increment"),
        ("social_work_stations", 148, "exact", "level"),
    }


def test_breakdown_of_the_same_figure_is_not_repeated():
    got = facts("盐城市社会工作者共4000人，其中社会工作者2000人在乡镇。")
    assert got == {("social_workers", 4000, "exact", "level")}
    got = facts("盐城市社会工作者共4000人，其中持证社会工作者2600人。")
    assert ("certified_social_workers", 2600, "exact", "level") in got


def test_full_coverage_reads_as_one_hundred_percent():
    assert ("station_coverage_rate", 100, "exact", "level") in facts("盐城市已实现乡镇（街道）社工站全覆盖。")
    assert facts("盐城市力争年内实现乡镇（街道）社工站全覆盖。") == set()


def test_lexicon_errors_name_the_problem():
    with pytest.raises(LexiconError, match="unknown code 'nope'"):
        parse_lexicon({"indicator": [{"code": "nope"}]})
    with pytest.raises(LexiconError, match="no lexicon entry for indicators"):
        parse_lexicon({"indicator": []})
