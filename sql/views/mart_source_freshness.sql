-- Per source: the newest bulletin, the last page read successfully (fetched, or answered 304 Not Modified: a
-- healthy unchanged site is not stale), and how many days each lies behind today.
create or replace view mart_source_freshness as
with bulletins as (
    select source_id, max(published) as latest_bulletin, count(*) as bulletins
    from bulletin
    group by source_id
),
reads as (
    select source_id, fetched_at as read_at from raw_page where status = 200
    union all
    select source_id, read_at from page_state where read_at is not null
),
fetches as (
    select source_id, max(read_at) as last_successful_fetch
    from reads
    group by source_id
),
sources as (
    select source_id from bulletins
    union
    select source_id from fetches
    union
    select source_id from source_state
)
select
    s.source_id,
    b.latest_bulletin,
    b.bulletins,
    f.last_successful_fetch,
    current_date - b.latest_bulletin as days_since_latest_bulletin,
    current_date - cast(f.last_successful_fetch as date) as days_since_last_fetch,
    (select count(*) from fetch_failure as x where x.source_id = s.source_id) as pages_waiting_retry
from sources as s
left join bulletins as b using (source_id)
left join fetches as f using (source_id)
