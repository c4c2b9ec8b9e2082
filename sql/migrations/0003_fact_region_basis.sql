-- How each fact's region was decided (etl.extract.region_resolution): clause | collective | sentence |
-- headline | issuer | title | self_reference | dateline | mentions. Facts loaded before this column existed
-- say 'unrecorded' until their pages are re-parsed.
alter table fact add column region_basis varchar default 'unrecorded';
