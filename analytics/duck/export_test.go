package duck

import "database/sql"

// Hooks for the external tests (engine_test.go), which read the store through package query.
var (
	ChunkRows       = &chunkRows
	FailAfterAppend = &failAfterAppend
)

// DB is the store's database, for a test that changes a file behind the store's back.
func DB(s *Store) *sql.DB { return s.db }
