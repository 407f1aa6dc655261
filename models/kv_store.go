package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// GetKV returns the value stored under key. A missing key, or one whose
// ExpiresAt is not after the store's clock, is an ENOTFOUND error.
func (s *Store) GetKV(ctx context.Context, key string) (*KV, error) {
	var kv KV
	err := s.db.WithContext(ctx).Where(map[string]any{"key": key}).Take(&kv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && kv.ExpiresAt != nil && !kv.ExpiresAt.After(s.Now())) {
		return nil, &Error{Code: ENOTFOUND}
	}
	if err != nil {
		return nil, fmt.Errorf("models: get kv %s: %w", key, err)
	}
	return &kv, nil
}

// PutKV stores value under key, replacing any previous value. A nil expiresAt
// keeps the value until it is replaced or deleted.
func (s *Store) PutKV(ctx context.Context, key, value string, expiresAt *time.Time) error {
	kv := KV{Key: key, Value: value, ExpiresAt: expiresAt, UpdatedAt: s.Now()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "expires_at", "updated_at"}),
	}).Create(&kv).Error
	if err != nil {
		return fmt.Errorf("models: put kv %s: %w", key, err)
	}
	return nil
}

// DeleteKV deletes key if it still holds value, so that a replica dropping a
// stale value never deletes the fresh one another replica has just stored.
// It reports whether a row was deleted.
func (s *Store) DeleteKV(ctx context.Context, key, value string) (bool, error) {
	res := s.db.WithContext(ctx).Where(map[string]any{"key": key, "value": value}).Delete(&KV{})
	if res.Error != nil {
		return false, fmt.Errorf("models: delete kv %s: %w", key, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// PruneKV deletes the keys starting with prefix (ASCII) whose ExpiresAt has
// passed, and returns how many it deleted.
func (s *Store) PruneKV(ctx context.Context, prefix string) (int64, error) {
	res := s.db.WithContext(ctx).Where("SUBSTR(`key`, 1, ?) = ? AND expires_at IS NOT NULL AND expires_at <= ?", len(prefix), prefix, s.Now()).Delete(&KV{})
	if res.Error != nil {
		return 0, fmt.Errorf("models: prune kv %s: %w", prefix, res.Error)
	}
	return res.RowsAffected, nil
}
