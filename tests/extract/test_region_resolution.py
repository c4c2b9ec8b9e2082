"""Region resolution, step by step, on sentences written for these tests (never copied from real bulletins)."""

import pytest

from etl.extract.facts import extract
from etl.extract.region_resolution import document_subject, places
from etl.extract.textnorm import normalize
from etl.reference.regions import load_gazetteer


def placed(text, **kw):
    return {(f.indicator, f.region_code, f.value, f.region_basis) for f in extract(text, **kw).facts}


def unplaced(text, **kw):
    return {(f.indicator, f.value, f.region_basis) for f in extract(text, **kw).unplaced}


def subject(text, title=""):
    gaz = load_gazetteer()
    norm = normalize(text).text
    t = normalize(title).text
    return document_subject(
        norm, places(norm, gaz.mentions(norm), gaz), t, places(t, gaz.mentions(t), gaz, headline=True), gaz
    )


def test_issuer_is_the_subject_of_a_text_that_names_no_place():
    text = "今年以来，全县新建社工站6个，服务困难群众3200人次。"
    assert placed(text, issuer_region="320722") == {
        ("social_work_stations", "320722", 6, "collective"),
        ("people_served", "320722", 3200, "collective"),
    }
    assert placed("社工站服务困难群众3200人次。", issuer_region="320722") == {
        ("people_served", "320722", 3200, "issuer")
    }


def test_a_place_the_title_names_inside_the_issuer_is_the_subject():
    text = "近日，县民政局召开会议。会议介绍，社工站已开展活动120场。"
    got = placed(text, title="沭阳县社工站建设见成效", issuer_region="321300")
    assert got == {("service_activities", "321322", 120, "title")}


def test_a_title_naming_a_district_of_a_report_about_its_province_is_raised_to_the_province():
    s = subject(
        "省民政厅介绍，全省持证社工达到4.2万人，全省社工站实现全覆盖。", title="江宁区举行社工宣传周启动仪式"
    )
    assert (s.code, s.basis) == ("320000", "title")


def test_self_reference_takes_the_city_of_the_district_it_names():
    # 我市 and a district of 南京: the city is 南京, never the province or the district
    text = "我市社工宣传周启动仪式在江宁区举行。截至目前，我市共有持证社工1.8万人。"
    assert placed(text) == {("certified_social_workers", "320100", 18000, "collective")}


def test_dateline_names_the_county_of_a_local_paper():
    text = "本报沭阳讯 今年以来，某镇社工站开展关爱活动36场，服务留守儿童900人次。"
    got = placed(text)
    assert {(i, r) for i, r, _, _ in got} == {("service_activities", "321322"), ("people_served", "321322")}
    assert {b for _, _, _, b in got} == {"dateline"}


def test_nested_places_named_equally_resolve_to_the_most_specific():
    text = "位于湖州市的某街道社工站被评为浙江省五星级站点。该站去年服务群众2600人次。"
    assert placed(text) == {("people_served", "330500", 2600, "mentions")}


def test_a_larger_place_named_as_the_clause_subject_wins_over_the_capital():
    # a report set in the provincial capital about the whole province
    text = "启动仪式在郑州市举行。据介绍，河南省持证社工总数达到3.1万人。"
    assert placed(text) == {("certified_social_workers", "410000", 31000, "clause")}


def test_collective_city_word_in_a_district_report_means_the_city():
    text = "江宁区民政局介绍，江宁区建成社工站10个；全市建成社工站101个。"
    assert placed(text, issuer_region="320115") == {
        ("social_work_stations", "320115", 10, "clause"),
        ("social_work_stations", "320100", 101, "collective"),
    }


def test_a_collective_the_subject_cannot_give_is_undecided_not_guessed():
    # a city report saying 全区: which district is not said
    text = "南京市民政局消息，全区已建成社工站12个。"
    assert placed(text) == set()
    assert unplaced(text) == {("social_work_stations", 12, "undecided")}


def test_no_subject_at_all_leaves_the_numbers_undecided():
    assert unplaced("全省共建成社工站300个。") == {("social_work_stations", 300, "undecided")}


