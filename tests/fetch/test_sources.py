import pytest

from etl.fetch.sources import SourceConfigError, load_sources

GOOD = """
[[source]]
id = "a"
name = "某市民政局"
kind = "html_list"
list_url = "https://mzj.example.gov.cn/list.html"
region = "320700"
since = "2024-01-01"
politeness = { concurrency = 1, delay = 2.0 }
"""


def test_loads_a_valid_source(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text(GOOD, encoding="utf-8")
    [s] = load_sources(tmp_path)
    assert s.allowed_hosts == ("mzj.example.gov.cn",)
    assert s.politeness.delay == 2.0 and s.region == "320700"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('kind = "html_list"', 'kind = "ftp"'), "kind"),
        (('region = "320700"', 'region = "999999"'), "region"),
        (('since = "2024-01-01"', 'since = "yesterday"'), "since"),
        (("delay = 2.0", "delay = -1"), "politeness.delay"),
        (('list_url = "https://mzj.example.gov.cn/list.html"', 'list_url = "mzj"'), "list_url"),
        (('name = "某市民政局"', 'name = "x"\ncolour = "red"'), "colour"),
    ],
)
def test_errors_name_file_and_field(tmp_path, change, field):
    f = tmp_path / "bad.toml"
    f.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(SourceConfigError) as e:
        load_sources(f)
    assert str(f) in str(e.value) and repr(field) in str(e.value)


def test_duplicate_ids_across_files(tmp_path):
    (tmp_path / "1.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "2.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(SourceConfigError, match="already defined"):
        load_sources(tmp_path)


def test_registry_parsed_once_per_content_and_reread_when_it_changes(tmp_path, monkeypatch):
    import tomllib

    from etl.fetch import registry
    from etl.fetch.sources import load_fetch_config

    parsed = []
    real = tomllib.loads
    monkeypatch.setattr(registry.tomllib, "loads", lambda text: parsed.append(text) or real(text))
    registry.parse_toml.cache_clear()
    f = tmp_path / "a.toml"
    f.write_text(GOOD + '\n[fetch]\ncontact_url = "mailto:a@example.org"\n', encoding="utf-8")
    assert [s.id for s in load_sources(f)] == ["a"]
    assert load_fetch_config(f).contact_url == "mailto:a@example.org"
    assert len(parsed) == 1  # the sources and the [fetch] table from one parse
    # rewritten at once with the same size: a new content, read again (an mtime key could miss it)
    f.write_text(
        GOOD.replace('id = "a"', 'id = "b"') + '\n[fetch]\ncontact_url = "mailto:b@example.org"\n',
        encoding="utf-8",
    )
    assert [s.id for s in load_sources(f)] == ["b"]
    assert load_fetch_config(f).contact_url == "mailto:b@example.org"
    assert len(parsed) == 2
