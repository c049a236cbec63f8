// Package app holds the volunteers' and families' mobile web app served at
// /app: static files embedded in the binary (installable, offline first,
// nothing loaded from elsewhere), which talk to the /v1 API.
package app

import (
	"embed"

	"daisuso/api/dashboard"
)

//go:embed web
var files embed.FS

// Assets reads every embedded file once, by its name ("index.html").
func Assets() (map[string]dashboard.Asset, error) { return dashboard.ReadAssets(files, "web") }
