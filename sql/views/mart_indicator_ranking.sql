-- Per indicator, regions of the same level ranked by their latest value, with percentile (0 = lowest,
-- 1 = highest) and, for additive indicators, the share of the total reported at that level.
create or replace view mart_indicator_ranking as
with latest as (
    select l.*, i.additive
    from mart_region_indicator_latest as l
    join dim_indicator as i on i.code = l.indicator
    where l.region_level in ('province', 'prefecture', 'county')
)
select
    indicator,
    indicator_name,
    region_level,
    rank() over w_desc as rank,
    count(*) over w as regions_ranked,
    region_code,
    region_name,
    province_code,
    value,
    unit,
    qualifier,
    as_of,
    case when count(*) over w > 1 then round(percent_rank() over w_asc, 4) end as percentile,
    case when additive then round(value / nullif(sum(value) over w, 0), 4) end as share_of_total
from latest
window
    w as (partition by indicator, region_level),
    w_desc as (partition by indicator, region_level order by value desc),
    w_asc as (partition by indicator, region_level order by value)
