package models

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"gorm.io/gorm/clause"
)

// DestinationOf returns the key that orders the messages to one place (rows
// to one destination are sent in ID order): a hash of channel, recipient,
// chat and priority, so that no credential needs to appear in an index or a
// log line. Messages of different priorities to one chat are queues of their
// own: the daily report never waits behind a digest enqueued before it,
// while the parts of one message, which share its priority, stay in order.
func DestinationOf(channel, to, chatID string, priority int) string {
	sum := sha1.Sum([]byte(channel + "\x00" + to + "\x00" + chatID + "\x00" + strconv.Itoa(priority)))
	return channel + ":" + hex.EncodeToString(sum[:10])
}

// Enqueue puts the rows of one rendered message in the outbox, in order, and
// reports whether it did. When dedupeKey is set and a row with that key was
// enqueued before, nothing is enqueued: a job or a retried callback never
// sends twice. Each row needs Channel and Kind; Enqueue sets its
// destination, status and times. Called on a Store bound to a transaction,
// the rows commit or roll back with it.
func (s *Store) Enqueue(ctx context.Context, dedupeKey string, rows []OutboxMessage) (bool, error) {
	if len(rows) == 0 {
		return false, nil
	}
	fresh := false
	// Inside a transaction no savepoint: a job enqueues thousands of
	// messages in its run's, and a failure rolls that back whole.
	err := s.atomically(ctx, func(tx *Store) error {
		if dedupeKey != "" {
			seen, err := tx.Enqueued(ctx, dedupeKey)
			if err != nil || seen {
				return err
			}
		}
		now := tx.Now()
		out := make([]OutboxMessage, len(rows))
		for i, row := range rows {
			if row.Channel == "" || row.Kind == "" {
				return fmt.Errorf("models: enqueue: channel and kind are required")
			}
			row.ID = 0
			row.Destination = DestinationOf(row.Channel, row.To, row.ChatID, row.Priority)
			row.Status, row.NextAttemptAt, row.CreatedAt = OutboxPending, now, now
			out[i] = row
		}
		// One statement for the parts, in order; DO NOTHING covers a
		// concurrent enqueue of the same key.
		if err := tx.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&out).Error; err != nil {
			return fmt.Errorf("models: enqueue: %w", err)
		}
		fresh = true
		return nil
	})
	return fresh, err
}

// EnqueuedKeys returns which of the dedupe keys were ever put in the outbox,
// as Enqueued does one, in a query per chunk of keys.
func (s *Store) EnqueuedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(keys, s.chunkRows(1)) {
		var found []string
		if err := s.db.WithContext(ctx).Model(&OutboxMessage{}).Where("dedupe_key IN ?", chunk).Pluck("dedupe_key", &found).Error; err != nil {
			return nil, fmt.Errorf("models: look up dedupe keys: %w", err)
		}
		for _, k := range found {
			out[k] = true
		}
	}
	return out, nil
}

// Enqueued reports whether a message with the dedupe key was ever put in the
// outbox: jobs ask it to learn whether a report already went out.
func (s *Store) Enqueued(ctx context.Context, dedupeKey string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&OutboxMessage{}).Where("dedupe_key = ?", dedupeKey).Count(&n).Error; err != nil {
		return false, fmt.Errorf("models: look up dedupe key: %w", err)
	}
	return n > 0, nil
}
