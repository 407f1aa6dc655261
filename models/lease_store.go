package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Lease says who holds a named lease, kept in the kv table (Value is the
// holder, ExpiresAt the end of the lease), and until when. Every replica on
// one database sees the same lease, so exactly one at a time holds it.
type Lease struct {
	Holder string
	Until  time.Time
}

// HeldBy reports whether holder holds the lease at now.
func (l Lease) HeldBy(holder string, now time.Time) bool {
	return l.Holder == holder && l.Until.After(now)
}

// TakeLease takes the lease named key for holder until until, or renews it:
// it succeeds when nobody holds it, when holder already does, or when the
// lease of another ran out by now. It returns the lease as it stands
// afterwards, held by holder when taken (HeldBy) and by another otherwise.
// Two replicas taking a free lease at once never both get it.
func (s *Store) TakeLease(ctx context.Context, key, holder string, now, until time.Time) (Lease, error) {
	db := s.db.WithContext(ctx)
	res := db.Model(&KV{}).Where(map[string]any{"key": key}).Where("value = ? OR expires_at <= ?", holder, now).
		Updates(map[string]any{"value": holder, "expires_at": until, "updated_at": now})
	if res.Error != nil {
		return Lease{}, fmt.Errorf("models: take lease %s: %w", key, res.Error)
	}
	if res.RowsAffected == 1 {
		return Lease{Holder: holder, Until: until}, nil
	}
	res = db.Clauses(clause.OnConflict{DoNothing: true}).Create(&KV{Key: key, Value: holder, ExpiresAt: &until, UpdatedAt: now})
	if res.Error != nil {
		return Lease{}, fmt.Errorf("models: take lease %s: %w", key, res.Error)
	}
	if res.RowsAffected == 1 {
		return Lease{Holder: holder, Until: until}, nil
	}
	// Held by another, or by holder with nothing to change (MySQL counts
	// changed rows, not matched ones): read who.
	var kv KV
	err := db.Where(map[string]any{"key": key}).Take(&kv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Lease{}, nil // released meanwhile: free, to be taken at the next try
	}
	if err != nil {
		return Lease{}, fmt.Errorf("models: read lease %s: %w", key, err)
	}
	l := Lease{Holder: kv.Value}
	if kv.ExpiresAt != nil {
		l.Until = kv.ExpiresAt.In(s.loc)
	}
	return l, nil
}

// PassLease hands the lease named key from holder to next until until, if
// holder still holds it, and reports whether it did. A holder that must
// stand down for a while passes the lease to a name no replica bears, so
// that none takes it before until.
func (s *Store) PassLease(ctx context.Context, key, holder, next string, until time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&KV{}).Where(map[string]any{"key": key, "value": holder}).
		Updates(map[string]any{"value": next, "expires_at": until, "updated_at": s.Now()})
	if res.Error != nil {
		return false, fmt.Errorf("models: pass lease %s: %w", key, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseLease ends holder's lease on key, if it still holds it, so that
// another replica may take it at once; it reports whether it did.
func (s *Store) ReleaseLease(ctx context.Context, key, holder string) (bool, error) {
	return s.DeleteKV(ctx, key, holder)
}
