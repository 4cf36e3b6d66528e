package cache

import "errors"

// rejectedError marks a load whose source answered, but with a value it
// could not accept, such as a document that does not validate.
type rejectedError struct{ err error }

func (e rejectedError) Error() string { return e.err.Error() }
func (e rejectedError) Unwrap() error { return e.err }

// Rejected marks err as a source's refusal of what it read. Asking again
// will not help until someone fixes it, so the last good entry of the key
// stays in use however old it grows, until a load succeeds; a key with no
// good entry answers the error for a TTL before its sources are read again.
func Rejected(err error) error {
	if err == nil {
		return nil
	}
	return rejectedError{err}
}

// IsRejected says whether err, or an error it wraps, was marked by Rejected.
func IsRejected(err error) bool {
	var r rejectedError
	return errors.As(err, &r)
}
