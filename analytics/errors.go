package analytics

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Error codes, as they appear in a GraphQL error's extensions.code.
const (
	BadUserInput    = "BAD_USER_INPUT"
	NotFound        = "NOT_FOUND"
	QueryTooComplex = "QUERY_TOO_COMPLEX"
	Timeout         = "TIMEOUT"
	Overloaded      = "OVERLOADED"      // the server is at its limit of queries in flight and waiting: retry later
	RateLimited     = "RATE_LIMITED"    // this client sends more requests than its rate allows: retry later
	Unauthenticated = "UNAUTHENTICATED" // the server asks for a bearer token and the request has no valid one
	Internal        = "INTERNAL"
)

// Error is an error a client may see: a code and a message that says what was wrong and what is allowed.
// Anything else that goes wrong is INTERNAL, and its text stays in the server's log.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode is the client-facing code of err: the code of an *Error, TIMEOUT for a deadline, else INTERNAL.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	default:
		return Internal
	}
}

// ErrorMessage is the client-facing message of err: never SQL, a path or a stack trace.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "the request took longer than the server allows and was stopped"
	case errors.Is(err, context.Canceled):
		return "the request was cancelled"
	default:
		return "internal error"
	}
}

// MaxEcho is the longest piece of a client's input an error message quotes back.
const MaxEcho = 100

// Cut shortens text a client sent to at most MaxEcho bytes (on a character boundary, marked with …) before
// an error quotes it: a 500 KB cursor is answered with its first 100 bytes, not echoed whole.
func Cut(text string) string {
	if len(text) <= MaxEcho {
		return text
	}
	return strings.ToValidUTF8(text[:MaxEcho], "") + "…"
}
