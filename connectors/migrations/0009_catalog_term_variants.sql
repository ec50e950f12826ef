-- The typo fallback looked up candidate corrections through trigram pairs in
-- a GIN index, about 0.7 ms per unknown word on the 100,000-product
-- benchmark. Each term now stores its deletion variants (the term and every
-- string one deleted letter away, as tidings.catalog_text.deletion_variants
-- computes them), and one lookup of all query words' variants finds every
-- term one edit away, about 0.1 ms per query.
ALTER TABLE catalog_terms ADD COLUMN variants text[];

-- Code-point order (COLLATE "C"), as Python's sorted() stores new terms, so
-- that `tidings rebuild --check` compares equal arrays in any database locale.
UPDATE catalog_terms SET variants = ARRAY(
    SELECT DISTINCT variant COLLATE "C" FROM (
        SELECT term
        UNION ALL
        SELECT overlay(term PLACING '' FROM position FOR 1)
        FROM generate_series(1, length(term)) AS position
    ) AS variants (variant)
    ORDER BY 1
);

ALTER TABLE catalog_terms ALTER COLUMN variants SET NOT NULL;
CREATE INDEX catalog_terms_variants ON catalog_terms USING gin (variants)
    WITH (fastupdate = off);

-- Nothing reads the trigrams any more: the API computes them in Python to
-- rank candidates.
DROP INDEX catalog_terms_trigrams;
ALTER TABLE catalog_terms DROP COLUMN trigrams;
