package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

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

// Load reads the bucket's object, judged by S3's rules. Its version is the
// object's ETag. At most policy.MaxDocumentSize bytes (and one more) are read.
func (s *Store) Load(ctx context.Context, bucket string) (Result, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.Bucket),
		Key:    aws.String(s.key(bucket)),
	})
	if err != nil {
		var noKey *types.NoSuchKey
		if errors.As(err, &noKey) {
			return Result{}, nil
		}
		return Result{}, fmt.Errorf("policy_store: reading %s: %w", s.location(bucket), err)
	}
	defer out.Body.Close()
	pol, err := policy.Read(s.location(bucket), out.Body)
	if err != nil {
		var invalid *policy.ValidationError
		if errors.As(err, &invalid) {
			return Result{}, &InvalidError{err}
		}
		return Result{}, fmt.Errorf("policy_store: reading %s: %w", s.location(bucket), err)
	}
	return Result{Found: true, Policy: pol, Version: aws.ToString(out.ETag)}, nil
}

// GetPolicy returns the bucket's stored policy, for the edge CORS API.
func (s *Store) GetPolicy(ctx context.Context, bucket string) (*policy.Policy, bool, error) {
	res, err := s.Load(ctx, bucket)
	return res.Policy, res.Found, err
}

// PutPolicy stores a bucket's policy as S3 XML.
func (s *Store) PutPolicy(ctx context.Context, bucket string, pol *policy.Policy) error {
	body, err := pol.Document().MarshalS3XML()
	if err != nil {
		return err
	}
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.Bucket),
		Key:         aws.String(s.key(bucket)),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/xml"),
	})
	if err != nil {
		return fmt.Errorf("policy_store: writing %s: %w", s.location(bucket), err)
	}
	return nil
}

// DeletePolicy deletes a bucket's policy; deleting one that does not exist
// succeeds, as in S3.
func (s *Store) DeletePolicy(ctx context.Context, bucket string) error {
	_, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.Bucket),
		Key:    aws.String(s.key(bucket)),
	})
	if err != nil {
		return fmt.Errorf("policy_store: deleting %s: %w", s.location(bucket), err)
	}
	return nil
}
