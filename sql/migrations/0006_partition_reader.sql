-- The reader a partition was done by (etl.orchestration.reader): a fingerprint of the parser, extractor,
-- lexicon, gazetteer, validation and the source's reading settings. A re-parse month is done for that reader
-- only, so the re-parse after an extractor improvement reads again what an earlier one did. Months recorded
-- before this column existed have none, and count as read by an earlier reader.
alter table backfill_partition add column reader varchar;
