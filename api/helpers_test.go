package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"daisuso/notify"
	"daisuso/notify/fcmtest"
	"daisuso/people"
	"daisuso/programme"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testAPI is an API over real stores (a fresh database and key prefix).
type testAPI struct {
	*API
	t    testing.TB
	db   *mongo.Database
	rdb  *redis.Client
	logs *syncBuffer
	url  string // of a real listener, once overHTTP started one
	// fcm is the local FCM the notification worker sends to.
	fcm    *fcmtest.Server
	notify *notify.Service
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

var testSecret = []byte("test-secret-test-secret-test-secret!")

func newTestAPI(t testing.TB, opts ...func(*Deps)) *testAPI {
	t.Helper()
	return newTestAPIOn(t, storetest.Mongo(t), opts...)
}

// newTestAPIOn is newTestAPI with every service on the given database.
func newTestAPIOn(t testing.TB, db *mongo.Database, opts ...func(*Deps)) *testAPI {
	t.Helper()
	rdb, prefix := storetest.Redis(t)
	logs := &syncBuffer{}
	fcm := fcmtest.New()
	t.Cleanup(fcm.Close)
	client, err := fcm.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The services as cmd/daisuso builds them (programme.New), with the
	// tests' timings.
	svcs := programme.New(programme.Config{DB: db, Redis: rdb, RedisPrefix: prefix, CodeSecret: testSecret,
		Sender: notify.FCMSender{Client: client}, SendTimeout: 2 * time.Second, NoQuietHours: true, BoardGrace: 100 * time.Millisecond})
	ns := svcs.Notify
	for _, ensure := range []func(context.Context) error{svcs.EnsureIndexes, svcs.Gamify.EnsureBoards, ns.Reconcile} {
		if err := ensure(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	d := Deps{
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Programme: svcs, Mongo: db, Redis: rdb, RedisPrefix: prefix,
		Stores: map[string]Pinger{
			"mongodb": func(ctx context.Context) error { return db.Client().Ping(ctx, readpref.Primary()) },
			"redis":   func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		},
		DevTokens:      &DevTokens{Secret: testSecret, TTL: time.Hour, Now: time.Now},
		RequestTimeout: 3 * time.Second,
		RateLimits:     RateLimits{PerUser: 10_000, PerIP: 100_000},
	}
	for _, o := range opts {
		o(&d)
	}
	a, err := New(d)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	if err := a.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &testAPI{API: a, t: t, db: db, rdb: rdb, logs: logs, fcm: fcm, notify: ns}
}

// response is what a test reads of an answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %.200s", err, r.Body)
	}
	return m
}

// errorCode returns error.code of an error response, failing the test when
// the body does not have the shape API.md fixes.
func (r response) errorCode(t testing.TB) string {
	t.Helper()
	var b struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("status %d: not an error body: %.300s", r.Status, r.Body)
	}
	return b.Error.Code
}

// do sends a request through app.Test; headers come in name, value pairs.
func (ta *testAPI) do(method, path string, body io.Reader, headers ...string) response {
	ta.t.Helper()
	req := httptest.NewRequest(method, path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := ta.App().Test(req, 10_000)
	if err != nil {
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// overHTTP sends a request over a real connection instead of app.Test, for
// what app.Test cannot show: fasthttp refuses an oversized body from its
// Content-Length before Fiber sees it, and only a real connection gets the
// 413 it answers. The body is written while the answer is read, as a phone
// would, and write errors after the server has answered are ignored.
func (ta *testAPI) overHTTP(method, path string, body []byte, headers ...string) response {
	ta.t.Helper()
	if ta.url == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			ta.t.Fatal(err)
		}
		go ta.App().Listener(ln)
		ta.t.Cleanup(func() { _ = ta.App().ShutdownWithTimeout(5 * time.Second) })
		ta.url = ln.Addr().String()
	}
	conn, err := net.Dial("tcp", ta.url)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", method, path, len(body))
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&head, "%s: %s\r\n", headers[i], headers[i+1])
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		ta.t.Fatal(err)
	}
	go func() { _, _ = conn.Write(body) }()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (ta *testAPI) get(path string, headers ...string) response {
	ta.t.Helper()
	return ta.do(http.MethodGet, path, nil, headers...)
}

func (ta *testAPI) post(path, body string, headers ...string) response {
	ta.t.Helper()
	return ta.do(http.MethodPost, path, strings.NewReader(body), headers...)
}

func (ta *testAPI) put(path, body string, headers ...string) response {
	ta.t.Helper()
	return ta.do(http.MethodPut, path, strings.NewReader(body), headers...)
}

// token signs in as userID with the role, creating the user if new.
func (ta *testAPI) token(userID string, role people.Role) string {
	ta.t.Helper()
	r := ta.post("/v1/dev/token", `{"user_id":"`+userID+`","role":"`+string(role)+`"}`)
	if r.Status != http.StatusOK && r.Status != http.StatusCreated {
		ta.t.Fatalf("dev token: %d %s", r.Status, r.Body)
	}
	return r.json(ta.t)["token"].(string)
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func decodeBody(res *http.Response, v any) {
	defer res.Body.Close()
	_ = json.NewDecoder(res.Body).Decode(v)
}
