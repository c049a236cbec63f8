package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"daisuso/geo"
	"daisuso/people"
)

// loadUnits is the list of units the service runs with: the embedded copy,
// or the one in UNITS_DIR (or a units.json path), of the same shape as
// geo/units: units.json with communes.geojson beside it.
func loadUnits(path string) (*geo.Units, error) {
	if path == "" {
		return geo.EmbeddedUnits(), nil
	}
	dir, list := path, filepath.Join(path, "units.json")
	if strings.HasSuffix(path, ".json") {
		dir, list = filepath.Dir(path), path
	}
	listBytes, err := os.ReadFile(list)
	if err != nil {
		return nil, err
	}
	outlines, err := os.ReadFile(filepath.Join(dir, "communes.geojson"))
	if err != nil {
		return nil, fmt.Errorf("outlines beside the list: %w", err)
	}
	u, err := geo.ParseUnitsList(listBytes)
	if err == nil {
		err = u.AddOutlinesGeoJSON(outlines)
	}
	return u, err
}

// unitsCommand runs `daisuso units import FILE`: it compares the list at
// FILE with the one the service runs with now (UNITS_DIR, or the embedded
// copy), reports what was added, renamed, merged or removed, and brings the
// unions in the store in line (people.Service.FollowUnits). The service
// then runs with UNITS_DIR pointing at the new list.
func unitsCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "import" {
		return errors.New("usage: daisuso units import FILE (a units.json with communes.geojson beside it, or their folder)")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	old, err := loadUnits(cfg.UnitsDir)
	if err != nil {
		return fmt.Errorf("UNITS_DIR: %w", err)
	}
	next, err := loadUnits(args[1])
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	changes := geo.DiffUnits(old, next)
	printUnitChanges(stdout, changes)
	st, err := openMongo(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.close()
	svc := people.New(people.Config{DB: st.db, Units: next})
	done, err := svc.FollowUnits(ctx, changes, next)
	for _, d := range done {
		switch d.Action {
		case "renamed":
			fmt.Fprintf(stdout, "union %s (%s): renamed %s\n", d.UnionID, d.Code, d.Name)
		case "moved":
			fmt.Fprintf(stdout, "union %s: moved from %s to %s %s, with its branches, volunteers and households\n", d.UnionID, d.Code, d.NewCode, d.Name)
		default:
			fmt.Fprintf(stdout, "union %s (%s): left as it is: %s\n", d.UnionID, d.Code, d.Note)
		}
	}
	if err != nil {
		return fmt.Errorf("following the new list (run again to finish): %w", err)
	}
	fmt.Fprintf(stdout, "the store follows list %s; run the service with UNITS_DIR=%s\n", next.Version, args[1])
	return nil
}

func printUnitChanges(w io.Writer, c geo.UnitChanges) {
	fmt.Fprintf(w, "list %s -> %s: %d added, %d renamed, %d merged, %d removed\n", c.From, c.To,
		len(c.Added), len(c.Renamed), len(c.Merged), len(c.Removed))
	for _, x := range c.Added {
		fmt.Fprintf(w, "added   %s %s %s\n", x.Level, x.Code, x.After)
	}
	for _, x := range c.Renamed {
		fmt.Fprintf(w, "renamed %s %s %s -> %s\n", x.Level, x.Code, x.Before, x.After)
	}
	for _, x := range c.Merged {
		fmt.Fprintf(w, "merged  %s %s %s -> %s %s\n", x.Level, x.Code, x.Before, x.Into, x.After)
	}
	for _, x := range c.Removed {
		fmt.Fprintf(w, "removed %s %s %s\n", x.Level, x.Code, x.Before)
	}
}
