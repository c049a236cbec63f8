package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"daisuso/people"
	"daisuso/store"
)

// TestNoServerErrorForClientInput sends hostile and broken input to every
// route: every answer must be a 4xx with an error body, never a 5xx.
func TestNoServerErrorForClientInput(t *testing.T) {
	ta := newTestAPI(t)
	auth := bearer(ta.token("admin-1", people.RoleAdmin))
	bodies := map[string][]byte{
		"broken JSON":      []byte(`{"user_id": "a",`),
		"wrong types":      []byte(`{"user_id": 5, "role": ["admin"], "branch_id": {"a": 1}}`),
		"unknown fields":   []byte(`{"user_id": "a", "role": "admin", "points": 1000000}`),
		"operator object":  []byte(`{"user_id": {"$gt": ""}, "role": "admin"}`),
		"operator string":  []byte(`{"user_id": "$where", "role": "$ne"}`),
		"operator key":     []byte(`{"$set": {"role": "admin"}}`),
		"2 MB body":        append(append([]byte(`{"user_id":"`), bytes.Repeat([]byte("a"), 2<<20)...), '"', '}'),
		"invalid UTF-8":    []byte("{\"user_id\": \"\xff\xfe\", \"role\": \"admin\"}"),
		"array":            []byte(`[1,2,3]`),
		"null":             []byte(`null`),
		"empty":            []byte(``),
		"two values":       []byte(`{"user_id":"a","role":"admin"} {}`),
		"deep nesting":     []byte(strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)),
		"huge number":      []byte(`{"user_id": 1e999999, "role": "admin"}`),
		"Vietnamese in id": []byte(`{"user_id": "Nguyễn Văn A", "role": "admin"}`),
	}
	queries := map[string]string{
		"page size 10000": "?limit=10000",
		"negative page":   "?limit=-1",
		"page size words": "?limit=nhiều",
		"broken cursor":   "?cursor=%%%",
		"long cursor":     "?cursor=" + strings.Repeat("A", 4096),
	}
	for _, rt := range appRoutes(ta) {
		path := pathParam.ReplaceAllString(rt[1], "x1")
		if rt[0] == http.MethodPost || rt[0] == http.MethodPut || rt[0] == http.MethodPatch {
			for name, body := range bodies {
				var res response
				if len(body) > 1<<20 {
					res = ta.overHTTP(rt[0], path, body, auth...)
				} else {
					res = ta.do(rt[0], path, bytes.NewReader(body), auth...)
				}
				checkClientError(t, rt[0]+" "+rt[1]+" "+name, res)
			}
		}
		for name, q := range queries {
			res := ta.do(rt[0], path+q, nil, auth...)
			checkClientError(t, rt[0]+" "+rt[1]+" "+name, res)
			if strings.Contains(name, "page") && res.Status != http.StatusBadRequest {
				t.Errorf("%s %s %s: %d, want 400", rt[0], rt[1], name, res.Status)
			}
		}
	}
	// Nothing in the input made a user: the only one is the admin above.
	n, err := ta.db.Collection("users").CountDocuments(t.Context(), map[string]any{})
	if err != nil || n != 1 {
		t.Fatalf("users after hostile input: %d (err %v), want 1", n, err)
	}
}

func checkClientError(t *testing.T, what string, res response) {
	t.Helper()
	if res.Status < 400 || res.Status >= 500 {
		t.Errorf("%s: status %d, want 4xx: %.200s", what, res.Status, res.Body)
		return
	}
	res.errorCode(t)
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	ta := newTestAPI(t)
	cases := []struct {
		name, body, code, field string
		status                  int
	}{
		{"wrong type", `{"user_id": 5, "role": "admin"}`, "invalid_field_type", "user_id", 400},
		{"unknown field", `{"user_id": "a", "role": "admin", "points": 1}`, "unknown_field", "points", 400},
		{"missing field", `{"role": "admin"}`, "invalid_input", "user_id", 400},
		{"unknown role", `{"user_id": "a", "role": "king"}`, "invalid_input", "role", 400},
		{"operator in id", `{"user_id": "$gt", "role": "admin"}`, "invalid_input", "user_id", 400},
		{"too large", `{"user_id":"` + strings.Repeat("a", 2<<20) + `"}`, "body_too_large", "", 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := ta.overHTTP("POST", "/v1/dev/token", []byte(c.body))
			if res.Status != c.status || res.errorCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", res.Status, res.Body, c.status, c.code)
			}
			if c.field != "" {
				details, _ := res.json(t)["error"].(map[string]any)["details"].(map[string]any)
				if details["field"] != c.field {
					t.Fatalf("details %v, want field %s", details, c.field)
				}
			}
		})
	}
	t.Run("form body", func(t *testing.T) {
		res := ta.post("/v1/dev/token", "user_id=a", "Content-Type", "application/x-www-form-urlencoded")
		if res.Status != http.StatusUnsupportedMediaType {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
	})
}

