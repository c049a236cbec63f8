//go:build ignore

// pack copies the official list of units into geo/units: units.json and
// LICENSE as given, the outlines packed (see geo/pack.go).
//
//	go run ./geo/units/pack.go SOURCE_DIR geo/units
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"daisuso/geo"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run pack.go SOURCE_DIR OUT_DIR")
		os.Exit(2)
	}
	src, out := os.Args[1], os.Args[2]
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return b
	}
	list, outlines, licence := read("units.json"), read("communes.geojson"), read("LICENSE")
	u, err := geo.ParseUnitsList(list)
	if err == nil {
		err = u.AddOutlinesGeoJSON(outlines)
	}
	var packed bytes.Buffer
	if err == nil {
		err = u.PackOutlines(&packed)
	}
	for name, b := range map[string][]byte{"units.json": list, "LICENSE": licence, "communes.bin.gz": packed.Bytes()} {
		if err == nil {
			err = os.WriteFile(filepath.Join(out, name), b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("list %s: %d provinces, outlines packed in %d bytes\n", u.Version, len(u.Provinces()), packed.Len())
}
