package ferret

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"

	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, registered as "sqlite"
)

// Maintain gives every collection table the index its {_id: x} lookups
// use (IndexIDs), and logs what it did. The service runs it at start and
// every minute: a collection with no index of its own (notification
// outcomes, the points ledger) is made by its first insert, after the
// start's run, and its lookups by _id scanned it until the next start.
// Indexing a table holds SQLite's write lock for as long as it takes over
// the rows of at most a minute; a table already indexed costs a look at
// sqlite_master.
func (f *Server) Maintain(ctx context.Context) {
	if n, err := f.IndexIDs(ctx); err != nil {
		f.log.Warn("FerretDB _id indexes not created; lookups by _id scan their tables", "err", err)
	} else if n > 0 {
		f.log.Info("FerretDB _id indexes created", "count", n)
	}
}

// IndexIDs works around FerretDB 1.24's SQLite backend, which looks a
// document up by `_ferretdb_sjson->'$._id'` but builds its unique _id
// index on `_ferretdb_sjson->"_id"`: SQLite does not take the one for the
// other, so every {_id: x} scans its table (docs/PERFORMANCE.md). It
// creates, in every collection table of the SQLite databases FerretDB
// keeps, an index on the expression the lookups use, and returns how many
// it created.
// FerretDB does not list these indexes and drops them with their tables;
// uniqueness stays with its own index. Collections created later are
// covered the next time it runs. With the PostgreSQL backend it does
// nothing.
func (f *Server) IndexIDs(ctx context.Context) (int, error) {
	created := 0
	err := f.eachSQLite(func(db *sql.DB) error {
		n, err := indexIDsIn(ctx, db)
		created += n
		return err
	})
	return created, err
}

// Checkpoint moves every SQLite file's write-ahead log into the file and
// truncates it: after an erasure, the pages that held the person's data
// (overwritten with zeros, secure_delete) leave the log too, so no copy of
// them stays in DATA_DIR.
func (f *Server) Checkpoint(ctx context.Context) error {
	return f.eachSQLite(func(db *sql.DB) error {
		_, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return err
	})
}

// eachSQLite runs do on each SQLite file of the embedded store, opened
// beside FerretDB's own connections; nothing with the PostgreSQL backend.
func (f *Server) eachSQLite(do func(db *sql.DB) error) error {
	if f.dir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(f.dir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, file := range files {
		db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return err
		}
		err = do(db)
		db.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(file), err)
		}
	}
	return nil
}

func indexIDsIn(ctx context.Context, db *sql.DB) (int, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return 0, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	created := 0
	for _, t := range tables {
		name := t + "_daisuso_id"
		var exists int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&exists); err != nil {
			return created, err
		}
		if exists > 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, name, t)); err != nil {
			return created, err
		}
		created++
	}
	return created, nil
}