def test_names_shared_by_several_divisions_are_not_guessed():
    text = "和平区民政局介绍，全区共有注册志愿者5.2万人。"
    assert placed(text) == set()
    assert unplaced(text) == {("volunteers", 52000, "undecided")}
    # the city named anywhere on the page decides it
    assert placed("沈阳市和平区民政局介绍，全区共有注册志愿者5.2万人。") == {
        ("volunteers", "210102", 52000, "collective")
    }


def test_a_place_outside_the_subject_is_elsewhere_and_kept_apart():
    text = "江宁区民政局赴外地学习。据介绍，杭州市已建成社工站190个。"
    assert placed(text, issuer_region="320115") == set()
    assert unplaced(text, issuer_region="320115") == {("social_work_stations", 190, "elsewhere")}


@pytest.mark.parametrize(
    "text",
    [
        "社工站积极宣传惠民政策，开展惠民活动20场。",  # 惠民 is no 惠民县 here
        "今年新建社工站8个。",  # 新建 is no 新建区
        "各级民政部门共建成社工站50个。",  # 民政部门 is no ministry
        "社工站开展活动，增强了居民的幸福感和安全感，共服务800人次。",  # 和安 is no 和安县
        "全市建成县级社工中心12个。",  # 县级 is no 成县
    ],
)
def test_place_names_inside_ordinary_words_are_not_places(text):
    assert placed(text) == set()


def test_an_everyday_short_name_counts_where_it_reads_as_a_place():
    text = "惠民县民政局介绍，惠民全县已建成社工站12个。"
    assert placed(text) == {("social_work_stations", "371621", 12, "clause")}


def test_traditional_characters_are_folded_before_places_are_matched():
    text = "馬鞍山市民政局介紹，全市建成社工站98個。"
    assert placed(text) == {("social_work_stations", "340500", 98, "collective")}


def test_pinyin_annotations_of_reposts_do_not_hide_places_or_units():
    text = "長(zhǎng)樂(lè)區(qū)民政局介紹，全區(qū)建成社工站18個(gè)。"
    assert placed(text) == {("social_work_stations", "350112", 18, "collective")}


def test_every_placed_fact_has_a_basis():
    text = "泰州市民政局介绍，全市培育了36家社会工作服务机构、1200余名社会工作专业人才。"
    facts = extract(text).facts
    assert facts and all(f.region_basis for f in facts)


def test_undecided_numbers_are_quarantined_with_their_evidence_and_recovered_with_a_region(tmp_path):
    from dataclasses import replace
    from datetime import date

    from etl.orchestration.pages import add_extraction, extract_bulletin
    from etl.warehouse.database import open_warehouse
    from etl.warehouse.load import load_batch
    from tests.helpers import batch, bulletin

    b = bulletin(
        "s", "/n.html", date(2024, 5, 1), text="县民政局介绍，全县共建成社工站14个，服务群众5600人次。"
    )
    first = batch("s", [b], [])
    add_extraction(first, b, extract_bulletin(b))
    db = tmp_path / "w.duckdb"
    with open_warehouse(db) as con:
        stats = load_batch(con, first, "r1")
        assert stats.facts == 0 and stats.quarantined == 2
        rows = con.execute(
            "select layer, check_name, reason from quarantine where record_key = ? order by reason",
            [b.bulletin_id],
        ).fetchall()
        assert [(layer, check) for layer, check, _ in rows] == [("extract", "region_undecided")] * 2
        assert all("region undecided" in r and b.url in r for _, _, r in rows)
        assert any("全县共建成社工站14个" in r for _, _, r in rows)
        # the source's region on a re-parse places them and clears the quarantine
        b2 = replace(b, issuer_region="320722")
        second = batch("s", [b2], [])
        add_extraction(second, b2, extract_bulletin(b2))
        assert load_batch(con, second, "r2").facts == 2
        assert con.execute("select count(*) from quarantine").fetchone()[0] == 0
        got = con.execute("select indicator, region_code, region_basis from core_fact order by 1").fetchall()
        assert got == [
            ("people_served", "320722", "collective"),
            ("social_work_stations", "320722", "collective"),
        ]
