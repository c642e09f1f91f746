// Package assess is the pure math of composite assessments: normalise a matrix of indicators × regions,
// weight and aggregate it into one score per region, rank and tier the scores, break every score down
// per indicator, and measure how robust a rank is to the choice of weights (Monte Carlo). No I/O: the
// engine reads values and calls Compute or Robustness.
//
// # Normalisation
//
// One indicator at a time, over the n regions that have a value of it (a missing value, NaN, stays
// missing); d is the indicator's Sign (+1 higher is better, −1 lower is better):
//
//   - MIN_MAX: 100·(x − min)/(max − min) for d = +1, 100·(max − x)/(max − min) for d = −1; all values
//     equal → 100.
//   - Z_SCORE: d·(x − mean)/s with s the sample standard deviation (divisor n − 1); s = 0 or n = 1 → 0.
//   - RANK: n − r + 1, r the competition rank of d·x (the best region, r = 1, scores n; ties share the
//     better rank).
//   - PERCENTILE_RANK: 100·(n − r)/(n − 1), r the competition rank of d·x; n = 1 → 100.
//   - DISTANCE_TO_LEADER: 100·x/max for d = +1, 100·min/x for d = −1. Every value must be > 0.
//   - DISTANCE_TO_TARGET: with t the region's target, 100·min(x/t, 1) for d = +1 and 100·min(t/x, 1) for
//     d = −1; a region without a target (NaN) has that component missing. x and t must be > 0.
//   - GOALPOSTS: c = clip(x, Low, High); 100·(c − Low)/(High − Low) for d = +1 and
//     100·(High − c)/(High − Low) for d = −1. Low < High.
//
// # Aggregation
//
// Over the indicators present for a region, with weights w:
//
//   - ARITHMETIC: Σ wᵢIᵢ / Σ wᵢ.
//   - GEOMETRIC: Π Iᵢ^(wᵢ/Σw), computed as exp(Σ wᵢ ln Iᵢ / Σ wᵢ); every normalised value of a scored
//     region must be > 0 (RANK and DISTANCE_TO_LEADER guarantee it for positive data; MIN_MAX,
//     PERCENTILE_RANK and GOALPOSTS give the worst region 0, Z_SCORE is negative below the mean).
//
// The score is rounded to 12 significant digits before ranking, so that sums taken in different orders
// tie. Both sums run in indicator order, and each product wᵢ·Iᵢ is rounded on its own (never fused), so
// Compute and every Monte Carlo run score the same weights to the same bits.
//
// # Missing values and exclusion
//
// RESCALE (the default) scores a region over its present indicators, the weights rescaled to sum to 1
// over them; EXCLUDE excludes a region with any missing component. In both modes a region whose weight
// share (present weight / total weight, rounded to 12 digits) is below Options.MinWeightShare is
// excluded, and so is a region with no present indicator. Excluded regions get no score, rank or tier.
//
// # Ranks, tiers and gaps
//
// Ranks are best (highest score) first: COMPETITION 1, 2, 2, 4; DENSE 1, 2, 2, 3; FRACTIONAL the average
// of the tied positions 1, 2.5, 2.5, 4. Tiers by cut-offs (strictly descending): tier 1 if
// score ≥ c₁, 2 if ≥ c₂, …, len(c)+1 otherwise. Tiers by quotas: tier k holds the regions of competition
// rank ≤ q₁+…+q_k (so regions tied at a cut share the better tier), the rest tier len(q)+1.
// GapToNextRank is the score of the nearest region ranked strictly better minus the region's own score.
// GapToNextTier is, by cut-offs, the cut-off of the next better tier minus the score; by quotas, the
// score of the worst-scored region of the nearest non-empty better tier minus the score (reaching it ties
// it, and ties share the better tier). Gaps are rounded to 12 significant digits.
//
// # Points
//
// With Options.Earn the caller gives the points each line earns each region from the normalised matrix
// (the engine's scheme rules); a region's total is their exact sum rounded once to 12 significant digits
// (calc.Sum12), so totals reached in different ways tie. Under RankBy POINTS the ranks, tiers (cut-offs in
// points), gaps and every Monte Carlo run go by the total; a run scales each line's points by its weight's
// factor 1 + (2U − 1)·Noise.
//
// # Robustness
//
// Runs perturb the weights, w'ᵢ = wᵢ·(1 + (2U − 1)·Noise) with U uniform in [0, 1), and may draw the
// normalisation and the aggregation from lists; each run ranks, under Options.Ties, the regions scored
// nominally (exclusion is decided once, at the nominal weights and options, and every normalisation ×
// aggregation in the lists must score and exclude the same regions, else Robustness refuses). Run k draws
// from its own math/rand/v2 PCG stream, rand.NewPCG(uint64(Seed), splitmix64(uint64(k))) (the published
// SplitMix64 step, so that consecutive runs get unrelated streams), in this order:
// the normalisation index (IntN of the list's length, only when the list is non-empty), the aggregation
// index (likewise), then one Float64 per indicator in indicator order. The answer therefore depends only on
// the inputs and the seed, never on how runs are spread over goroutines. Median is the middle rank (the
// mean of the two middle ranks for an even number of runs); P05 and P95 are nearest-rank percentiles of
// the sorted ranks s[0..R−1]: Pp = s[⌈p·R⌉ − 1]; MeanShift is the mean of |rank − nominal rank|. With
// Noise 0 and no lists every run reproduces the nominal scores bit for bit, so the interval is the nominal
// rank and MeanShift is 0. Runs × scored regions is at most MaxRobustCells (every rank is kept until the
// percentiles are taken).
package assess
