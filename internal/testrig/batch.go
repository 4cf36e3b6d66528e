package testrig

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// batchObjects is how many objects one archive of PutObjects carries: about
// 10 MB of tar for objects of under 512 bytes.
const batchObjects = 10000

// PutObjects stores n small objects in bucket, object(i) giving the key and
// body of the i-th, with MinIO's batch upload: a tar archive sent by one
// PutObject with the metadata snowball-auto-extract, which MinIO unpacks
// into one object per file (its mc client uploads many small files so).
// Ten thousand objects take one request instead of ten thousand; MinIO's
// own writes are what is left of the time.
func (m *MinIO) PutObjects(t testing.TB, bucket string, n int, object func(i int) (key string, body []byte)) {
	t.Helper()
	client := m.Client(t)
	for first := 0; first < n; first += batchObjects {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i := first; i < min(first+batchObjects, n); i++ {
			key, body := object(i)
			hdr := &tar.Header{Name: key, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Now()}
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatalf("testrig: archiving %s: %v", key, err)
			}
			if _, err := tw.Write(body); err != nil {
				t.Fatalf("testrig: archiving %s: %v", key, err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatalf("testrig: %v", err)
		}
		// MinIO unpacks the archive before it answers: allow for a slow disk.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:   aws.String(bucket),
			Key:      aws.String(fmt.Sprintf("batch-%d.tar", first)),
			Body:     bytes.NewReader(buf.Bytes()),
			Metadata: map[string]string{"snowball-auto-extract": "true"},
		})
		cancel()
		if err != nil {
			t.Fatalf("testrig: batch upload of objects %d to %d into %s: %v", first, min(first+batchObjects, n)-1, bucket, err)
		}
	}
}
