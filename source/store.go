package source

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bucketcors/bucketcors/policy"
)

// Store keeps bucket policies as objects of one bucket of an S3-compatible
// store, one <prefix><bucket>.xml (S3 XML) per bucket, shared by every proxy
// that names it. It is the store of the edge CORS API too.
type Store struct {
	Client *s3.Client
	// Bucket holds the policy objects.
	Bucket string
	// Prefix is put before every object key, e.g. "cors/".
	Prefix string
	// Requests counts the requests made to the store.
	Requests RequestCounts
	// RequestTimeout bounds each request of an index's rounds (one page of
	// a listing, a poll), so that a store that stops answering leaves no
	// connection hanging. 0: DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout is Store.RequestTimeout's default.
const DefaultRequestTimeout = 10 * time.Second

// bounded returns ctx bounded by RequestTimeout, for one request.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, cmp.Or(s.RequestTimeout, DefaultRequestTimeout))
}

// RequestCounts counts a Store's requests by operation. It is safe for
// concurrent use.
type RequestCounts struct {
	list, get, put, delete atomic.Uint64
}

// RequestTotals is a snapshot of RequestCounts.
type RequestTotals struct {
	// List counts ListObjectsV2 pages; Get, Put and Delete count
	// GetObject, PutObject and DeleteObject(s) calls.
	List, Get, Put, Delete uint64
}

// Totals returns the counts so far.
func (c *RequestCounts) Totals() RequestTotals {
	return RequestTotals{List: c.list.Load(), Get: c.get.Load(), Put: c.put.Load(), Delete: c.delete.Load()}
}

// Add returns the sum of t and o.
func (t RequestTotals) Add(o RequestTotals) RequestTotals {
	return RequestTotals{List: t.List + o.List, Get: t.Get + o.Get, Put: t.Put + o.Put, Delete: t.Delete + o.Delete}
}

// Name returns "policy_store".
func (s *Store) Name() string { return "policy_store" }

// key is the object that holds bucket's policy.
func (s *Store) key(bucket string) string {
	return s.Prefix + bucket + ".xml"
}

// location names the object of bucket in messages.
func (s *Store) location(bucket string) string {
	return fmt.Sprintf("s3://%s/%s", s.Bucket, s.key(bucket))
}

// Location names the store in messages and the admin API: s3://<bucket>/<prefix>.
func (s *Store) Location() string {
	return fmt.Sprintf("s3://%s/%s", s.Bucket, s.Prefix)
}

// objectInfo is what a read tells of a policy object, for the index.
type objectInfo struct {
	etag     string
	size     int64
	modified time.Time
}

// Load reads the bucket's object, judged by S3's rules. Its version is the
// object's ETag. At most policy.MaxDocumentSize bytes (and one more) are read.
func (s *Store) Load(ctx context.Context, bucket string) (Result, error) {
	return s.Revalidate(ctx, bucket, Result{})
}

// Revalidate reads the bucket's object unless it is still the version held:
// the read is a conditional GET (If-None-Match), and a 304 answers held,
// checked now.
func (s *Store) Revalidate(ctx context.Context, bucket string, held Result) (Result, error) {
	res, _, err := s.get(ctx, bucket, held)
	return res, err
}

// get is Revalidate, also telling what the store said of the object: its
// ETag, size and modification time (the zero objectInfo when it has none).
func (s *Store) get(ctx context.Context, bucket string, held Result) (Result, objectInfo, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.key(bucket))}
	if held.Found && held.Version != "" {
		in.IfNoneMatch = aws.String(held.Version)
	}
	s.Requests.get.Add(1)
	checked := time.Now()
	out, err := s.Client.GetObject(ctx, in)
	if err != nil {
		var noKey *types.NoSuchKey
		switch {
		case errors.As(err, &noKey):
			return Result{}, objectInfo{}, nil
		case in.IfNoneMatch != nil && isNotModified(err):
			held.CheckedAt = checked
			return held, objectInfo{etag: held.Version}, nil
		}
		return Result{}, objectInfo{}, fmt.Errorf("policy_store: reading %s: %w", s.location(bucket), err)
	}
	defer out.Body.Close()
	info := objectInfo{etag: aws.ToString(out.ETag), size: aws.ToInt64(out.ContentLength), modified: aws.ToTime(out.LastModified)}
	pol, err := policy.Read(s.location(bucket), out.Body)
	if err != nil {
		var invalid *policy.ValidationError
		if errors.As(err, &invalid) {
			return Result{}, info, &InvalidError{err}
		}
		return Result{}, objectInfo{}, fmt.Errorf("policy_store: reading %s: %w", s.location(bucket), err)
	}
	return Result{Found: true, Policy: pol, Version: info.etag, CheckedAt: checked}, info, nil
}

// isNotModified says whether err is the store's 304 answer to a
// conditional GET, which the SDK returns as an error.
func isNotModified(err error) bool {
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotModified
}

// GetPolicy returns the bucket's stored policy, for the edge CORS API.
func (s *Store) GetPolicy(ctx context.Context, bucket string) (*policy.Policy, bool, error) {
	res, err := s.Load(ctx, bucket)
	return res.Policy, res.Found, err
}

// PutPolicy stores a bucket's policy as S3 XML and returns the new object's
// ETag.
func (s *Store) PutPolicy(ctx context.Context, bucket string, pol *policy.Policy) (string, error) {
	body, err := pol.Document().MarshalS3XML()
	if err != nil {
		return "", err
	}
	s.Requests.put.Add(1)
	out, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.Bucket),
		Key:         aws.String(s.key(bucket)),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/xml"),
	})
	if err != nil {
		return "", fmt.Errorf("policy_store: writing %s: %w", s.location(bucket), err)
	}
	return aws.ToString(out.ETag), nil
}

// DeletePolicy deletes a bucket's policy; deleting one that does not exist
// succeeds, as in S3.
func (s *Store) DeletePolicy(ctx context.Context, bucket string) error {
	s.Requests.delete.Add(1)
	_, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.Bucket),
		Key:    aws.String(s.key(bucket)),
	})
	if err != nil {
		return fmt.Errorf("policy_store: deleting %s: %w", s.location(bucket), err)
	}
	return nil
}
