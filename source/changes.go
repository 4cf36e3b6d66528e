package source

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Change records tell the other proxies sharing a store that a policy
// changed through this one. Each is one small object,
//
//	<prefix>.changes/<20-digit unix nanoseconds>-<writer>-<bucket>
//
// named by the writer's clock so that keys sort by time, and <writer> is 8
// lowercase hex digits naming the writing index, so that it can skip its
// own records. The body is JSON: {"bucket", "action": "put"|"delete",
// "etag"}. The name alone says what a reader needs, so a poll is one
// ListObjectsV2 and reads no record.

// changesDir is the folder of the change records, under the store's prefix.
const changesDir = ".changes/"

// Change actions.
const (
	ActionPut    = "put"
	ActionDelete = "delete"
)

// ChangeRecord is one change record.
type ChangeRecord struct {
	// At is the writer's clock when the change was stored.
	At time.Time `json:"-"`
	// Writer names the index that wrote the record.
	Writer string `json:"-"`
	Bucket string `json:"bucket"`
	// Action is ActionPut or ActionDelete.
	Action string `json:"action"`
	// ETag is the new policy object's ETag, for a put.
	ETag string `json:"etag,omitempty"`
}

// newWriterID returns 8 random lowercase hex digits.
func newWriterID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// changesPrefix is the key prefix of the store's change records.
func (s *Store) changesPrefix() string { return s.Prefix + changesDir }

// changeKey is the key of the record of c.
func (s *Store) changeKey(c ChangeRecord) string {
	return fmt.Sprintf("%s%020d-%s-%s", s.changesPrefix(), c.At.UnixNano(), c.Writer, c.Bucket)
}

// changeCursor is the key after which records written at or after t sort.
func (s *Store) changeCursor(t time.Time) string {
	return fmt.Sprintf("%s%020d", s.changesPrefix(), max(t.UnixNano()-1, 0))
}

// parseChangeKey reads a record's key; ok is false for a key that is not
// one.
func (s *Store) parseChangeKey(key string) (c ChangeRecord, ok bool) {
	name, found := strings.CutPrefix(key, s.changesPrefix())
	if !found || len(name) < 20+1+8+2 || name[20] != '-' || name[29] != '-' {
		return c, false
	}
	ns, err := strconv.ParseInt(name[:20], 10, 64)
	if err != nil {
		return c, false
	}
	return ChangeRecord{At: time.Unix(0, ns), Writer: name[21:29], Bucket: name[30:]}, true
}

// WriteChange stores the record of c.
func (s *Store) WriteChange(ctx context.Context, c ChangeRecord) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	key := s.changeKey(c)
	s.Requests.put.Add(1)
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.Bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		return fmt.Errorf("policy_store: writing the change record s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// listChanges lists the records whose keys sort after startAfter, a page of
// up to pageSize keys per request; keys that are not records are skipped.
func (s *Store) listChanges(ctx context.Context, startAfter string, pageSize int) ([]ChangeRecord, error) {
	var records []ChangeRecord
	in := &s3.ListObjectsV2Input{
		Bucket:     aws.String(s.Bucket),
		Prefix:     aws.String(s.changesPrefix()),
		StartAfter: aws.String(startAfter),
		MaxKeys:    aws.Int32(int32(pageSize)),
	}
	err := s.list(ctx, in, func(objects []types.Object) {
		for _, obj := range objects {
			if c, ok := s.parseChangeKey(aws.ToString(obj.Key)); ok {
				records = append(records, c)
			}
		}
	})
	return records, err
}

// pruneChanges deletes the records written before cutoff, by their own
// names. Records sort by time, so it lists from the oldest, a page of up to
// pageSize keys per request, and deletes each page's old records with one
// DeleteObjects request, until a page holds a recent record. It returns how
// many it deleted.
func (s *Store) pruneChanges(ctx context.Context, cutoff time.Time, pageSize int) (int, error) {
	end := s.changeCursor(cutoff)
	deleted := 0
	var token *string
	for {
		s.Requests.list.Add(1)
		pageCtx, cancel := s.bounded(ctx)
		out, err := s.Client.ListObjectsV2(pageCtx, &s3.ListObjectsV2Input{
			Bucket:            aws.String(s.Bucket),
			Prefix:            aws.String(s.changesPrefix()),
			MaxKeys:           aws.Int32(int32(pageSize)),
			ContinuationToken: token,
		})
		cancel()
		if err != nil {
			return deleted, fmt.Errorf("policy_store: listing s3://%s/%s: %w", s.Bucket, s.changesPrefix(), err)
		}
		var old []types.ObjectIdentifier
		for _, obj := range out.Contents {
			if key := aws.ToString(obj.Key); key <= end {
				old = append(old, types.ObjectIdentifier{Key: aws.String(key)})
			}
		}
		if len(old) > 0 {
			s.Requests.delete.Add(1)
			delCtx, cancel := s.bounded(ctx)
			_, err = s.Client.DeleteObjects(delCtx, &s3.DeleteObjectsInput{
				Bucket: aws.String(s.Bucket),
				Delete: &types.Delete{Objects: old, Quiet: aws.Bool(true)},
			})
			cancel()
			if err != nil {
				return deleted, fmt.Errorf("policy_store: deleting old change records under s3://%s/%s: %w", s.Bucket, s.changesPrefix(), err)
			}
			deleted += len(old)
		}
		if len(old) < len(out.Contents) || !aws.ToBool(out.IsTruncated) {
			return deleted, nil
		}
		token = out.NextContinuationToken
	}
}
