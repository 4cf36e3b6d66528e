package caddymodule

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/policy"
)

// CORSAPI answers S3's bucket CORS API at the edge: PutBucketCors,
// GetBucketCors and DeleteBucketCors (PUT, GET and DELETE on /<bucket>?cors)
// never reach the origin. Policies are kept in the PolicyStore, which
// CORSAPI needs, so every proxy sharing the store enforces them within its
// cache TTL, and this one at once. Every call must be signed (AWS Signature
// Version 4) with one of Keys.
type CORSAPI struct {
	// Keys are the access key pairs allowed to call the API. Secrets may be
	// placeholders ({env.*}, {file.*}).
	Keys []APIKey `json:"keys,omitempty"`
	// Region is the region calls are signed for. Default: us-east-1.
	Region string `json:"region,omitempty"`
}

// APIKey is one access key pair of the CORS API.
type APIKey struct {
	AccessKey string `json:"access_key,omitempty"`
	SecretKey string `json:"secret_key,omitempty"`
}

// corsAPI is the provisioned CORS API.
type corsAPI struct {
	secrets map[string]string // by access key
	region  string
	store   *storeSource
}

// apiNow is the CORS API's clock; tests replace it.
var apiNow = time.Now

// S3's answers of the CORS API.
const (
	msgNoSuchCORS   = "The CORS configuration does not exist"
	msgMalformedXML = "The XML you provided was not well-formed or did not validate against our published schema"
)

// provisionCORSAPI resolves the API's keys; it needs the policy store.
func (h *Handler) provisionCORSAPI() error {
	if h.CORSAPI == nil {
		return nil
	}
	var errs []error
	if h.PolicyStore == nil {
		errs = append(errs, errors.New("cors_api: needs policy_store, where the policies it receives are kept"))
	}
	if len(h.CORSAPI.Keys) == 0 {
		errs = append(errs, errors.New("cors_api: needs at least one access_key and secret_key pair"))
	}
	repl := caddy.NewReplacer()
	api := &corsAPI{secrets: make(map[string]string), region: orDefault(repl.ReplaceAll(h.CORSAPI.Region, ""), defaultRegion)}
	for i, k := range h.CORSAPI.Keys {
		access, secret := repl.ReplaceAll(k.AccessKey, ""), repl.ReplaceAll(k.SecretKey, "")
		if access == "" || secret == "" {
			errs = append(errs, fmt.Errorf("cors_api: key %d: both access_key and secret_key are needed (placeholders like {env.CORS_SECRET_KEY} work)", i+1))
			continue
		}
		api.secrets[access] = secret
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	api.store = h.store
	h.corsAPI = api
	return nil
}

// isCORSAPICall says whether r is a call of the bucket CORS API: ?cors on a
// bucket, not on an object.
func (h *Handler) isCORSAPICall(r *http.Request) bool {
	if h.corsAPI == nil || !hasQueryKey(r.URL.RawQuery, "cors") {
		return false
	}
	path := r.URL.Path
	if h.bucketFromPath {
		// /<bucket> or /<bucket>/
		rest := strings.TrimPrefix(path, "/")
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i+1:]
		} else {
			rest = ""
		}
		return rest == ""
	}
	return path == "/" || path == ""
}

// hasQueryKey says whether the raw query names key (with or without a value).
func hasQueryKey(rawQuery, key string) bool {
	for rawQuery != "" {
		var part string
		part, rawQuery, _ = strings.Cut(rawQuery, "&")
		name, _, _ := strings.Cut(part, "=")
		if name == key {
			return true
		}
	}
	return false
}

// corsAPIActions names the S3 action of each method of a ?cors call.
var corsAPIActions = map[string]string{
	http.MethodPut:    "PutBucketCors",
	http.MethodGet:    "GetBucketCors",
	http.MethodDelete: "DeleteBucketCors",
}

