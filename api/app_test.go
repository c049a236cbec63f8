package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"testing"
)

// TestAppIsInstallable: the app's page, script, service worker, manifest
// and icons are served from the binary, under a policy that lets nothing
// load from elsewhere; the manifest names a start inside the service
// worker's scope and icons of the sizes it says.
func TestAppIsInstallable(t *testing.T) {
	ta := newTestAPI(t)
	page := ta.get("/app/")
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `<html lang="vi">`) ||
		!strings.Contains(page.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("/app/: %d %q %.100s", page.Status, page.Header.Get("Content-Security-Policy"), page.Body)
	}
	if sw := ta.get("/app/sw.js"); sw.Status != http.StatusOK || !strings.Contains(sw.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("sw.js: %d %s", sw.Status, sw.Header.Get("Content-Type"))
	}
	m := ta.get("/app/manifest.webmanifest")
	var manifest struct {
		StartURL string `json:"start_url"`
		Scope    string `json:"scope"`
		Display  string `json:"display"`
		Lang     string `json:"lang"`
		Icons    []struct {
			Src, Sizes, Type string
		} `json:"icons"`
	}
	if err := json.Unmarshal(m.Body, &manifest); err != nil || m.Header.Get("Content-Type") != "application/manifest+json" {
		t.Fatalf("manifest: %v %s", err, m.Header.Get("Content-Type"))
	}
	if manifest.StartURL != "/app/" || manifest.Scope != "/app/" || manifest.Display != "standalone" || manifest.Lang != "vi" || len(manifest.Icons) != 2 {
		t.Fatalf("manifest %+v", manifest)
	}
	for _, icon := range manifest.Icons {
		r := ta.get(icon.Src)
		img, err := png.Decode(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("%s: %v", icon.Src, err)
		}
		if got := img.Bounds().Dx(); icon.Sizes != fmt.Sprintf("%dx%d", got, got) {
			t.Errorf("%s is %dpx, the manifest says %s", icon.Src, got, icon.Sizes)
		}
	}
	if r := ta.get("/app/nothing.js"); r.Status != http.StatusNotFound {
		t.Fatalf("a file the app does not have: %d", r.Status)
	}
}
