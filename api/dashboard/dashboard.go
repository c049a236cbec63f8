// Package dashboard holds the branch web dashboard: static files embedded
// in the binary (no CDN, no map tiles), which talk to the /v1 API with the
// signed-in admin's token.
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
)

//go:embed web
var files embed.FS

// Asset is one file of the dashboard, ready to serve.
type Asset struct {
	Body []byte
	Type string
	ETag string
}

// Assets reads every embedded file once, by its name ("index.html").
func Assets() (map[string]Asset, error) { return ReadAssets(files, "web") }

// ReadAssets reads every file under dir of fsys (the dashboard's, the
// app's), by its base name.
func ReadAssets(fsys fs.FS, dir string) (map[string]Asset, error) {
	out := map[string]Asset{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		switch {
		case path.Ext(p) == ".webmanifest":
			ctype = "application/manifest+json"
		case ctype == "":
			ctype = "application/octet-stream"
		}
		out[path.Base(p)] = Asset{Body: body, Type: ctype, ETag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return out, err
}
