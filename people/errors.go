package people

import "errors"

var (
	// ErrNotFound: no such user (or one the caller may not see).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: input that breaks a format rule; wrapped in a *FieldError.
	ErrInvalid = errors.New("invalid input")
)

// FieldError names the field that broke a rule and why, in words an API
// layer can translate.
type FieldError struct {
	Field  string
	Reason string // a snake_case reason code: "required", "unknown_role", ...
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }
