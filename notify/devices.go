package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Platforms a token may come from.
var Platforms = []string{"android", "ios", "web"}

// Device is one push token of a user.
type Device struct {
	Token    string
	Platform string
	Locale   string // "vi" or "en"
	LastSeen time.Time
}

// ValidToken reports whether s looks like an FCM registration token: 1 to
// 4,096 printable ASCII characters without spaces (FCM's are about 160).
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > 4096 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// RegisterDevice records a user's push token, or that it was seen again;
// the app calls it at every start. A token registered before by another
// user moves to this one (the phone changed hands). A user keeps at most
// MaxDevicesPerUser tokens; the least recently seen go.
func (s *Service) RegisterDevice(ctx context.Context, userID string, d Device) (Device, error) {
	if !ValidToken(d.Token) || userID == "" {
		return Device{}, fmt.Errorf("register device: %w", ErrInvalid)
	}
	d.Locale = Locale(d.Locale)
	now := s.now().UTC().Truncate(time.Millisecond)
	d.LastSeen = now
	old, err := s.st.device(ctx, d.Token)
	switch {
	case errors.Is(err, ErrNotFound):
		old = deviceDoc{Created: now}
	case err != nil:
		return Device{}, fmt.Errorf("register device: %w", err)
	}
	doc := deviceDoc{Token: d.Token, User: userID, Platform: d.Platform, Locale: d.Locale, LastSeen: now, Created: old.Created}
	if err := s.st.putDevice(ctx, doc); err != nil {
		return Device{}, fmt.Errorf("register device: %w", err)
	}
	if old.User != "" && old.User != userID {
		s.forgetDevice(ctx, old.User, d.Token)
	}
	if err := s.q.putDevice(ctx, userID, d.Token, d.Platform, d.Locale); err != nil {
		s.dirty.Store(true)
	}
	mine, err := s.st.devicesOf(ctx, userID)
	if err != nil {
		return Device{}, fmt.Errorf("register device: %w", err)
	}
	for _, extra := range mine[min(len(mine), MaxDevicesPerUser):] {
		if err := s.deleteDevice(ctx, extra.User, extra.Token); err != nil {
			return Device{}, err
		}
	}
	return d, nil
}

// DropDevice deletes one of the user's tokens (sign-out).
func (s *Service) DropDevice(ctx context.Context, userID, token string) error {
	if err := s.st.dropDevice(ctx, token, userID); err != nil {
		return fmt.Errorf("drop device: %w", err)
	}
	s.forgetDevice(ctx, userID, token)
	return nil
}

// Devices returns the user's tokens.
func (s *Service) Devices(ctx context.Context, userID string) ([]Device, error) {
	docs, err := s.st.devicesOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Device, len(docs))
	for i, d := range docs {
		out[i] = Device{Token: d.Token, Platform: d.Platform, Locale: d.Locale, LastSeen: d.LastSeen}
	}
	return out, nil
}

func (s *Service) deleteDevice(ctx context.Context, userID, token string) error {
	if err := s.st.dropDevice(ctx, token, ""); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete device: %w", err)
	}
	s.forgetDevice(ctx, userID, token)
	return nil
}

// forgetDevice drops a token from the directory; if Redis fails, the next
// maintenance reloads the directory from MongoDB, where it is gone.
func (s *Service) forgetDevice(ctx context.Context, userID, token string) {
	if err := s.q.dropDevice(ctx, userID, token); err != nil {
		s.dirty.Store(true)
	}
}

// PruneDevices drops tokens not seen for TokenMaxAge; FCM treats such
// tokens as stale.
func (s *Service) PruneDevices(ctx context.Context) (int, error) {
	old, err := s.st.devicesSeenBefore(ctx, s.now().UTC().Add(-TokenMaxAge))
	if err != nil {
		return 0, fmt.Errorf("prune devices: %w", err)
	}
	for _, d := range old {
		if err := s.deleteDevice(ctx, d.User, d.Token); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// Name names the notifications' part of an export.
func (s *Service) Name() string { return "notifications" }

// ExportPerson returns a person's devices (without their tokens) and
// notifications.
func (s *Service) ExportPerson(ctx context.Context, _, _, userID string) (any, error) {
	if userID == "" {
		return nil, nil
	}
	devices, err := s.Devices(ctx, userID)
	if err != nil {
		return nil, err
	}
	type exported struct {
		Platform, Locale string
		LastSeen         time.Time
	}
	out := map[string]any{}
	ds := make([]exported, len(devices))
	for i, d := range devices {
		ds[i] = exported{Platform: d.Platform, Locale: d.Locale, LastSeen: d.LastSeen}
	}
	out["devices"] = ds
	items, err := s.List(ctx, userID, "vi", Cursor{}, 0)
	if err != nil {
		return nil, err
	}
	out["notifications"] = items
	return out, nil
}

// ErasePerson deletes a person's devices, notifications and their
// outcomes, and takes them out of the queue.
func (s *Service) ErasePerson(ctx context.Context, _, id, userID string) error {
	if userID != "" {
		devices, err := s.Devices(ctx, userID)
		if err != nil {
			return err
		}
		for _, d := range devices {
			if err := s.deleteDevice(ctx, userID, d.Token); err != nil {
				return err
			}
		}
	}
	// Everything sent to the person, and everything sent to others that
	// names them (a reminder to their branch admins, to their mentor).
	ids, err := s.st.naming(ctx, id, userID)
	if err != nil {
		return err
	}
	if err := s.q.done(ctx, ids); err != nil {
		return err
	}
	return s.st.deleteNotifications(ctx, ids)
}
