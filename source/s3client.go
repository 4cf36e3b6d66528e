package source

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultRegion is the region requests are signed for when none is given;
// MinIO accepts it unless configured otherwise.
const DefaultRegion = "us-east-1"

// Endpoint says how to reach an S3-compatible API: MinIO, R2 or S3.
type Endpoint struct {
	// URL is the API's base URL, e.g. http://127.0.0.1:9000.
	URL string
	// Region signs the requests; "" means DefaultRegion.
	Region    string
	AccessKey string
	SecretKey string
}

// NewS3Client returns a client for the endpoint, what naming the setting in
// its errors ("policy_store"). Requests are path-style, as every
// S3-compatible store accepts.
func NewS3Client(e Endpoint, what string) (*s3.Client, error) {
	return newS3Client(e, what, 0)
}

// newS3Client returns a client whose answers' bodies are cut off with an
// error past maxBody bytes, when maxBody > 0.
func newS3Client(e Endpoint, what string, maxBody int64) (*s3.Client, error) {
	var errs []error
	if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s: endpoint %q is not a URL; give the S3 API's base URL, e.g. http://127.0.0.1:9000", what, e.URL))
	}
	if e.AccessKey == "" || e.SecretKey == "" {
		errs = append(errs, fmt.Errorf("%s: access_key and secret_key are both needed (placeholders like {env.S3_SECRET_KEY} work)", what))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	region := e.Region
	if region == "" {
		region = DefaultRegion
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(e.AccessKey, e.SecretKey, ""),
	}
	// An HTTP client of its own, on the SDK's default transport, so that
	// CloseIdleConnections can reach its connection pool: every config
	// reload makes new clients, and the connections an old one keeps alive
	// would stay open until their idle timeout. It follows no redirect
	// (the SDK's own client follows 307 and 308): for a policy read, a
	// redirect is the store's error.
	var transport http.RoundTripper = awshttp.NewBuildableClient().GetTransport()
	if maxBody > 0 {
		transport = &cappedTransport{next: transport, max: maxBody}
	}
	httpClient := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.URL)
		o.UsePathStyle = true
		o.HTTPClient = httpClient
		// The SDK's retries, without its client-side retry quota: a store
		// outage would use the quota up, and the first requests after the
		// store returns would then fail unretried, delaying the catch-up of
		// the index and of every cached policy.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.RateLimiter = ratelimit.None
		})
	}), nil
}

// cappedTransport cuts off every answer's body with an error past max bytes,
// so that a client that decodes a whole answer (GetBucketCors) reads no more.
type cappedTransport struct {
	next http.RoundTripper
	max  int64
}

func (t *cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: t.max}
	return resp, nil
}

// CloseIdleConnections reaches the transport's pool through the cap.
func (t *cappedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// ErrAnswerTooLarge is the error of a body read past its cap.
var ErrAnswerTooLarge = errors.New("the answer is larger than a CORS configuration can be")

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, ErrAnswerTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// CloseIdleConnections closes the kept-alive connections of a client made
// by NewS3Client that no request is using.
func CloseIdleConnections(c *s3.Client) {
	if hc, ok := c.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		hc.CloseIdleConnections()
	}
}
