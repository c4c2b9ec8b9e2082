-- Core tables of the warehouse. Natural keys are enforced by the loader (delete + insert per batch in one
-- transaction) and checked by pandera, not by primary keys: a PRIMARY KEY was measured to double-triple load
-- time and triple the file size.

create table raw_page (
    source_id     varchar not null,
    url           varchar not null,
    url_key       varchar not null,   -- path + query: the page's identity within its source
    content_hash  varchar not null,   -- sha256 of the body; the body lives in the raw zone under this name
    status        integer not null,
    fetched_at    timestamptz not null,
    encoding      varchar,
    etag          varchar,
    last_modified varchar,
    headers       json,
    size_bytes    bigint,
    path          varchar not null
);

create table bulletin (
    bulletin_id   varchar not null,   -- stable: source + url + article index
    source_id     varchar not null,
    url           varchar not null,
    url_key       varchar not null,
    article_index integer not null,
    title         varchar,
    published     date,
    issuer_region varchar,
    region_hint   varchar,
    content_hash  varchar,
    fetched_at    timestamptz,
    text          varchar,
    run_id        varchar
);

create table fact (
    fact_id           varchar not null,
    bulletin_id       varchar not null,
    source_id         varchar not null,
    indicator         varchar not null,
    region_code       varchar not null,
    value             double not null,
    value_high        double,
    unit              varchar not null,
    qualifier         varchar not null,
    change            varchar not null,  -- level (a stock or total) | increment (新增)
    evidence          varchar not null,
    span_start        integer,
    span_end          integer,
    extractor_version varchar not null,
    run_id            varchar
);

create table quarantine (
    run_id         varchar,
    layer          varchar not null,  -- parse | bulletin | fact
    source_id      varchar,
    record_key     varchar,           -- bulletin id or URL the row belongs to
    check_name     varchar not null,
    reason         varchar not null,
    row_json       json,
    quarantined_at timestamptz not null
);

-- One row per source x month partition: what the last load of it saw, and how often it was loaded.
create table load_audit (
    source_id       varchar not null,
    partition       varchar not null,  -- YYYY-MM of publication, or 'undated'
    discovered      integer not null,
    fetched         integer not null,
    not_modified    integer not null,
    skipped         integer not null,
    failed          integer not null,
    parsed          integer not null,
    facts           integer not null,
    quarantined     integer not null,
    load_count      integer not null,
    first_loaded_at timestamptz not null,
    last_loaded_at  timestamptz not null,
    last_run_id     varchar
);

-- Pages that failed; removed when a later run fetches them, so a failure is retried and never forgotten.
create table fetch_failure (
    source_id       varchar not null,
    url             varchar not null,
    url_key         varchar not null,
    stage           varchar not null,
    status          varchar,
    error           varchar,
    attempts        integer not null,
    first_failed_at timestamptz not null,
    last_failed_at  timestamptz not null,
    last_run_id     varchar
);

create table source_state (
    source_id       varchar not null,
    cursor_date     date,
    last_run_id     varchar,
    last_run_at     timestamptz,
    last_status     varchar,
    last_success_at timestamptz
);

create table dim_region (
    code          varchar not null,
    name          varchar not null,
    level         varchar not null,
    parent_code   varchar,
    province_code varchar,
    type          varchar
);

create table dim_indicator (
    code        varchar not null,
    unit        varchar not null,
    name_zh     varchar not null,
    name_en     varchar not null,
    what_counts varchar,
    additive    boolean not null
);