func TestMessagesFollowAcceptLanguage(t *testing.T) {
	ta := newTestAPI(t)
	cases := []struct{ header, want string }{
		{"", "Bạn cần đăng nhập"},
		{"vi-VN", "Bạn cần đăng nhập"},
		{"en-US,en;q=0.9", "Sign-in required"},
		{"fr-FR, en;q=0.5", "Sign-in required"},
		{"fr-FR", "Bạn cần đăng nhập"},
	}
	for _, c := range cases {
		res := ta.get("/v1/me", "Accept-Language", c.header)
		msg := res.json(t)["error"].(map[string]any)["message"].(string)
		if !strings.HasPrefix(msg, c.want) {
			t.Errorf("Accept-Language %q: %q, want it to start with %q", c.header, msg, c.want)
		}
	}
	for code, m := range messages {
		if m.vi == "" || m.en == "" {
			t.Errorf("message %s lacks a language", code)
		}
	}
}

// TestTooLargeBodySentWholeGetsItsAnswer: a client that writes a body over
// the limit whole before it reads (as Android's HTTP clients do, without
// Expect: 100-continue) reads the JSON 413, not a reset connection.
func TestTooLargeBodySentWholeGetsItsAnswer(t *testing.T) {
	ta := newTestAPI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ta.App().Listener(ln)
	t.Cleanup(func() { _ = ta.App().ShutdownWithTimeout(5 * time.Second) })
	for _, size := range []int{2 << 20, 3 << 20} { // the test API's limit is 1 MiB
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		// A phone's socket buffers little: the body goes out as the server
		// reads it, in pieces.
		_ = conn.(*net.TCPConn).SetWriteBuffer(32 << 10)
		body := `{"user_id":"` + strings.Repeat("a", size) + `"}`
		req := []byte(fmt.Sprintf("POST /v1/dev/token HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		for len(req) > 0 {
			n := min(len(req), 16<<10)
			if _, err := conn.Write(req[:n]); err != nil {
				t.Fatalf("%d bytes: writing the body whole: %v", size, err)
			}
			req = req[n:]
			time.Sleep(100 * time.Microsecond)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%d bytes: reading the answer: %v", size, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		conn.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"body_too_large"`) {
			t.Fatalf("%d bytes: %d %s", size, res.StatusCode, b)
		}
	}
}

// TestBusyStoreIsATimeoutNotAnOutage: a request that waited for one of a
// busy store's connections until its time ran out is a 503 "timeout"; a
// store that cannot be reached (refused, or no server to select) is
// "store_unavailable".
func TestBusyStoreIsATimeoutNotAnOutage(t *testing.T) {
	busy := store.WrapMongo(fmt.Errorf("insert: %w", topology.WaitQueueTimeoutError{Wrapped: context.DeadlineExceeded}))
	if e := toAPIError(busy); e.Status != 503 || e.Code != "timeout" {
		t.Fatalf("a busy store: %d %s", e.Status, e.Code)
	}
	for name, err := range map[string]error{
		"a wait cut":   topology.WaitQueueTimeoutError{Wrapped: context.Canceled},
		"refused":      &net.OpError{Op: "dial", Err: errors.New("connection refused")},
		"no server":    topology.ServerSelectionError{Wrapped: context.DeadlineExceeded},
		"a dead store": context.DeadlineExceeded,
	} {
		if e := toAPIError(store.WrapMongo(err)); e.Status != 503 || e.Code != "store_unavailable" {
			t.Errorf("%s: %d %s", name, e.Status, e.Code)
		}
	}
}
