-- Facts deduplicated: a bulletin stating the same figure twice counts once (first mention kept as evidence).
create or replace view stg_fact as
with ranked as (
    select
        f.*,
        row_number() over (
            partition by f.bulletin_id, f.indicator, f.region_code, f.value
            order by f.span_start, f.fact_id
        ) as rn
    from fact as f
)
select
    fact_id, bulletin_id, source_id, indicator, region_code, value, value_high, unit, qualifier, change,
    evidence, span_start, span_end, extractor_version
from ranked
where rn = 1
