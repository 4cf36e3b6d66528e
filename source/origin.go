package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/bucketcors/bucketcors/policy"
)

// Origin reads each bucket's own CORS configuration with GetBucketCors, as
// R2, AWS S3 and MinIO AIStor keep it.
type Origin struct {
	Client *s3.Client
}

// NewOrigin returns an Origin for the endpoint whose client reads at most
// policy.MaxDocumentSize bytes of an answer, as the policy store does.
func NewOrigin(e Endpoint) (*Origin, error) {
	client, err := newS3Client(e, "policy_origin", policy.MaxDocumentSize+1)
	if err != nil {
		return nil, err
	}
	return &Origin{Client: client}, nil
}

// Name returns "policy_origin".
func (o *Origin) Name() string { return "policy_origin" }

// noOriginPolicy lists the origin's answers that mean "this bucket has no
// CORS configuration": none was set, or no such bucket can exist there.
var noOriginPolicy = map[string]bool{
	"NoSuchCORSConfiguration": true,
	"NoSuchBucket":            true,
	"InvalidBucketName":       true,
}

// Load asks the origin for the bucket's configuration, judged by S3's
// rules. GetBucketCors carries no ETag, so the version is a digest of the
// configuration.
func (o *Origin) Load(ctx context.Context, bucket string) (Result, error) {
	out, err := o.Client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && noOriginPolicy[apiErr.ErrorCode()] {
			return Result{}, nil
		}
		return Result{}, fmt.Errorf("policy_origin: GetBucketCors %s: %w", bucket, err)
	}
	doc := documentFromS3(out.CORSRules)
	pol, err := policy.Compile("GetBucketCors "+bucket, doc)
	if err != nil {
		return Result{}, &InvalidError{err}
	}
	xml, err := doc.MarshalS3XML()
	if err != nil {
		return Result{}, err
	}
	sum := sha256.Sum256(xml)
	return Result{Found: true, Policy: pol, Version: hex.EncodeToString(sum[:8])}, nil
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
