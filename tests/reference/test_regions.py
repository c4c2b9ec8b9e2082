from etl.parse.articles import headline_region, split_articles
from etl.reference.regions import NATIONAL, load_gazetteer


def test_gazetteer_covers_every_level_with_parents():
    gaz = load_gazetteer()
    levels = {}
    for r in gaz.by_code.values():
        levels[r.level] = levels.get(r.level, 0) + 1
    assert levels["province"] == 34 and levels["prefecture"] > 330 and levels["county"] > 2800
    assert gaz.ancestors("320722") == ["320722", "320700", "320000", NATIONAL]
    assert gaz.get("653100").name == "喀什地区"
    # county-level city directly under a province
    assert gaz.get("419001").parent_code == "410000"


def test_short_names_and_context():
    gaz = load_gazetteer()
    m = {x.text: x.codes for x in gaz.mentions("阜阳、喀什、东海县和古城区")}
    assert m["阜阳"] == ("341200",)
    assert gaz.disambiguate(m["喀什"], set()) == "653100"  # prefecture over its seat 喀什市
    assert gaz.disambiguate(gaz.aliases["古城区"], {"530700"}) == "530702"
    gulou = gaz.aliases["鼓楼区"]
    assert len(gulou) > 1
    assert gaz.disambiguate(gulou, set()) is None  # never guessed
    assert gaz.disambiguate(gulou, {"350100"}) == "350102"


def test_everyday_words_are_not_places():
    gaz = load_gazetteer()
    assert [m.text for m in gaz.mentions("新华社记者在城区看到和平广场的资源")] == []
    assert [m.text for m in gaz.mentions("柳河村的村民")] == []


def test_headlines_and_article_split():
    gaz = load_gazetteer()
    assert headline_region("安徽阜阳：", gaz) == "341200"
    assert headline_region("云南丽江古城区：", gaz) == "530702"
    assert headline_region("江苏东海：", gaz) == "320722"
    assert headline_region("扎实推进社工站建设：", gaz) is None
    page = "开头一段没有标题的报道，讲的是别处的事情，足够长的一段文字。\n浙江湖州：\n湖州的报道正文内容写在这里，足够长。\n（据湖州市民政局）\n"
    spans = split_articles(page, gaz)
    assert [s.region for s in spans] == [None, "330500"]
    assert page[spans[1].start : spans[1].end].rstrip().endswith("（据湖州市民政局）")