// serveCORSAPI answers one call of the CORS API and logs it.
func (h *Handler) serveCORSAPI(w http.ResponseWriter, r *http.Request, bucket string) error {
	action := corsAPIActions[r.Method]
	keyID, status, err := h.callCORSAPI(w, r, bucket, action)
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	h.logger.Info("cors_api call",
		zap.String("access_key", keyID),
		zap.String("bucket", bucket),
		zap.String("action", orDefault(action, r.Method+" ?cors")),
		zap.Int("status", status),
		zap.String("result", result))
	return nil
}

// apiError is an S3 error answer of the CORS API.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// callCORSAPI authenticates and runs a call, writing its answer. It returns
// the access key used, the status sent, and the error answered, if any.
func (h *Handler) callCORSAPI(w http.ResponseWriter, r *http.Request, bucket, action string) (string, int, error) {
	var body []byte
	keyID, err := h.corsAPI.authenticate(r, &body)
	if err == nil && bucket == "" {
		err = &apiError{http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid."}
	}
	if err == nil && action == "" {
		err = &apiError{http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource."}
	}
	if err == nil {
		if _, static := h.static[bucket]; static && action != "GetBucketCors" {
			err = &apiError{http.StatusConflict, "InvalidRequest", fmt.Sprintf("The CORS configuration of bucket %s is set in the Caddy configuration; change it there.", bucket)}
		}
	}
	status := http.StatusOK
	if err == nil {
		switch action {
		case "PutBucketCors":
			err = h.putBucketCors(r.Context(), bucket, body)
		case "GetBucketCors":
			body, err = h.getBucketCors(r.Context(), bucket)
		case "DeleteBucketCors":
			err = h.deleteBucketCors(r.Context(), bucket)
			status = http.StatusNoContent
		}
	}
	if err != nil {
		return keyID, answerAPIError(w, r, bucket, err), err
	}
	if action == "GetBucketCors" {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, err = w.Write(body)
		return keyID, status, err
	}
	w.WriteHeader(status)
	return keyID, status, nil
}

// answerAPIError writes err as S3 would, and returns the status.
func answerAPIError(w http.ResponseWriter, r *http.Request, bucket string, err error) int {
	var af *authFailure
	var ae *apiError
	e := s3Error{Resource: r.URL.Path, BucketName: bucket}
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &af):
		status, e.Code, e.Message = af.status, af.code, af.message
	case errors.As(err, &ae):
		status, e.Code, e.Message = ae.status, ae.code, ae.message
	default:
		status, e.Code, e.Message = http.StatusServiceUnavailable, "ServiceUnavailable", "The policy store cannot be reached now. Please try again."
	}
	_ = writeS3Error(w, status, e)
	return status
}

// authenticate checks the signature of r and, for a call with a body,
// reads the body into *body and checks it against its declared hashes.
func (api *corsAPI) authenticate(r *http.Request, body *[]byte) (string, error) {
	sr, failure := parseSigRequest(r)
	if failure != nil {
		return "", failure
	}
	secret, ok := api.secrets[sr.accessKey]
	if !ok {
		return sr.accessKey, denied(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	if sr.service != "s3" || sr.region != api.region {
		return sr.accessKey, malformedAuth(fmt.Sprintf("the region '%s' or service '%s' is wrong; expecting region '%s' and service 's3'.", sr.region, sr.service, api.region))
	}
	if f := sr.checkTime(apiNow()); f != nil {
		return sr.accessKey, f
	}
	if f := sr.verifySignature(r, secret); f != nil {
		return sr.accessKey, f
	}
	data, err := readBody(r)
	if err != nil {
		return sr.accessKey, err
	}
	if err := checkBodyDigests(r, sr.payloadHash, data); err != nil {
		return sr.accessKey, err
	}
	*body = data
	return sr.accessKey, nil
}

// readBody reads a call's body, refusing one over the policy size limit
// without reading it whole.
func readBody(r *http.Request) ([]byte, error) {
	tooLarge := &apiError{http.StatusBadRequest, "MaxMessageLengthExceeded", fmt.Sprintf("Your request was too big: a CORS configuration is at most %d bytes.", policy.MaxDocumentSize)}
	if r.ContentLength > policy.MaxDocumentSize {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, policy.MaxDocumentSize+1))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	}
	if len(data) > policy.MaxDocumentSize {
		return nil, tooLarge
	}
	return data, nil
}

