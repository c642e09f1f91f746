// Package query is the query service: it answers analytics.Engine over a duck.Store. Each query checks its
// arguments against the catalog and resolves them (its plan: no I/O), then reads values through a
// duck.Reader and computes in Go: scopes, rankings, standings, trends, comparisons, composites, points,
// targets and pivots. Aggregates and observation pages are checked here and run as SQL by duck. Answers
// are cached by request (answers.go), values by indicator and vintage (matrix.go), and Served swaps the
// snapshot file it serves (served.go).
//
// The catalog type is duck.Catalog: duck reads it, and needs it to turn the codes its SQL returns into
// regions and indicators. This package wraps it (snapshot) with the look-ups that refuse a request with a
// message for the client, so duck holds no user-facing validation.
package query
