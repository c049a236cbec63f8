package api

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/people"
)

type devTokenRequest struct {
	UserID   string `json:"user_id"`
	Role     string `json:"role"`
	BranchID string `json:"branch_id,omitempty"`
}

func (r *devTokenRequest) validate() error {
	switch {
	case r.UserID == "":
		return &errs.FieldError{Field: "user_id", Reason: "required"}
	case !people.ValidID(r.UserID):
		return &errs.FieldError{Field: "user_id", Reason: "invalid_id"}
	case r.Role != "" && !people.Role(r.Role).Valid():
		return &errs.FieldError{Field: "role", Reason: "unknown_role"}
	case r.BranchID != "" && !people.ValidID(r.BranchID):
		return &errs.FieldError{Field: "branch_id", Reason: "invalid_id"}
	}
	return nil
}

type userJSON struct {
	ID        string    `json:"id"`
	Role      string    `json:"role,omitempty"`
	BranchID  string    `json:"branch_id,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

type devTokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Created   bool      `json:"created"`
	User      userJSON  `json:"user"`
}

// devToken lets a demo act as anyone: it creates the user if new and
// returns a dev token. The stored role wins over the one asked for. Without
// a role it only signs in, as a first Firebase sign-in does: the person is
// not registered until they register as a volunteer or household.
func (a *API) devToken(c *fiber.Ctx) error {
	var req devTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Role == "" {
		u, err := a.deps.People.User(c.UserContext(), req.UserID)
		if errors.Is(err, errs.ErrNotFound) {
			u, err = people.User{ID: req.UserID}, nil
		}
		if err != nil {
			return err
		}
		token, exp := a.deps.DevTokens.Issue(u.ID)
		return c.JSON(devTokenResponse{Token: token, ExpiresAt: exp, User: toUserJSON(u)})
	}
	u, created, err := a.deps.People.EnsureUser(c.UserContext(), people.User{
		ID: req.UserID, Role: people.Role(req.Role), BranchID: req.BranchID,
	})
	a.users.forget(req.UserID)
	if err != nil {
		return err
	}
	token, exp := a.deps.DevTokens.Issue(u.ID)
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(devTokenResponse{Token: token, ExpiresAt: exp, Created: created, User: toUserJSON(u)})
}

func toUserJSON(u people.User) userJSON {
	return userJSON{ID: u.ID, Role: string(u.Role), BranchID: u.BranchID, CreatedAt: u.CreatedAt}
}

type meResponse struct {
	ID         string `json:"id"`
	Role       string `json:"role,omitempty"`
	BranchID   string `json:"branch_id,omitempty"`
	Registered bool   `json:"registered"`
}

func (a *API) me(c *fiber.Ctx) error {
	p := callerOf(c)
	return c.JSON(meResponse{ID: p.ID, Role: string(p.Role), BranchID: p.BranchID, Registered: p.Role != ""})
}