// crc64NVME is the CRC-64/NVME table, for x-amz-checksum-crc64nvme.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checkBodyDigests compares the body with every digest the request
// declares: the signed payload hash, Content-MD5 and x-amz-checksum-*.
func checkBodyDigests(r *http.Request, payloadHash string, body []byte) error {
	switch {
	case payloadHash == unsignedPayload:
	case strings.HasPrefix(payloadHash, "STREAMING-"):
		return &apiError{http.StatusNotImplemented, "NotImplemented", "Chunked (aws-chunked) uploads are not supported for the CORS API; send the configuration in one piece."}
	default:
		sum := sha256.Sum256(body)
		if payloadHash != hex.EncodeToString(sum[:]) {
			return &apiError{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}
	if want := r.Header.Get("Content-MD5"); want != "" {
		sum := md5.Sum(body)
		if want != base64.StdEncoding.EncodeToString(sum[:]) {
			return &apiError{http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received."}
		}
	}
	checksums := []struct {
		header string
		hash   func() hash.Hash
	}{
		{"X-Amz-Checksum-Crc32", func() hash.Hash { return crc32.NewIEEE() }},
		{"X-Amz-Checksum-Crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
		{"X-Amz-Checksum-Crc64nvme", func() hash.Hash { return crc64.New(crc64NVME) }},
		{"X-Amz-Checksum-Sha1", sha1.New},
		{"X-Amz-Checksum-Sha256", sha256.New},
	}
	for _, c := range checksums {
		want := r.Header.Get(c.header)
		if want == "" {
			continue
		}
		h := c.hash()
		h.Write(body)
		if want != base64.StdEncoding.EncodeToString(h.Sum(nil)) {
			return &apiError{http.StatusBadRequest, "BadDigest", fmt.Sprintf("The %s you specified did not match the calculated checksum.", strings.ToLower(c.header))}
		}
	}
	return nil
}

// putBucketCors validates an S3 XML document and stores it.
func (h *Handler) putBucketCors(ctx context.Context, bucket string, body []byte) error {
	name := "PutBucketCors " + bucket
	doc, err := policy.Decode(name, bytes.TrimSpace(body))
	if err == nil && doc.Dialect != policy.DialectXML {
		err = errors.New("the CORS configuration must be S3 XML (CORSConfiguration)")
	}
	if err != nil {
		return &apiError{http.StatusBadRequest, "MalformedXML", msgMalformedXML + ": " + err.Error()}
	}
	pol, err := policy.Compile(name, doc)
	if err != nil {
		return &apiError{http.StatusBadRequest, "InvalidRequest", err.Error()}
	}
	if err := h.corsAPI.store.put(ctx, bucket, pol); err != nil {
		return err
	}
	if h.policies != nil {
		h.policies.Put(bucket, pol, true, h.corsAPI.store.name())
	}
	return nil
}

// getBucketCors answers the bucket's policy as S3 XML: the one the Caddy
// configuration sets, else the stored one.
func (h *Handler) getBucketCors(ctx context.Context, bucket string) ([]byte, error) {
	pol := (*policy.Policy)(nil)
	if st, ok := h.static[bucket]; ok {
		pol = st.policy
	} else {
		stored, found, err := h.corsAPI.store.load(ctx, bucket)
		if cache.IsRejected(err) {
			return nil, &apiError{http.StatusInternalServerError, "InternalError", "The stored CORS configuration of this bucket does not validate; put a new one. " + err.Error()}
		}
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, &apiError{http.StatusNotFound, "NoSuchCORSConfiguration", msgNoSuchCORS}
		}
		pol = stored
	}
	return pol.Document().MarshalS3XML()
}

// deleteBucketCors removes the stored policy; the bucket then falls back on
// the other sources, read again on its next request.
func (h *Handler) deleteBucketCors(ctx context.Context, bucket string) error {
	if err := h.corsAPI.store.remove(ctx, bucket); err != nil {
		return err
	}
	if h.policies != nil {
		h.policies.Invalidate(bucket)
	}
	return nil
}
