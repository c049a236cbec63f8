// Package errs holds the errors every domain answers with: not found,
// invalid input (FieldError), a conflict (ConflictError), a broken rule
// (RuleError), forbidden. It imports nothing of the service, so that any
// package may return them and the API maps them to one error table.
package errs

import "errors"

var (
	// ErrNotFound: no such record, or one the caller may not see.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: input that breaks a format rule; wrapped in a *FieldError.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict: the record clashes with one that exists; a *ConflictError.
	ErrConflict = errors.New("conflict")
	// ErrRule: well-formed input that breaks a rule; a *RuleError.
	ErrRule = errors.New("rule broken")
	// ErrForbidden: the caller may see the record but not do this to it.
	ErrForbidden = errors.New("forbidden")
)

// FieldError names the field that broke a format rule and why, as a
// snake_case reason the API layer translates.
type FieldError struct {
	Field  string
	Reason string // "required", "unknown_code", "length", ...
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// ConflictError says what clashed: "phone_taken", "already_registered",
// "code_taken".
type ConflictError struct {
	Reason string
	Field  string
	// ID is the existing record that holds the value, where telling it
	// reveals nothing personal (a union unit's code, never a phone).
	ID string
}

func (e *ConflictError) Error() string { return "conflict: " + e.Reason }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// RuleError is a broken rule, with a stable code such as
// "guardian_consent_required" and the field it concerns.
type RuleError struct {
	Code  string
	Field string
}

func (e *RuleError) Error() string { return "rule: " + e.Code + " (" + e.Field + ")" }

// Unwrap makes errors.Is(err, ErrRule) true.
func (e *RuleError) Unwrap() error { return ErrRule }
