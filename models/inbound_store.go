package models

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// InsertInbound stores messages received from WeCom in one transaction, each
// once per (Route, MsgID). fresh[i] reports whether rows[i] was new; a new
// row gets its ID. A repeat of a stored message is left as it was. Any other
// error rolls the whole batch back, so a caller batching callbacks can retry
// them one by one to isolate a bad row.
func (s *Store) InsertInbound(ctx context.Context, rows []*Inbound) (fresh []bool, err error) {
	fresh = make([]bool, len(rows))
	err = s.Tx(ctx, func(tx *Store) error {
		for i, in := range rows {
			fitInbound(in)
			// A plain insert whose unique-key error marks the repeat: both
			// databases keep the transaction going after it, and it is
			// exact where ON CONFLICT with RETURNING (MariaDB) reports a row.
			err := tx.db.Create(in).Error
			switch {
			case errors.Is(err, gorm.ErrDuplicatedKey):
				in.ID = 0
			case err != nil:
				return fmt.Errorf("models: store inbound %s/%s: %w", in.Route, in.MsgID, err)
			default:
				fresh[i] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// fitInbound cuts the text fields to their columns, at character boundaries,
// so that a long name or URL never fails the insert on a strict MySQL.
func fitInbound(in *Inbound) {
	in.ChatID = truncate(in.ChatID, 128)
	in.ChatType = truncate(in.ChatType, 16)
	in.FromUserID = truncate(in.FromUserID, 64)
	in.FromName = truncate(in.FromName, 64)
	in.MsgType = truncate(in.MsgType, 32)
	in.ReplyURL = truncate(in.ReplyURL, 1024)
	in.LastError = truncate(in.LastError, 512)
	in.Text = truncate(in.Text, 65535)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ClaimInbound takes attempt number attempts+1 at handling message id, with a
// lease until until. It succeeds only if the message is unhandled, has had
// exactly attempts attempts, and is not leased at now, so two replicas never
// handle the same attempt. It reports whether the claim was taken.
func (s *Store) ClaimInbound(ctx context.Context, id uint, attempts int, now, until time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Inbound{}).
		Where("id = ? AND handled_at IS NULL AND attempts = ? AND (claimed_until IS NULL OR claimed_until < ?)", id, attempts, now).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "claimed_until": until})
	if res.Error != nil {
		return false, fmt.Errorf("models: claim inbound %d: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// FinishInbound marks message id handled at at. Finishing a message twice
// keeps the first time.
func (s *Store) FinishInbound(ctx context.Context, id uint, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&Inbound{}).Where("id = ? AND handled_at IS NULL", id).
		Updates(map[string]any{"handled_at": at, "claimed_until": nil, "last_error": ""}).Error
	if err != nil {
		return fmt.Errorf("models: finish inbound %d: %w", id, err)
	}
	return nil
}

// FailInbound records the error of the attempt at handling message id and
// holds the message until retryAt, when DueInbound offers it again.
func (s *Store) FailInbound(ctx context.Context, id uint, errText string, retryAt time.Time) error {
	err := s.db.WithContext(ctx).Model(&Inbound{}).Where("id = ? AND handled_at IS NULL", id).
		Updates(map[string]any{"last_error": truncate(errText, 512), "claimed_until": retryAt}).Error
	if err != nil {
		return fmt.Errorf("models: record inbound %d error: %w", id, err)
	}
	return nil
}

// DueInbound returns up to limit unhandled messages, oldest first, that may be
// claimed at now: fewer than maxAttempts attempts so far, no lease or retry
// hold running, and, for a message never attempted, received before
// untriedBefore (a newer one is still with the replica that received it).
func (s *Store) DueInbound(ctx context.Context, now time.Time, maxAttempts int, untriedBefore time.Time, limit int) ([]Inbound, error) {
	var out []Inbound
	err := s.db.WithContext(ctx).
		Where("handled_at IS NULL AND attempts < ? AND (claimed_until IS NULL OR claimed_until < ?) AND (attempts > 0 OR received_at < ?)",
			maxAttempts, now, untriedBefore).
		Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: list due inbound: %w", err)
	}
	return out, nil
}

// InboundByID returns one stored message.
func (s *Store) InboundByID(ctx context.Context, id uint) (*Inbound, error) {
	var in Inbound
	err := s.db.WithContext(ctx).Take(&in, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, &Error{Code: ENOTFOUND}
	}
	if err != nil {
		return nil, fmt.Errorf("models: get inbound %d: %w", id, err)
	}
	return &in, nil
}

// UnhandledInbound counts the messages not handled yet, and among them those
// that have used up maxAttempts attempts and will not be tried again.
func (s *Store) UnhandledInbound(ctx context.Context, maxAttempts int) (pending, abandoned int64, err error) {
	var rows []struct {
		Abandoned bool
		N         int64
	}
	err = s.db.WithContext(ctx).Model(&Inbound{}).
		Select("attempts >= ? AS abandoned, COUNT(*) AS n", maxAttempts).
		Where("handled_at IS NULL").Group("abandoned").Scan(&rows).Error
	if err != nil {
		return 0, 0, fmt.Errorf("models: count unhandled inbound: %w", err)
	}
	for _, r := range rows {
		if r.Abandoned {
			abandoned = r.N
		} else {
			pending = r.N
		}
	}
	return pending, abandoned, nil
}
