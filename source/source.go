// Package source reads bucket CORS policies from where they are kept: a
// folder of documents, a policy store (one object per bucket on an
// S3-compatible store), or the origin's own GetBucketCors. Every source
// answers a policy together with its version (an ETag, a modification time
// or a digest), so that a reader can tell whether it changed.
//
// The package does not import Caddy.
package source

import (
	"context"
	"errors"
	"time"

	"github.com/bucketcors/bucketcors/policy"
)

// Result is a source's answer for one bucket.
type Result struct {
	// Found is false when the source has no policy for the bucket.
	Found bool
	// Policy is the compiled policy, when Found.
	Policy *policy.Policy
	// Version identifies the document read: an ETag, a modification time
	// or a digest. Equal versions mean the same document.
	Version string
	// CheckedAt is when the source last confirmed this version (a read, a
	// 304, or the policy store's index); zero when it cannot tell.
	CheckedAt time.Time
}

// A Source reads the policies of buckets from one place.
type Source interface {
	// Name labels the source in logs, metrics and the admin API.
	Name() string
	// Load returns the bucket's policy, or a Result with Found false when
	// the source has none. A document that does not validate is an
	// *InvalidError: the source answered, and asking again will not help
	// until someone fixes the document.
	Load(ctx context.Context, bucket string) (Result, error)
}

// A Revalidator is a Source that can tell whether a version it answered
// before is still current without reading the document again.
type Revalidator interface {
	Source
	// Revalidate returns held, checked again, when it is still the
	// bucket's current version, and otherwise loads the bucket as Load
	// does.
	Revalidate(ctx context.Context, bucket string, held Result) (Result, error)
}

// Held is what a reader holds for a bucket already: the Result and the name
// of the source that gave it. The zero Held holds nothing.
type Held struct {
	Source string
	Result Result
}

// InvalidError is a document that a source holds but that cannot be used.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// IsInvalid reports whether err is, or wraps, an *InvalidError.
func IsInvalid(err error) bool {
	var invalid *InvalidError
	return errors.As(err, &invalid)
}

// First asks each source in order; the first that has a policy for the
// bucket answers. A source that fails ends the search: answering from a
// later source could grant what the failed one would have refused. It
// returns the name of the source that answered or failed, or "none".
//
// The source that gave held is asked to revalidate it, when it is a
// Revalidator, so that an unchanged policy costs no read.
func First(ctx context.Context, sources []Source, bucket string, held Held) (Result, string, error) {
	for _, src := range sources {
		var res Result
		var err error
		if r, ok := src.(Revalidator); ok && held.Source == src.Name() && held.Result.Found {
			res, err = r.Revalidate(ctx, bucket, held.Result)
		} else {
			res, err = src.Load(ctx, bucket)
		}
		if err != nil {
			return Result{}, src.Name(), err
		}
		if res.Found {
			return res, src.Name(), nil
		}
	}
	return Result{}, "none", nil
}
