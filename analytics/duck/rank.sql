-- Ranks every region of a scope on one indicator ($4) or on all ($4 = ''), in year $1 and in year $1 − 1
-- (for the previous rank), on the value or on its year-over-year growth ($3). The scope ($2: a group or
-- parent code, '' for all) is spliced in from a fixed set of fragments by scopeSQL; no input is ever
-- spliced. One row per region of the scope in year $1: ranked rows carry v and ranks, missing ones v NULL;
-- both carry the previous year's rank when there was one.
WITH
ind AS (
  SELECT code AS indicator, CASE direction WHEN 'LOWER_IS_BETTER' THEN -1.0 ELSE 1.0 END AS sign
  FROM indicators WHERE $4 = '' OR code = $4
),
years AS (SELECT unnest([$1 - 1, $1]) AS year),
obs AS (
  SELECT indicator, year, region, value FROM observations
  WHERE year BETWEEN $1 - 2 AND $1 AND ($4 = '' OR indicator = $4)
),
basis AS (
  SELECT o.indicator, o.year, o.region,
    -- Growth from a zero or negative base has no meaningful sign (−100 → −50 would be −50 %), so such a
    -- region has no growth to rank and is listed as missing.
    CASE WHEN NOT $3 THEN o.value
         WHEN p.value IS NULL OR p.value <= 0 THEN NULL
         ELSE o.value / p.value - 1 END AS v
  FROM obs o LEFT JOIN obs p ON p.indicator = o.indicator AND p.region = o.region AND p.year = o.year - 1
  WHERE o.year >= $1 - 1
),
scope AS (/*SCOPE*/),
scored AS (
  SELECT s.indicator, s.year, s.region, b.v, i.sign
  FROM scope s JOIN ind i ON i.indicator = s.indicator
  LEFT JOIN basis b ON b.indicator = s.indicator AND b.year = s.year AND b.region = s.region
),
ranked AS (
  SELECT indicator, year, region, v, sign,
    rank() OVER w AS rank_c,
    dense_rank() OVER w AS rank_d,
    count(*) OVER p AS n,
    avg(v) OVER p AS mean,
    median(v) OVER p AS median,
    sign * max(sign * v) OVER p AS leader
  FROM scored WHERE v IS NOT NULL
  WINDOW p AS (PARTITION BY indicator, year), w AS (PARTITION BY indicator, year ORDER BY sign * v DESC)
)
-- Every region of the scope in year $1, ranked or not, with its rank of the year before if it had one.
SELECT s.indicator, s.region, c.v, c.rank_c, c.rank_d, c.n, c.mean, c.median, c.leader, p.rank_c AS prev_c, p.rank_d AS prev_d
FROM scored s
LEFT JOIN ranked c ON c.indicator = s.indicator AND c.region = s.region AND c.year = s.year
LEFT JOIN ranked p ON p.indicator = s.indicator AND p.region = s.region AND p.year = s.year - 1
WHERE s.year = $1
ORDER BY s.indicator, c.rank_c NULLS LAST, s.region
