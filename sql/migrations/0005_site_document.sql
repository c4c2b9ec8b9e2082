-- Pages a source is read through rather than bulletins: list pages, feeds, robots.txt. The body is in the raw
-- zone under content_hash; the validators make the next run's request conditional, and a 304 is answered from
-- the stored body. One row per source and page: the newest answer wins.
create table site_document (
    source_id     varchar not null,
    url_key       varchar not null,
    url           varchar not null,
    role          varchar not null,  -- list | feed | robots
    content_hash  varchar not null,
    etag          varchar,
    last_modified varchar,
    fetched_at    timestamptz not null,
    primary key (source_id, url_key)
);
