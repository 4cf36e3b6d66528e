package caddymodule

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
)

// The messages of S3's answers to refused preflights, word for word (S3's own
// spelling included), so that clients and people searching for them find what
// they know.
const (
	msgOriginNeeded   = "Insufficient information. Origin request header needed."
	msgCORSNotEnabled = "CORSResponse: CORS is not enabled for this bucket."
	msgCORSNotAllowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)

// s3Error is the XML body of an S3 error answer.
type s3Error struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Method       string   `xml:"Method,omitempty"`
	ResourceType string   `xml:"ResourceType,omitempty"`
	Resource     string   `xml:"Resource,omitempty"`
	BucketName   string   `xml:"BucketName,omitempty"`
	Details      string   `xml:"Details,omitempty"`
}

// renderS3Error returns the XML body of e.
func renderS3Error(e s3Error) []byte {
	var body bytes.Buffer
	body.WriteString(xml.Header)
	// Encoding a struct of strings cannot fail.
	_ = xml.NewEncoder(&body).Encode(e)
	return body.Bytes()
}

// writeS3Error answers with status and the error's XML body.
func writeS3Error(w http.ResponseWriter, status int, e s3Error) error {
	body := renderS3Error(e)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
