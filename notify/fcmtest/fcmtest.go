// Package fcmtest is a local server that speaks the FCM HTTP v1 API well
// enough for the real Firebase messaging client: it records what it is
// sent and answers, per token, with any of FCM's errors, slowly, or not at
// all. Tests and benchmarks point the client at it with
// option.WithEndpoint and option.WithoutAuthentication.
package fcmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
)

// ProjectID is the project the server answers for.
const ProjectID = "daisuso-test"

// FCM's error codes the server can answer with.
const (
	Unregistered     = "UNREGISTERED"       // 404: the app was uninstalled
	InvalidToken     = "INVALID_TOKEN"      // 400 INVALID_ARGUMENT about the token
	InvalidPayload   = "INVALID_ARGUMENT"   // 400 INVALID_ARGUMENT about the message
	SenderIDMismatch = "SENDER_ID_MISMATCH" // 403
	QuotaExceeded    = "QUOTA_EXCEEDED"     // 429, with Retry-After
	Internal         = "INTERNAL"           // 500
	Unavailable      = "UNAVAILABLE"        // 503
)

// Behaviour is how the server answers a token.
type Behaviour struct {
	Error      string        // one of the codes above; "" delivers
	Times      int           // answer with Error this many times, then deliver; 0: always
	RetryAfter int           // seconds, sent with QUOTA_EXCEEDED
	Delay      time.Duration // wait this long before answering
	Hang       bool          // never answer (until the client gives up or the server closes)
}

// Delivery is one message the server accepted.
type Delivery struct {
	Token, ID, Kind, Ref, Title, Body string
	CollapseKey, TTL, Priority        string
	APNSCollapseID, APNSExpiration    string
	Data                              map[string]string
}

// Server is the fake FCM.
type Server struct {
	URL string
	ts  *httptest.Server
	// KeepDeliveries keeps every delivery's content (tests); otherwise only
	// how many times each message id arrived (benchmarks).
	KeepDeliveries bool

	mu         sync.Mutex
	behaviours map[string]*Behaviour
	all        *Behaviour
	deliveries []Delivery
	perID      map[string]int
	accepted   atomic.Int64
	requests   atomic.Int64
	stop       chan struct{}
}

// New starts a server on 127.0.0.1.
func New() *Server {
	s := &Server{behaviours: map[string]*Behaviour{}, perID: map[string]int{}, KeepDeliveries: true, stop: make(chan struct{})}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	return s
}

// Close stops the server, releasing requests it holds.
func (s *Server) Close() {
	close(s.stop)
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// Client returns a real Firebase messaging client that sends here.
func (s *Server) Client(ctx context.Context) (*messaging.Client, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: ProjectID},
		option.WithEndpoint(s.URL), option.WithoutAuthentication(), option.WithTelemetryDisabled())
	if err != nil {
		return nil, err
	}
	return app.Messaging(ctx)
}

// Set makes the server answer the token with b.
func (s *Server) Set(token string, b Behaviour) {
	s.mu.Lock()
	s.behaviours[token] = &b
	s.mu.Unlock()
}

// SetAll makes the server answer every token without its own behaviour
// with b.
func (s *Server) SetAll(b Behaviour) {
	s.mu.Lock()
	s.all = &b
	s.mu.Unlock()
}

// Deliveries returns the messages accepted so far (with KeepDeliveries).
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// PerID returns how many times each message id (the data "id") arrived.
func (s *Server) PerID() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.perID))
	for k, v := range s.perID {
		out[k] = v
	}
	return out
}

// Accepted returns how many messages were accepted, repeats included.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// Distinct returns how many different message ids were accepted.
func (s *Server) Distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.perID)
}

// Requests returns how many requests arrived, answered or not.
func (s *Server) Requests() int64 { return s.requests.Load() }

type request struct {
	ValidateOnly bool `json:"validate_only"`
	Message      struct {
		Token        string            `json:"token"`
		Data         map[string]string `json:"data"`
		Notification struct {
			Title string `json:"title"`
			Body  string `json:"body"`
		} `json:"notification"`
		Android struct {
			CollapseKey string `json:"collapse_key"`
			TTL         string `json:"ttl"`
			Priority    string `json:"priority"`
		} `json:"android"`
		APNS struct {
			Headers map[string]string `json:"headers"`
		} `json:"apns"`
	} `json:"message"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/projects/"+ProjectID+"/messages:send") {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "", "unknown path "+r.URL.Path)
		return
	}
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Message.Token == "" {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	m := req.Message
	b := s.behaviour(m.Token)
	if b.Hang {
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
		return
	}
	if b.Delay > 0 {
		select {
		case <-time.After(b.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if b.Error != "" {
		answerError(w, b)
		return
	}
	id := m.Data["id"]
	s.mu.Lock()
	s.perID[id]++
	if s.KeepDeliveries {
		s.deliveries = append(s.deliveries, Delivery{Token: m.Token, ID: id, Kind: m.Data["kind"], Ref: m.Data["ref"],
			Title: m.Notification.Title, Body: m.Notification.Body, CollapseKey: m.Android.CollapseKey,
			TTL: m.Android.TTL, Priority: m.Android.Priority, APNSCollapseID: m.APNS.Headers["apns-collapse-id"],
			APNSExpiration: m.APNS.Headers["apns-expiration"], Data: m.Data})
	}
	n := s.perID[id]
	s.mu.Unlock()
	s.accepted.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"name":"projects/%s/messages/%s-%d"}`, ProjectID, id, n)
}

// behaviour returns the token's behaviour and counts one use of it.
func (s *Server) behaviour(token string) Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.behaviours[token]
	if b == nil {
		b = s.all
	}
	if b == nil {
		return Behaviour{}
	}
	out := *b
	if b.Error != "" && b.Times > 0 {
		b.Times--
		if b.Times == 0 {
			b.Error = "" // used up: deliver from now on
		}
	}
	return out
}

func answerError(w http.ResponseWriter, b Behaviour) {
	switch b.Error {
	case Unregistered:
		writeError(w, http.StatusNotFound, "NOT_FOUND", Unregistered, "Requested entity was not found.")
	case InvalidToken:
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token")
	case InvalidPayload:
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value'")
	case SenderIDMismatch:
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED", SenderIDMismatch, "SenderId mismatch")
	case QuotaExceeded:
		if b.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(b.RetryAfter))
		}
		writeError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", QuotaExceeded, "Quota exceeded.")
	case Unavailable:
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", Unavailable, "The service is currently unavailable.")
	default:
		writeError(w, http.StatusInternalServerError, "INTERNAL", Internal, "Internal error encountered.")
	}
}

func writeError(w http.ResponseWriter, status int, grpcStatus, fcmCode, msg string) {
	body := map[string]any{"code": status, "message": msg, "status": grpcStatus}
	if fcmCode != "" {
		body["details"] = []map[string]string{{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcmCode}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}
