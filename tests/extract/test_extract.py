"""Extraction on sentences written for these tests (never copied from real bulletins)."""

from etl.extract.facts import extract_text


def facts(text, **kw):
    return {(f.indicator, f.region_code, f.value, f.qualifier) for f in extract_text(text, **kw)}


def test_counts_read_from_the_noun_after_the_measure_word():
    got = facts("泰州市民政局介绍，全市培育了36家社会工作服务机构、1200余名社会工作专业人才。")
    assert got == {
        ("social_work_orgs", "321200", 36, "exact"),
        ("social_workers", "321200", 1200, "more_than"),
    }


def test_counts_read_from_the_term_before_the_number():
    got = facts("目前，盐城市有乡镇（街道）社工站130个，建成率达100%，持证社会工作者4200人。")
    assert got == {
        ("social_work_stations", "320900", 130, "exact"),
        ("station_coverage_rate", "320900", 100, "exact"),
        ("certified_social_workers", "320900", 4200, "exact"),
    }


def test_money_people_served_and_volunteers():
    got = facts("宿迁市民政局筹措福彩公益金520万元，发动志愿者3000余名，服务困难群众8.5万人次。")
    assert got == {
        ("funding", "321300", 5200000, "exact"),
        ("volunteers", "321300", 3000, "more_than"),
        ("people_served", "321300", 85000, "exact"),
    }


def test_numbers_counting_something_else_are_not_facts():
    text = (
        "镇江市共有65个乡镇（街道），社会组织孵化基地面积800平米，全市社工站有12个分站服务点。排名全省第3位。"
    )
    assert facts(text) == set()


def test_generic_social_orgs_and_community_service_stations_are_not_indicators():
    text = "常州市登记社会组织4500家，建成社区服务站300个。"
    assert facts(text) == set()


def test_per_capita_ratios_plans_and_awards_are_not_facts():
    text = "无锡市每万人拥有持证社工18人。到2027年，全市将建成社工站100个。今年共评选出优秀社工20名。"
    assert facts(text) == set()


def test_increments_are_kept_apart_from_levels():
    out = extract_text("今年南通市新增持证社会工作者900人。南通市持证社会工作者共有6300人。")
    by_value = {f.value: f.change for f in out}
    assert by_value == {900: "increment", 6300: "level"}


def test_collective_words_take_the_article_region():
    text = "扬州市民政局召开会议。会议指出，全市已建成社工站82个。"
    assert facts(text) == {("social_work_stations", "321000", 82, "exact")}


def test_a_place_inside_the_article_region_wins():
    text = "江苏省民政厅通报各地进展。其中，徐州市建成社工站160个，全省共建成社工站1290个。"
    assert facts(text) == {
        ("social_work_stations", "320300", 160, "exact"),
        ("social_work_stations", "320000", 1290, "exact"),
    }


def test_a_sentence_about_another_place_yields_nothing():
    text = "某区民政局赴外地学习。据介绍，杭州市已建成社工站190个。"
    got = facts(text, issuer_region="320115")  # 江宁区 report mentioning Hangzhou
    assert got == set()


def test_ambiguous_district_falls_back_to_article_region():
    # 鼓楼区 exists in several cities: in a 福州 report it is not guessed, the report's region stands.
    text = "福州市民政局消息，鼓楼区建成社工站10个。"
    assert facts(text) == {("social_work_stations", "350102", 10, "exact")} or facts(text) == {
        ("social_work_stations", "350100", 10, "exact")
    }


def test_national_figures():
    text = "民政部消息，截至去年底，全国共建成乡镇（街道）社工站2.9万个，覆盖率达92%。"
    assert facts(text) == {
        ("social_work_stations", "100000", 29000, "exact"),
        ("station_coverage_rate", "100000", 92, "exact"),
    }


def test_traditional_characters():
    text = "淮安市社會工作服務機構共有28家，社工站服務群眾12萬人次。"
    got = facts(text)
    assert ("social_work_orgs", "320800", 28, "exact") in got


def test_newspaper_page_split_gives_each_article_its_region():
    page = (
        "江苏泰州：\n全市建成社工站85个。\n（据泰州市民政局）\n"
        "四川绵阳：\n全市建成社工站270个，投入资金900万元。\n（据绵阳市民政局）\n"
    )
    assert facts(page) == {
        ("social_work_stations", "321200", 85, "exact"),
        ("social_work_stations", "510700", 270, "exact"),
        ("funding", "510700", 9000000, "exact"),
    }


def test_hard_wrapped_lines_are_joined_and_evidence_is_verbatim_with_span():
    raw = "淄博市民政局介绍，全市\n\n累计投入资金超\n\n200万\n\n元。"
    out = extract_text(raw)
    assert [(f.indicator, f.value, f.qualifier) for f in out] == [("funding", 2000000, "more_than")]
    f = out[0]
    assert f.evidence == "全市累计投入资金超200万元"
    assert raw[f.span_start : f.span_end].replace("\n", "") == f.evidence


def test_wrapped_number_and_unit_with_spaces():
    out = extract_text("烟台市整合社会资金 1 200.5 万元。")
    assert out == [] or all(f.value != 1200.5 for f in out)
    out = extract_text("烟台市整合社会资金 1200.5 万元。")
    assert [(f.indicator, f.value) for f in out] == [("funding", 12005000)]
