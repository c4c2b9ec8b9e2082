-- Per region x indicator, the series over time: one point per publication date (the largest level figure
-- published that day, as in the latest-value rule), with the change and growth since the previous point.
-- Qualifier and source come from one fact, chosen by (value, fact_id): two sources reporting the same value on
-- the same day resolve the same way on every load.
create or replace view mart_indicator_trend as
with points as (
    select
        region_code,
        any_value(region_name) as region_name,
        any_value(region_level) as region_level,
        indicator,
        as_of,
        max(value) as value,
        arg_max(qualifier, (value, fact_id)) as qualifier,
        any_value(unit) as unit,
        arg_max(source_url, (value, fact_id)) as source_url
    from core_fact
    where change = 'level' and as_of is not null
    group by region_code, indicator, as_of
)
select
    region_code,
    region_name,
    region_level,
    indicator,
    row_number() over w as observation,
    as_of,
    value,
    unit,
    qualifier,
    lag(as_of) over w as previous_as_of,
    lag(value) over w as previous_value,
    value - lag(value) over w as change,
    round((value - lag(value) over w) / nullif(lag(value) over w, 0), 4) as growth,
    source_url
from points
window w as (partition by region_code, indicator order by as_of)
