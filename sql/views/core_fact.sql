-- Facts with their bulletin (URL, publication date), region and indicator: the layer marts read.
create or replace view core_fact as
select
    f.fact_id,
    f.bulletin_id,
    f.source_id,
    f.indicator,
    i.name_zh as indicator_name,
    f.region_code,
    f.region_basis,
    r.name as region_name,
    r.level as region_level,
    r.province_code,
    f.value,
    f.value_high,
    f.unit,
    f.qualifier,
    f.change,
    b.published as as_of,
    b.url as source_url,
    b.title as bulletin_title,
    f.evidence,
    f.span_start,
    f.span_end,
    f.extractor_version
from stg_fact as f
join bulletin as b on b.bulletin_id = f.bulletin_id
left join dim_region as r on r.code = f.region_code
left join dim_indicator as i on i.code = f.indicator
