package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/caddyserver/caddy/v2"
)

// S3Endpoint says how to reach an S3-compatible API: MinIO, R2 or S3.
// Credentials may be placeholders such as {env.S3_SECRET_KEY} or
// {file./run/secrets/s3_secret}; they are resolved at provision and never
// logged.
type S3Endpoint struct {
	// Endpoint is the API's base URL, e.g. http://127.0.0.1:9000 or
	// https://<account>.r2.cloudflarestorage.com.
	Endpoint string `json:"endpoint,omitempty"`
	// Region signs the requests. Default: us-east-1 ("auto" for R2).
	Region string `json:"region,omitempty"`
	// AccessKey is the access key ID.
	AccessKey string `json:"access_key,omitempty"`
	// SecretKey is the secret access key.
	SecretKey string `json:"secret_key,omitempty"`
}

// defaultRegion is the region requests are signed for when none is given;
// MinIO accepts it unless configured otherwise.
const defaultRegion = "us-east-1"

// client returns an S3 client for the endpoint, with its placeholders
// resolved. Requests are path-style, as every S3-compatible store accepts.
func (e S3Endpoint) client(what string) (*s3.Client, error) {
	repl := caddy.NewReplacer()
	endpoint := repl.ReplaceAll(e.Endpoint, "")
	region := repl.ReplaceAll(e.Region, "")
	accessKey := repl.ReplaceAll(e.AccessKey, "")
	secretKey := repl.ReplaceAll(e.SecretKey, "")

	var errs []error
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s: endpoint %q is not a URL; give the S3 API's base URL, e.g. http://127.0.0.1:9000", what, endpoint))
	}
	if accessKey == "" || secretKey == "" {
		errs = append(errs, fmt.Errorf("%s: access_key and secret_key are both needed (placeholders like {env.S3_SECRET_KEY} work)", what))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if region == "" {
		region = defaultRegion
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	}
	// An HTTP client of the module's own, on the SDK's default transport,
	// so that closeIdleConnections can reach its connection pool: every
	// config reload makes new clients, and the connections an old one keeps
	// alive would stay open until their idle timeout. It follows no
	// redirect (the SDK's own client follows 307 and 308 only): for a policy
	// read, a redirect is the store's error.
	httpClient := &http.Client{
		Transport:     awshttp.NewBuildableClient().GetTransport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.HTTPClient = httpClient
	}), nil
}

// closeIdleConnections closes the kept-alive connections of a client made
// by S3Endpoint.client that no request is using.
func closeIdleConnections(c *s3.Client) {
	if hc, ok := c.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		hc.CloseIdleConnections()
	}
}
