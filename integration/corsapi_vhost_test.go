package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestCORSAPIOnAVirtualHostedBucket runs PutBucketCors, GetBucketCors and
// DeleteBucketCors as an SDK sends them to a virtual-hosted bucket (PUT
// http://<bucket>.s3.test:<port>/?cors), with the proxy naming the bucket by
// its host label: the calls are answered at the edge, and the policy is
// enforced for requests to that host.
func TestCORSAPIOnAVirtualHostedBucket(t *testing.T) {
	t.Parallel()
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	const bucket = "vhost-media"
	m.CreateBucket(t, bucket)
	port := testrig.FreePort(t)
	// http://:<port> accepts every Host; <bucket>.s3.test has the bucket
	// at label 2, counted from the right.
	testrig.StartCaddy(t, storeSite(fmt.Sprintf(":%d", port), m, "1h",
		"\t\tbucket {http.request.host.labels.2}\n"+apiBlock(apiAccessKey, apiSecretKey)))
	proxy := fmt.Sprintf("127.0.0.1:%d", port)
	bucketHost := fmt.Sprintf("%s.s3.test:%d", bucket, port)

	// Every name the SDK dials is this proxy: *.s3.test has no DNS here.
	var dialer net.Dialer
	client := s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(fmt.Sprintf("http://s3.test:%d", port)),
		UsePathStyle:     false,
		Credentials:      credentials.NewStaticCredentialsProvider(apiAccessKey, apiSecretKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, proxy)
			},
		}},
	})
	preflight := func() storeResp {
		req, err := http.NewRequest(http.MethodOptions, "http://"+proxy+"/photos/cat.jpg", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = bucketHost
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		return storeDo(t, req)
	}

	storeCheckRefused(t, "before the PUT", preflight(), "PUT", true)
	rules := []apiRule{{ID: "vhost-uploads", Origins: []string{"https://app.example.com"},
		Methods: []string{"PUT", "GET"}, Headers: []string{"content-type"}, MaxAge: apiInt(120)}}
	if _, err := client.PutBucketCors(apiCtx(t), &s3.PutBucketCorsInput{
		Bucket:            aws.String(bucket),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: apiRulesToSDK(rules)},
	}); err != nil {
		t.Fatalf("PutBucketCors to %s: %v", bucketHost, err)
	}
	got, err := client.GetBucketCors(apiCtx(t), &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("GetBucketCors: %v", err)
	}
	apiCheckRules(t, "GetBucketCors", apiRulesFromSDK(got.CORSRules), rules)
	if body, ok := m.GetObject(t, storePolicyBucket, bucket+".xml"); !ok || !strings.Contains(string(body), "vhost-uploads") {
		t.Errorf("the policy store holds %q (found %v), want the policy put", body, ok)
	}

	r := preflight()
	if r.Status != http.StatusOK {
		t.Fatalf("preflight after the PUT: %d %s, want 200", r.Status, r.Body)
	}
	wantCORS := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "PUT, GET",
		"Access-Control-Allow-Headers":     "content-type",
		"Access-Control-Max-Age":           "120",
	}
	if gotCORS := storeCORSHeaders(r.Header); fmt.Sprint(gotCORS) != fmt.Sprint(wantCORS) {
		t.Errorf("preflight after the PUT: CORS headers %v, want %v", gotCORS, wantCORS)
	}

	if _, err := client.DeleteBucketCors(apiCtx(t), &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("DeleteBucketCors: %v", err)
	}
	storeCheckRefused(t, "after the DELETE", preflight(), "PUT", true)
	if _, ok := m.GetObject(t, storePolicyBucket, bucket+".xml"); ok {
		t.Errorf("the policy object is still in the store after DeleteBucketCors")
	}
}
