-- The last outcome of every page a source has listed, with the partition (YYYY-MM of publication, or
-- 'undated') it belongs to. load_audit is rebuilt from this ledger and the warehouse tables, so that per
-- source x month it holds what the warehouse holds, not the slice of the window the last load happened to see.
create table page_state (
    source_id  varchar not null,
    url_key    varchar not null,
    partition  varchar not null,
    outcome    varchar not null,  -- fetched | not_modified | skipped | failed
    read_at    timestamptz,       -- when the site last answered it (200 or 304), from the response
    run_id     varchar,
    updated_at timestamptz not null
);
