package caddymodule

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/policy"
)

// PolicyStore keeps bucket policies as objects of one bucket of an
// S3-compatible store, one <bucket>.xml (S3 XML) per bucket. Every proxy
// that names the same store shares its policies; the edge ?cors API writes
// them.
type PolicyStore struct {
	S3Endpoint
	// Bucket is the bucket that holds the policy objects.
	Bucket string `json:"bucket,omitempty"`
	// Prefix is put before every object key, e.g. "cors/".
	Prefix string `json:"prefix,omitempty"`
}

// storeSource reads and writes the objects of a PolicyStore.
type storeSource struct {
	client *s3.Client
	bucket string
	prefix string
}

func newStoreSource(cfg *PolicyStore) (*storeSource, error) {
	client, err := cfg.client("policy_store")
	if cfg.Bucket == "" {
		err = errors.Join(err, errors.New("policy_store: bucket is needed: the bucket that holds the policy objects"))
	}
	if err != nil {
		return nil, err
	}
	return &storeSource{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

func (s *storeSource) name() string { return "policy_store" }

func (s *storeSource) closeIdle() { closeIdleConnections(s.client) }

// key is the object that holds bucket's policy.
func (s *storeSource) key(bucket string) string {
	return s.prefix + bucket + ".xml"
}

func (s *storeSource) load(ctx context.Context, bucket string) (*policy.Policy, bool, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(bucket)),
	})
	if err != nil {
		var noKey *types.NoSuchKey
		if errors.As(err, &noKey) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("policy_store: reading s3://%s/%s: %w", s.bucket, s.key(bucket), err)
	}
	defer out.Body.Close()
	pol, err := readLimitedPolicy(fmt.Sprintf("s3://%s/%s", s.bucket, s.key(bucket)), out.Body)
	return pol, err == nil, err
}

// put stores a bucket's policy as S3 XML.
func (s *storeSource) put(ctx context.Context, bucket string, pol *policy.Policy) error {
	body, err := pol.Document().MarshalS3XML()
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(s.key(bucket)),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/xml"),
	})
	if err != nil {
		return fmt.Errorf("policy_store: writing s3://%s/%s: %w", s.bucket, s.key(bucket), err)
	}
	return nil
}

// remove deletes a bucket's policy; deleting one that does not exist
// succeeds, as in S3.
func (s *storeSource) remove(ctx context.Context, bucket string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(bucket)),
	})
	if err != nil {
		return fmt.Errorf("policy_store: deleting s3://%s/%s: %w", s.bucket, s.key(bucket), err)
	}
	return nil
}

// originSource reads each bucket's own CORS configuration with
// GetBucketCors, as R2, AWS S3 and MinIO AIStor keep it.
type originSource struct {
	client *s3.Client
}

func newOriginSource(cfg *S3Endpoint) (*originSource, error) {
	client, err := cfg.client("policy_origin")
	if err != nil {
		return nil, err
	}
	return &originSource{client: client}, nil
}

func (s *originSource) name() string { return "policy_origin" }

func (s *originSource) closeIdle() { closeIdleConnections(s.client) }

// noOriginPolicy lists the origin's answers that mean "this bucket has no
// CORS configuration": none was set, or no such bucket can exist there.
var noOriginPolicy = map[string]bool{
	"NoSuchCORSConfiguration": true,
	"NoSuchBucket":            true,
	"InvalidBucketName":       true,
}

func (s *originSource) load(ctx context.Context, bucket string) (*policy.Policy, bool, error) {
	out, err := s.client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && noOriginPolicy[apiErr.ErrorCode()] {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("policy_origin: GetBucketCors %s: %w", bucket, err)
	}
	doc := documentFromS3(out.CORSRules)
	pol, err := policy.Compile("GetBucketCors "+bucket, doc)
	if err != nil {
		return nil, false, cache.Rejected(err)
	}
	return pol, true, nil
}

// documentFromS3 turns the SDK's rules into a policy document.
func documentFromS3(rules []types.CORSRule) *policy.Document {
	doc := &policy.Document{Dialect: policy.DialectXML}
	for _, r := range rules {
		rule := policy.Rule{
			ID:             aws.ToString(r.ID),
			AllowedOrigins: r.AllowedOrigins,
			AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders,
			ExposeHeaders:  r.ExposeHeaders,
		}
		if r.MaxAgeSeconds != nil {
			seconds := int(*r.MaxAgeSeconds)
			rule.MaxAgeSeconds = &seconds
		}
		doc.Rules = append(doc.Rules, rule)
	}
	return doc
}
