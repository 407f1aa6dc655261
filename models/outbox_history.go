package models

import (
	"context"
	"fmt"
	"time"
)

// LastOutboxID returns the ID of the newest outbox row, 0 when there is none.
func (s *Store) LastOutboxID(ctx context.Context) (uint, error) {
	var ids []uint
	if err := s.db.WithContext(ctx).Model(&OutboxMessage{}).Order("id DESC").Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("models: newest outbox row: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// RecordAsSent marks the pending outbox rows after the row with ID after as
// enqueued and sent at at, and returns how many it marked: history written
// after the fact (the demo's seeded past), which nobody is to receive now and
// which the group's daily budget counts on its day.
func (s *Store) RecordAsSent(ctx context.Context, after uint, at time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Model(&OutboxMessage{}).Where("id > ? AND status = ?", after, OutboxPending).
		Updates(map[string]any{"status": OutboxSent, "created_at": at, "sent_at": at, "next_attempt_at": at})
	if res.Error != nil {
		return 0, fmt.Errorf("models: record the outbox after %d as sent: %w", after, res.Error)
	}
	return res.RowsAffected, nil
}
