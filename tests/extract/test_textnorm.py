from etl.extract.textnorm import normalize, split_clauses


def test_joins_wrapped_lines_and_maps_offsets():
    raw = "全县已建设完成 19个乡镇（街道）\n\n社工站。\n（据某县民政局）\n下一段"
    n = normalize(raw)
    assert n.text == "全县已建设完成19个乡镇（街道）社工站。\n（据某县民政局）\n下一段"
    i = n.text.index("社工站")
    s, e = n.original_span(i, i + 3)
    assert raw[s:e] == "社工站"


def test_full_width_digits_fold_but_full_width_comma_stays():
    n = normalize("共１２，３４５人")
    assert n.text == "共12，345人"


def test_ascii_comma_is_a_separator_only_between_thousands():
    text = "共1,200人,服务3000人次"
    assert [text[s:e] for s, e in split_clauses(text)] == ["共1,200人", "服务3000人次"]


def test_table_cells_stay_apart():
    n = normalize("序号\n1\n运营社工站\n1\n100%")
    assert n.text.split("\n") == ["序号", "1", "运营社工站", "1", "100%"]
