package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OutboxBackoff is the retry state of one outbox destination, shared by
// every replica through the database. While Until is after now no row to the
// destination is sent; Failures counts the destination's passing failures
// since its last successful send, which sets how long it waits after the
// next one. A destination without a row waits for nothing: a successful send
// deletes its row.
type OutboxBackoff struct {
	Destination string    `gorm:"primaryKey;size:64"`
	Failures    int       `gorm:"not null"`
	Until       time.Time `gorm:"column:blocked_until;not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

// OutboxFailures returns the passing failures counted for destination since
// its last successful send; 0 when it has none.
func (s *Store) OutboxFailures(ctx context.Context, destination string) (int, error) {
	var b OutboxBackoff
	err := s.db.WithContext(ctx).Where("destination = ?", destination).Take(&b).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("models: read outbox backoff: %w", err)
	}
	return b.Failures, nil
}

// outboxBlocks returns, for those of destinations that wait past now, when
// their wait ends.
func (s *Store) outboxBlocks(ctx context.Context, destinations []string, now time.Time) (map[string]time.Time, error) {
	var rows []OutboxBackoff
	if err := s.db.WithContext(ctx).Where("destination IN ?", destinations).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: read outbox backoffs: %w", err)
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		if r.Until.After(now) {
			out[r.Destination] = r.Until
		}
	}
	return out, nil
}

// putOutboxBackoff stores b as its destination's retry state.
func (s *Store) putOutboxBackoff(ctx context.Context, b *OutboxBackoff) error {
	b.UpdatedAt = s.Now()
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "destination"}},
		DoUpdates: clause.AssignmentColumns([]string{"failures", "blocked_until", "updated_at"}),
	}).Create(b).Error
	if err != nil {
		return fmt.Errorf("models: put outbox backoff: %w", err)
	}
	return nil
}

// clearOutboxBackoff ends the wait of the destination of row id.
func (s *Store) clearOutboxBackoff(ctx context.Context, id uint) error {
	dest := s.db.WithContext(ctx).Model(&OutboxMessage{}).Select("destination").Where("id = ?", id)
	if err := s.db.WithContext(ctx).Where("destination = (?)", dest).Delete(&OutboxBackoff{}).Error; err != nil {
		return fmt.Errorf("models: clear outbox backoff: %w", err)
	}
	return nil
}
