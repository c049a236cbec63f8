package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
)

// Message is one push to one device token. Title and Body are already in
// the device's language; Data carries the message id, the kind and the id
// the app opens, no personal data.
type Message struct {
	Token       string
	Platform    string // android, ios or web
	Title       string
	Body        string
	Data        map[string]string
	CollapseKey string
	TTL         time.Duration // from now until Expires
	Expires     time.Time
	Urgent      bool
}

// Result is the fate of one message of a batch.
type Result struct {
	MessageID string
	Err       error
}

// Sender delivers a batch of at most 500 messages. It is an interface
// because there are two real ones: Firebase in production, and a local
// FCM-compatible server (through the same Firebase client) in tests; plus
// the logging sender of the embedded default.
type Sender interface {
	Send(ctx context.Context, msgs []Message) ([]Result, error)
}

// MaxBatch is FCM's limit of messages per SendEach call.
const MaxBatch = 500

// LogSender logs pushes instead of sending them, for running without
// Firebase credentials. It logs no token and no text, only what was sent.
type LogSender struct{ Log *slog.Logger }

// Send implements Sender.
func (s LogSender) Send(_ context.Context, msgs []Message) ([]Result, error) {
	out := make([]Result, len(msgs))
	for i, m := range msgs {
		out[i] = Result{MessageID: "logged-" + m.Data["id"]}
		s.Log.Info("push not sent (no Firebase credentials)", "kind", m.Data["kind"], "id", m.Data["id"], "platform", m.Platform)
	}
	return out, nil
}

// FCMSender sends with the Firebase Admin SDK's messaging client.
type FCMSender struct{ Client *messaging.Client }

// Send implements Sender.
func (s FCMSender) Send(ctx context.Context, msgs []Message) ([]Result, error) {
	if len(msgs) > MaxBatch {
		return nil, fmt.Errorf("send %d messages: batch limit is %d", len(msgs), MaxBatch)
	}
	batch := make([]*messaging.Message, len(msgs))
	for i, m := range msgs {
		batch[i] = fcmMessage(m)
	}
	resp, err := s.Client.SendEach(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("fcm send: %w", err)
	}
	out := make([]Result, len(msgs))
	for i, r := range resp.Responses {
		out[i] = Result{MessageID: r.MessageID, Err: r.Error}
	}
	return out, nil
}

// fcmMessage sets the collapse key and time to live the way each platform
// reads them: Android's collapse_key and ttl, APNs' apns-collapse-id and
// apns-expiration, Web Push's Topic and TTL headers.
func fcmMessage(m Message) *messaging.Message {
	ttl := max(m.TTL, 0).Truncate(time.Second)
	priority, apnsPriority := "normal", "5"
	if m.Urgent {
		priority, apnsPriority = "high", "10"
	}
	return &messaging.Message{
		Token:        m.Token,
		Data:         m.Data,
		Notification: &messaging.Notification{Title: m.Title, Body: m.Body},
		Android:      &messaging.AndroidConfig{CollapseKey: m.CollapseKey, Priority: priority, TTL: &ttl},
		APNS: &messaging.APNSConfig{Headers: map[string]string{
			"apns-collapse-id": m.CollapseKey,
			"apns-expiration":  strconv.FormatInt(m.Expires.Unix(), 10),
			"apns-priority":    apnsPriority,
		}},
		Webpush: &messaging.WebpushConfig{Headers: map[string]string{
			"TTL":   strconv.FormatInt(int64(ttl/time.Second), 10),
			"Topic": webpushTopic(m.CollapseKey),
		}},
	}
}

// webpushTopic fits a collapse key to Web Push's Topic header: at most 32
// characters of the URL-safe base64 alphabet.
func webpushTopic(k string) string {
	var b strings.Builder
	for _, r := range k {
		if b.Len() == 32 {
			break
		}
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// verdict is what to do about one message's result.
type verdict int

const (
	sentOK     verdict = iota
	dropToken          // UNREGISTERED, SENDER_ID_MISMATCH, an invalid token: delete it
	retryLater         // INTERNAL, UNAVAILABLE, a timeout, a network error: back off with jitter
	quotaWait          // QUOTA_EXCEEDED (429): wait at least a minute, longer if Retry-After says so
	ourBug             // the payload is wrong: log it, do not retry
)

// MinQuotaWait is the least a message waits after FCM says 429.
const MinQuotaWait = time.Minute

// classify reads an FCM error the way FCM documents its codes.
func classify(err error) (verdict, time.Duration) {
	var payload errInvalidPayload
	switch {
	case err == nil:
		return sentOK, 0
	case errors.As(err, &payload):
		return ourBug, 0
	case messaging.IsUnregistered(err), messaging.IsSenderIDMismatch(err):
		return dropToken, 0
	case messaging.IsInvalidArgument(err) || errorutils.IsInvalidArgument(err):
		// INVALID_ARGUMENT is both "this token is not a token" and "this
		// message is malformed"; FCM tells them apart only in its text.
		if strings.Contains(strings.ToLower(err.Error()), "registration token") {
			return dropToken, 0
		}
		return ourBug, 0
	case messaging.IsQuotaExceeded(err) || errorutils.IsResourceExhausted(err):
		return quotaWait, max(MinQuotaWait, retryAfter(errorutils.HTTPResponse(err)))
	case messaging.IsThirdPartyAuthError(err):
		return retryLater, 0 // our APNs credentials: an operator must fix them; keep the message meanwhile
	}
	return retryLater, 0
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}
