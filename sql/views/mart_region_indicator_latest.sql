-- Latest value per region x indicator. Rule: the later publication wins; on the same day the larger figure
-- (a cumulative total grows); then the level over an increment; then the fact id, so ties resolve the same way
-- on every load.
create or replace view mart_region_indicator_latest as
with ranked as (
    select
        c.*,
        row_number() over (
            partition by c.region_code, c.indicator
            order by c.as_of desc nulls last, c.value desc, (c.change = 'level') desc, c.fact_id
        ) as rn,
        count(*) over (partition by c.region_code, c.indicator) as observations
    from core_fact as c
    where c.change = 'level'
)
select
    region_code, region_name, region_level, province_code, indicator, indicator_name, value, value_high, unit,
    qualifier, as_of, source_url, evidence, bulletin_id, fact_id, observations
from ranked
where rn = 1
