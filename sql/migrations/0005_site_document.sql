-- Pages a source is read through rather than bulletins: list pages, feeds, robots.txt. The body is in the raw
-- zone under content_hash; the validators make the next run's request conditional, and a 304 is answered from
-- the stored body. One row per source and page (the loader replaces it: no key, like every table here, so that
-- the schema also runs on DuckLake, which has no primary keys).
create table site_document (
    source_id     varchar not null,
    url_key       varchar not null,
    url           varchar not null,
    role          varchar not null,  -- list | feed | robots
    content_hash  varchar not null,
    etag          varchar,
    last_modified varchar,
    fetched_at    timestamptz not null
);
