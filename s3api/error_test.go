package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// answered writes err as the package answers it (WriteError) and returns
// what a client reads: the status and the decoded S3 XML body.
func answered(t *testing.T, err error) (int, Error) {
	t.Helper()
	rec := httptest.NewRecorder()
	status, werr := WriteError(rec, err, "", "")
	if werr != nil {
		t.Fatal(werr)
	}
	if status != rec.Code {
		t.Errorf("WriteError returned status %d but wrote %d", status, rec.Code)
	}
	return decodeAnswer(t, rec)
}

// decodeAnswer checks that rec holds an S3 XML error, whole and labelled
// as such, and decodes it.
func decodeAnswer(t *testing.T, rec *httptest.ResponseRecorder) (int, Error) {
	t.Helper()
	body := rec.Body.Bytes()
	if ct := rec.Header().Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type = %q, want application/xml", ct)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length = %q, but the body has %d bytes", cl, len(body))
	}
	if !strings.HasPrefix(string(body), xml.Header+"<Error>") {
		t.Errorf("body does not start with the XML declaration and <Error>:\n%s", body)
	}
	var e Error
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("body is not an S3 error: %v\n%s", err, body)
	}
	return rec.Code, e
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	withResource := &Error{Status: http.StatusNotFound, Code: "NoSuchCORSConfiguration", Message: msgNoSuchCORS, Resource: "/kept", BucketName: "kept"}
	cases := []struct {
		name             string
		err              error
		resource, bucket string
		want             Error
	}{
		{"an S3 error gets the resource and bucket", ErrSlowDown, "/uploads/a.png", "uploads",
			Error{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate.", Resource: "/uploads/a.png", BucketName: "uploads"}},
		{"an S3 error without resource or bucket", ErrOriginNeeded, "", "",
			Error{Status: 400, Code: "BadRequest", Message: "Insufficient information. Origin request header needed."}},
		{"an S3 error keeps its own resource and bucket", withResource, "/other", "other",
			Error{Status: 404, Code: "NoSuchCORSConfiguration", Message: msgNoSuchCORS, Resource: "/kept", BucketName: "kept"}},
		{"a wrapped S3 error is answered as itself", fmt.Errorf("reading: %w", ErrPolicyUnavailable), "", "uploads",
			Error{Status: 503, Code: "ServiceUnavailable", Message: "The CORS configuration of this bucket cannot be read now. Please try again.", BucketName: "uploads"}},
		{"any other error is S3's 503", errors.New("dial tcp 10.0.0.1:9000: connection refused"), "/uploads", "uploads",
			Error{Status: 503, Code: "ServiceUnavailable", Message: "The policy store cannot be reached now. Please try again.", Resource: "/uploads", BucketName: "uploads"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			if _, err := WriteError(rec, tc.err, tc.resource, tc.bucket); err != nil {
				t.Fatal(err)
			}
			status, got := decodeAnswer(t, rec)
			got.Status, got.XMLName = status, xml.Name{}
			if got != tc.want {
				t.Errorf("answered %+v\nwant     %+v", got, tc.want)
			}
		})
	}
}

// TestWriteErrorLeavesSharedErrorsAlone: the package's errors are shared by
// every request, so one answer's resource must not stay in them for the
// next.
func TestWriteErrorLeavesSharedErrorsAlone(t *testing.T) {
	t.Parallel()
	shared := &Error{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."}
	if _, err := WriteError(httptest.NewRecorder(), shared, "/uploads/a.png", "uploads"); err != nil {
		t.Fatal(err)
	}
	_, e := answered(t, shared)
	if e.Resource != "" || e.BucketName != "" || shared.Resource != "" || shared.BucketName != "" {
		t.Errorf("the next answer carries %q, %q; the error holds %q, %q", e.Resource, e.BucketName, shared.Resource, shared.BucketName)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	if got := ErrSlowDown.Error(); got != "SlowDown: Please reduce your request rate." {
		t.Errorf("Error() = %q", got)
	}
}

// failingWriter is a ResponseWriter whose connection is gone.
type failingWriter struct{ httptest.ResponseRecorder }

func (w *failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRenderedWriteReportsAFailedWrite(t *testing.T) {
	t.Parallel()
	w := &failingWriter{*httptest.NewRecorder()}
	if err := ErrSlowDown.Render().Write(w, ""); err == nil || err.Error() != "broken pipe" {
		t.Errorf("Write = %v, want the writer's error", err)
	}
}

func TestPreflightRefusal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name             string
		policyExists     bool
		method, resource string
		wantMethod       string
		wantResource     string
		wantMessage      string
	}{
		{"no policy, on an object: S3 names the bucket", false, "PUT", ResourceObject, "PUT", ResourceBucket, msgCORSNotEnabled},
		{"no policy, on the bucket", false, "GET", ResourceBucket, "GET", ResourceBucket, msgCORSNotEnabled},
		{"no rule matches, on an object", true, "PUT", ResourceObject, "PUT", ResourceObject, msgCORSNotAllowed},
		{"no rule matches, on the bucket", true, "DELETE", ResourceBucket, "DELETE", ResourceBucket, msgCORSNotAllowed},
		{"no Access-Control-Request-Method: S3 reports OPTIONS", true, "", ResourceObject, "OPTIONS", ResourceObject, msgCORSNotAllowed},
		{"no Access-Control-Request-Method, no policy", false, "", ResourceObject, "OPTIONS", ResourceBucket, msgCORSNotEnabled},
		{"a method not rendered in advance", true, "PROPFIND", ResourceObject, "PROPFIND", ResourceObject, msgCORSNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := PreflightRefusal(tc.policyExists, tc.method, tc.resource)
			rec := httptest.NewRecorder()
			if err := r.Write(rec, ""); err != nil {
				t.Fatal(err)
			}
			status, e := decodeAnswer(t, rec)
			if status != http.StatusForbidden || r.Status() != http.StatusForbidden || e.Code != "AccessForbidden" {
				t.Errorf("answered %d %s, want 403 AccessForbidden", status, e.Code)
			}
			if e.Message != tc.wantMessage || e.Method != tc.wantMethod || e.ResourceType != tc.wantResource {
				t.Errorf("Message %q, Method %q, ResourceType %q\nwant    %q, %q, %q", e.Message, e.Method, e.ResourceType, tc.wantMessage, tc.wantMethod, tc.wantResource)
			}
			if string(r.Body()) != rec.Body.String() {
				t.Errorf("Body() differs from what Write sent")
			}
			if _, ok := rec.Header()["Vary"]; ok {
				t.Errorf("Vary written without being asked: %v", rec.Header()["Vary"])
			}
		})
	}
}

// TestPreflightRefusalIsRenderedOnce: a flood of refused preflights must
// cost no rendering, so the common answers are the same value every time.
func TestPreflightRefusalIsRenderedOnce(t *testing.T) {
	t.Parallel()
	for _, method := range refusalMethods {
		r := PreflightRefusal(true, method, ResourceObject)
		if r != PreflightRefusal(true, method, ResourceObject) {
			t.Errorf("the refusal of %s is rendered on each call", method)
		}
		if !strings.Contains(string(r.Body()), "<Method>"+method+"</Method>") {
			t.Errorf("the refusal rendered for %s names another method:\n%s", method, r.Body())
		}
	}
}

// TestRenderedAnswersShareNoHeaderSlices writes one rendered answer to two
// recorders and edits the first one's headers in place, as a later handler
// may: the second answer, and the first one's other headers, must not
// change.
func TestRenderedAnswersShareNoHeaderSlices(t *testing.T) {
	t.Parallel()
	const vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
	r := PreflightRefusal(true, "PUT", ResourceObject)
	first, second := httptest.NewRecorder(), httptest.NewRecorder()
	if err := r.Write(first, vary); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(second, vary); err != nil {
		t.Fatal(err)
	}
	if got := second.Header()["Vary"]; len(got) != 1 || got[0] != vary {
		t.Fatalf("Vary = %q, want %q", got, vary)
	}
	wantLength := strconv.Itoa(len(r.Body()))

	h := first.Header()
	h["Content-Type"][0] = "text/plain"
	h["Vary"][0] = "*"
	h["Content-Type"] = append(h["Content-Type"], "charset=utf-8")
	h["Vary"] = append(h["Vary"], "Accept")

	if got := h["Content-Length"]; len(got) != 1 || got[0] != wantLength {
		t.Errorf("appending to Content-Type changed Content-Length to %q", got)
	}
	for name, want := range map[string]string{"Content-Type": "application/xml", "Content-Length": wantLength, "Vary": vary} {
		if got := second.Header()[name]; len(got) != 1 || got[0] != want {
			t.Errorf("editing the first answer's headers changed the second's %s to %q", name, got)
		}
	}
}
