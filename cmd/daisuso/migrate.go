package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"daisuso/api"
	"daisuso/gamify"
)

// migrateCommand runs `daisuso migrate`: it brings stored data written by
// earlier versions to the shapes this one reads, and says what it did.
// Starting the service only creates indexes; a store that needs migrating
// is refused at start (prepare) with the advice to run this. Run again, it
// changes nothing.
func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 0 {
		return errors.New("usage: daisuso migrate")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	st, err := openMongo(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.close()
	// The whole ledger may be read and written: the store's own bound is a
	// request's.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Hour)
	defer cancel()
	n, err := gamify.New(gamify.Config{DB: st.db}).UpgradeLedger(ctx)
	fmt.Fprintf(stdout, "points ledger: %d entries rewritten in the current layout\n", n)
	if err != nil {
		return fmt.Errorf("points ledger (run again to finish): %w", err)
	}
	n, err = api.UpgradeIdempotencyRecords(ctx, st.db)
	fmt.Fprintf(stdout, "idempotency records: %d given an expiry\n", n)
	if err != nil {
		return fmt.Errorf("idempotency records (run again to finish): %w", err)
	}
	return nil
}

// errMigrate is why the service does not start on data it cannot read.
var errMigrate = errors.New("the store holds data of an earlier version: run `daisuso migrate` (make migrate) once, then start the service")
