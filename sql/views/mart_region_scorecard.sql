-- One row per region, one column per indicator (its latest value), with derived ratios. A ratio is only
-- computed when both of its parts are known; qualifiers of the parts are in mart_region_indicator_latest.
create or replace view mart_region_scorecard as
with wide as (
    select
        region_code,
        any_value(region_name) as region_name,
        any_value(region_level) as region_level,
        any_value(province_code) as province_code,
        max(value) filter (where indicator = 'social_work_stations') as social_work_stations,
        max(value) filter (where indicator = 'station_coverage_rate') as station_coverage_rate,
        max(value) filter (where indicator = 'social_work_orgs') as social_work_orgs,
        max(value) filter (where indicator = 'community_social_orgs') as community_social_orgs,
        max(value) filter (where indicator = 'social_workers') as social_workers,
        max(value) filter (where indicator = 'certified_social_workers') as certified_social_workers,
        max(value) filter (where indicator = 'volunteers') as volunteers,
        max(value) filter (where indicator = 'service_projects') as service_projects,
        max(value) filter (where indicator = 'service_activities') as service_activities,
        max(value) filter (where indicator = 'people_served') as people_served,
        max(value) filter (where indicator = 'funding') as funding,
        max(as_of) as latest_as_of,
        count(*) as indicators_reported
    from mart_region_indicator_latest
    group by region_code
)
select
    *,
    round(funding / nullif(social_work_stations, 0), 2) as funding_per_station,
    round(social_workers / nullif(social_work_stations, 0), 2) as social_workers_per_station,
    round(people_served / nullif(social_workers, 0), 2) as people_served_per_social_worker,
    round(volunteers / nullif(social_workers, 0), 2) as volunteers_per_social_worker
from wide
