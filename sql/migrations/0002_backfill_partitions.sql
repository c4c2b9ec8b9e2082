-- State of each backfill partition (source x month), so a backfill resumes where it stopped and skips what is done.
create table backfill_partition (
    source_id   varchar not null,
    partition   varchar not null,  -- YYYY-MM
    mode        varchar not null,  -- fetch | reparse
    status      varchar not null,  -- done | failed
    run_id      varchar,
    started_at  timestamptz,
    finished_at timestamptz,
    pages       integer,
    facts       integer,
    error       varchar
);
