package notify

import (
	"context"
	"fmt"
	"log/slog"

	"firebase.google.com/go/v4/messaging"
)

// Message is one push to one device token. Title and Body are already in
// the recipient's language; Data carries ids for the app, no personal data.
type Message struct {
	Token string
	Title string
	Body  string
	Data  map[string]string
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
		out[i] = Result{MessageID: fmt.Sprintf("logged-%d", i)}
		s.Log.Info("push not sent (no Firebase credentials)", "kind", m.Data["kind"], "title_chars", len([]rune(m.Title)))
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
		batch[i] = &messaging.Message{Token: m.Token, Data: m.Data,
			Notification: &messaging.Notification{Title: m.Title, Body: m.Body}}
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
