-- The lexemes of a product's title, brand, category and attributes (weights
-- A, B and C of search_text), without the description. Search ranks on this
-- small tsvector, because ranking on search_text reads every match's full
-- description lexemes.
ALTER TABLE products
    ADD COLUMN rank_text tsvector
    GENERATED ALWAYS AS (ts_filter(search_text, '{a,b,c}')) STORED;
