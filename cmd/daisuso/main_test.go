package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"daisuso/store"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		serveAsChild()
	}
	storetest.Main(m)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServerEndToEnd starts the real binary's run() on a free port, once on
// the embedded default of `make run` and once on given stores, and talks to
// it over HTTP: ready, a dev token, a signed-in call, a clean stop.
func TestServerEndToEnd(t *testing.T) {
	cases := map[string]func(t *testing.T) map[string]string{
		"embedded default": func(t *testing.T) map[string]string {
			return map[string]string{"DATA_DIR": t.TempDir()}
		},
		"given stores": func(t *testing.T) map[string]string {
			return map[string]string{
				"MONGODB_URI": storetest.MongoURI(t), "MONGODB_DATABASE": storetest.Name("t_"),
				"REDIS_URL": storetest.RedisURL(t), "REDIS_PREFIX": storetest.Name("t") + ":",
				"DEV_MODE": "true", "DATA_DIR": t.TempDir(), "LOG_FORMAT": "json",
			}
		},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			vars := env(t)
			port, err := store.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			vars["PORT"] = fmt.Sprint(port)
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			ctx, cancel := context.WithCancel(context.Background())
			out := &syncBuffer{}
			done := make(chan error, 1)
			go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, out) }()

			waitReady(t, base, done, out)
			res := call(t, http.MethodPost, base+"/v1/dev/token", `{"user_id":"demo-admin","role":"admin"}`, "")
			if res.status != http.StatusCreated {
				t.Fatalf("dev token: %d %s", res.status, res.body)
			}
			me := call(t, http.MethodGet, base+"/v1/me", "", res.field(t, "token"))
			if me.status != 200 || me.field(t, "role") != "admin" {
				t.Fatalf("me: %d %s", me.status, me.body)
			}
			// Push is wired: a device registers, and the queue's length is on
			// /metrics.
			dev := call(t, http.MethodPost, base+"/v1/devices", `{"token":"tok-e2e","platform":"web"}`, res.field(t, "token"))
			if dev.status != http.StatusCreated {
				t.Fatalf("device: %d %s", dev.status, dev.body)
			}
			if m := call(t, http.MethodGet, base+"/metrics", "", ""); !strings.Contains(string(m.body), "daisuso_push_queue 0") {
				t.Errorf("metrics lack the push queue:\n%.2000s", m.body)
			}
			if !strings.Contains(out.String(), "daisuso is up at "+base) {
				t.Errorf("start-up message lacks the URL and token hint:\n%s", out.String())
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run returned %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("run did not stop after cancel")
			}
			if _, err := http.Get(base + "/healthz"); err == nil {
				t.Fatal("still serving after stop")
			}
			if name == "embedded default" {
				if _, err := os.Stat(vars["DATA_DIR"] + "/ferretdb"); err != nil {
					t.Errorf("embedded FerretDB kept nothing in DATA_DIR: %v", err)
				}
			}
		})
	}
}

func waitReady(t *testing.T, base string, done <-chan error, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run ended before ready: %v\n%s", err, out.String())
		default:
		}
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready in time:\n%s", out.String())
}

type result struct {
	status int
	body   []byte
}

func (r result) field(t *testing.T, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	s, _ := m[name].(string)
	return s
}

func call(t *testing.T, method, url, body, token string) result {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return result{res.StatusCode, b}
}

func TestConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	t.Run("embedded default", func(t *testing.T) {
		c, err := loadConfig(env())
		if err != nil {
			t.Fatal(err)
		}
		if !c.DevMode || c.Port != "8080" || c.Host != "127.0.0.1" || c.LogFormat != "text" || c.StoreTimeout != 500*time.Millisecond {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("production", func(t *testing.T) {
		c, err := loadConfig(env("MONGODB_URI", "mongodb://db:27017", "FIREBASE_PROJECT_ID", "p", "PORT", "9000"))
		if err != nil {
			t.Fatal(err)
		}
		if c.DevMode || c.Host != "0.0.0.0" || c.LogFormat != "json" || c.Port != "9000" {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("every bad setting is reported", func(t *testing.T) {
		_, err := loadConfig(env("MONGODB_URI", "http://x", "PORT", "99999", "REQUEST_TIMEOUT", "soon",
			"DEV_MODE", "maybe", "DEV_TOKEN_SECRET", "short", "REDIS_URL", "localhost:6379", "LOG_LEVEL", "loud"))
		if err == nil {
			t.Fatal("no error")
		}
		for _, name := range []string{"MONGODB_URI", "PORT", "REQUEST_TIMEOUT", "DEV_MODE", "DEV_TOKEN_SECRET", "REDIS_URL", "LOG_LEVEL"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		}
	})
	t.Run("no sign-in outside dev mode", func(t *testing.T) {
		_, err := loadConfig(env("MONGODB_URI", "mongodb://db:27017"))
		if err == nil || !strings.Contains(err.Error(), "FIREBASE_PROJECT_ID") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("redis cluster", func(t *testing.T) {
		c, err := loadConfig(env("REDIS_CLUSTER", "10.0.0.1:7000, 10.0.0.2:7000"))
		if err != nil || !slices.Equal(c.RedisCluster, []string{"10.0.0.1:7000", "10.0.0.2:7000"}) {
			t.Fatalf("%v %v", c.RedisCluster, err)
		}
		for _, bad := range [][]string{{"REDIS_CLUSTER", "10.0.0.1"}, {"REDIS_CLUSTER", "a:1", "REDIS_URL", "redis://b:6379/0"}} {
			if _, err := loadConfig(env(bad...)); err == nil || !strings.Contains(err.Error(), "REDIS_CLUSTER") {
				t.Errorf("%v: err = %v", bad, err)
			}
		}
	})
	t.Run("no auth emulator outside dev mode", func(t *testing.T) {
		prod := []string{"MONGODB_URI", "mongodb://db:27017", "FIREBASE_PROJECT_ID", "p", "FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099"}
		if _, err := loadConfig(env(prod...)); err == nil || !strings.Contains(err.Error(), "FIREBASE_AUTH_EMULATOR_HOST") {
			t.Fatalf("err = %v", err)
		}
		if _, err := loadConfig(env(append(prod, "DEV_MODE", "true")...)); err != nil {
			t.Fatalf("dev mode with the emulator: %v", err)
		}
	})
	t.Run("secrets are masked in the log", func(t *testing.T) {
		vals := fmt.Sprint(logValues(env("DEV_TOKEN_SECRET", "0123456789abcdef0123456789abcdef",
			"MONGODB_URI", "mongodb://u:hunter2@db:27017")))
		if strings.Contains(vals, "hunter2") || strings.Contains(vals, "0123456789abcdef") {
			t.Fatalf("secret in log values: %s", vals)
		}
	})
	t.Run("README lists every setting", func(t *testing.T) {
		readme, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range settings {
			if !strings.Contains(string(readme), "| `"+s.name+"` |") {
				t.Errorf("README.md lacks %s (run `make env`)", s.name)
			}
		}
	})
}
