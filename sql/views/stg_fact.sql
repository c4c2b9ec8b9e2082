-- Facts as loaded. The loader already keeps one row per bulletin x indicator x region x value (the first
-- mention is the evidence), so staging is a projection: a window over every fact here cost ~1 s per million.
create or replace view stg_fact as
select
    fact_id, bulletin_id, source_id, indicator, region_code, value, value_high, unit, qualifier, change,
    evidence, span_start, span_end, extractor_version, region_basis
from fact
