package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/notify"
	"daisuso/people"
	"daisuso/programme"
)

type deviceRequest struct {
	Token    string `json:"token"`
	Platform string `json:"platform"` // android, ios or web
	Locale   string `json:"locale"`   // vi (default) or en
}

type deviceJSON struct {
	Platform string    `json:"platform"`
	Locale   string    `json:"locale"`
	LastSeen time.Time `json:"last_seen"`
}

func (a *API) registerDevice(c *fiber.Ctx) error {
	var req deviceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if !notify.ValidToken(req.Token) {
		return &errs.FieldError{Field: "token", Reason: "invalid"}
	}
	if !slices.Contains(notify.Platforms, req.Platform) {
		return &errs.FieldError{Field: "platform", Reason: "unknown_code"}
	}
	if req.Locale != "" && req.Locale != "vi" && req.Locale != "en" {
		return &errs.FieldError{Field: "locale", Reason: "unknown_code"}
	}
	d, err := a.deps.Notify.RegisterDevice(c.UserContext(), actorOf(c).UserID,
		notify.Device{Token: req.Token, Platform: req.Platform, Locale: req.Locale})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(deviceJSON{Platform: d.Platform, Locale: d.Locale, LastSeen: d.LastSeen})
}

func (a *API) dropDevice(c *fiber.Ctx) error {
	token := copyParam(c, "token")
	if !notify.ValidToken(token) {
		return newError(fiber.StatusNotFound, "not_found", nil)
	}
	if err := a.deps.Notify.DropDevice(c.UserContext(), actorOf(c).UserID, token); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type notificationJSON struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Ref       string     `json:"ref,omitempty"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	State     string     `json:"state"`
	DueAt     time.Time  `json:"due_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

type notificationList struct {
	Items      []notificationJSON `json:"items"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

// notificationCursor is the position in the list, inside the opaque cursor.
type notificationCursor struct {
	At time.Time `json:"t"`
	ID string    `json:"i"`
}

// decodeNotificationCursor reads the position a page of notifications
// starts after.
func decodeNotificationCursor(b []byte) (notify.Cursor, error) {
	var cur notificationCursor
	if json.Unmarshal(b, &cur) != nil || cur.At.IsZero() || cur.ID == "" {
		return notify.Cursor{}, newError(fiber.StatusBadRequest, "invalid_cursor", nil)
	}
	return notify.Cursor(cur), nil
}

func (a *API) listNotifications(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	var before notify.Cursor
	if p.Cursor != nil {
		if before, err = decodeNotificationCursor(p.Cursor); err != nil {
			return err
		}
	}
	items, err := a.deps.Notify.List(c.UserContext(), actorOf(c).UserID, language(c), before, p.Limit+1)
	if err != nil {
		return err
	}
	out := notificationList{Items: []notificationJSON{}}
	if len(items) > p.Limit {
		items = items[:p.Limit]
		pos, _ := json.Marshal(notificationCursor(items[len(items)-1].Cursor()))
		out.NextCursor = encodeCursor(pos)
	}
	for _, it := range items {
		j := notificationJSON{ID: it.ID, Kind: string(it.Kind), Ref: it.Ref, Title: it.Title, Body: it.Body,
			State: string(it.State), DueAt: it.DueAt, CreatedAt: it.CreatedAt}
		if !it.SentAt.IsZero() {
			sent := it.SentAt
			j.SentAt = &sent
		}
		out.Items = append(out.Items, j)
	}
	return c.JSON(out)
}

type broadcastRequest struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	// BranchID is the unit to reach (default: your own); it must be inside
	// your subtree.
	BranchID string `json:"branch_id,omitempty"`
	// Audience is "volunteers" (default) or "everyone" (also households,
	// staff and admins of the unit).
	Audience string     `json:"audience,omitempty"`
	SendAt   *time.Time `json:"send_at,omitempty"`
}

type broadcastJSON struct {
	ID         string    `json:"id"`
	BranchID   string    `json:"branch_id"`
	Recipients int       `json:"recipients"`
	SendAt     time.Time `json:"send_at"`
}

func (a *API) createBroadcast(c *fiber.Ctx) error {
	var req broadcastRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	title, err := people.CleanText("title", req.Title, 65)
	if err != nil {
		return err
	}
	body, err := people.CleanText("body", req.Body, 240)
	if err != nil {
		return err
	}
	if title == "" {
		return &errs.FieldError{Field: "title", Reason: "required"}
	}
	if body == "" {
		return &errs.FieldError{Field: "body", Reason: "required"}
	}
	roles := []people.Role{people.RoleVolunteer}
	switch req.Audience {
	case "", "volunteers":
	case "everyone":
		roles = people.Roles
	default:
		return &errs.FieldError{Field: "audience", Reason: "unknown_code"}
	}
	now := a.deps.Now()
	sendAt := now
	if req.SendAt != nil {
		if req.SendAt.Before(now.Add(-time.Minute)) || req.SendAt.After(now.Add(30*24*time.Hour)) {
			return &errs.RuleError{Code: "send_at_out_of_range", Field: "send_at"}
		}
		sendAt = *req.SendAt
	}
	actor := actorOf(c)
	ctx := c.UserContext()
	branchID := req.BranchID
	if branchID == "" {
		branchID = actor.BranchID
	}
	if ok, err := a.deps.People.Administers(ctx, actor, branchID); err != nil {
		return err
	} else if !ok || branchID == "" {
		return newError(fiber.StatusNotFound, "not_found", nil)
	}
	users, err := a.deps.People.UsersUnder(ctx, branchID, roles)
	if err != nil {
		return err
	}
	refused, err := a.deps.People.WithoutConsent(ctx, users, programme.ReminderConsent)
	if err != nil {
		return err
	}
	users = slices.DeleteFunc(users, func(u string) bool { return u == actor.UserID || refused[u] })
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	bc := notify.Broadcast{ID: "bc_" + hex.EncodeToString(b), BranchID: branchID, By: actor.UserID,
		Title: title, Body: body, Users: users, DueAt: sendAt}
	if err := a.deps.Notify.Send(ctx, bc); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(broadcastJSON{ID: bc.ID, BranchID: branchID, Recipients: len(users), SendAt: sendAt})
}
