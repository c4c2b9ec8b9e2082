-- Latest value per region x indicator. Rule: the later publication wins; on the same day the larger figure
-- (a cumulative total grows); then the larger fact id, so ties resolve the same way on every load.
-- Increments (新增) never compete with levels. arg_max over a sort key is ~10x cheaper than ranking every fact.
create or replace view mart_region_indicator_latest as
with chosen as (
    select
        f.region_code,
        f.indicator,
        arg_max(f.fact_id, (coalesce(b.published, date '0001-01-01'), f.value, f.fact_id)) as fact_id,
        count(*) as observations
    from fact as f
    join bulletin as b on b.bulletin_id = f.bulletin_id
    where f.change = 'level'
    group by f.region_code, f.indicator
)
select
    c.region_code, c.region_name, c.region_level, c.province_code, c.indicator, c.indicator_name, c.value,
    c.value_high, c.unit, c.qualifier, c.as_of, c.source_url, c.evidence, c.bulletin_id, c.fact_id,
    k.observations
from chosen as k
join core_fact as c on c.fact_id = k.fact_id
