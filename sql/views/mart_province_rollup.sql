-- Additive indicators rolled up to provinces without counting a county and its prefecture twice.
-- Each unit directly under a province (a prefecture, or a county-level unit of a municipality or directly under
-- the province) contributes its own latest figure, or else the sum of its counties when every one of them
-- reported. When every unit contributes, the province value is that sum (basis 'units'); otherwise the
-- province's own reported figure is used (basis 'province_reported'); otherwise the value is null (basis
-- 'incomplete') and partial_sum shows what is known. Rates are never summed.
create or replace view mart_province_rollup as
with additive as (
    select code as indicator from dim_indicator where additive
),
latest as (
    select l.region_code, l.indicator, l.value
    from mart_region_indicator_latest as l
    join additive using (indicator)
),
units as (
    select r.code as unit_code, r.level as unit_level, r.parent_code as province_code
    from dim_region as r
    join dim_region as p on p.code = r.parent_code and p.level = 'province'
),
counties as (
    select c.code as county_code, c.parent_code as unit_code
    from dim_region as c
    where c.level = 'county'
),
county_sums as (
    select
        c.unit_code,
        l.indicator,
        sum(l.value) as value,
        count(*) as reported,
        any_value(t.total) as total
    from counties as c
    join latest as l on l.region_code = c.county_code
    join (select unit_code, count(*) as total from counties group by unit_code) as t using (unit_code)
    group by c.unit_code, l.indicator
),
unit_values as (
    select
        u.province_code,
        u.unit_code,
        i.indicator,
        coalesce(own.value, case when cs.reported = cs.total then cs.value end) as value,
        case
            when own.value is not null then 'own'
            when cs.reported = cs.total then 'counties'
        end as source
    from units as u
    cross join additive as i
    left join latest as own on own.region_code = u.unit_code and own.indicator = i.indicator
    left join county_sums as cs on cs.unit_code = u.unit_code and cs.indicator = i.indicator
),
per_province as (
    select
        province_code,
        indicator,
        count(*) as units_total,
        count(value) as units_reported,
        count(*) filter (where source = 'counties') as units_from_county_sums,
        sum(value) as partial_sum
    from unit_values
    group by province_code, indicator
)
select
    p.province_code,
    r.name as province_name,
    p.indicator,
    case
        when p.units_reported = p.units_total then p.partial_sum
        else own.value
    end as value,
    case
        when p.units_reported = p.units_total then 'units'
        when own.value is not null then 'province_reported'
        else 'incomplete'
    end as basis,
    p.units_reported,
    p.units_total,
    p.units_from_county_sums,
    p.partial_sum,
    own.value as province_reported_value
from per_province as p
join dim_region as r on r.code = p.province_code
left join latest as own on own.region_code = p.province_code and own.indicator = p.indicator
where p.units_reported > 0 or own.value is not null
