package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// WriteInbound is one group commit of the callbacks' journal: in one
// transaction it stores rows, each once per (Route, MsgID), and marks the
// messages with the IDs in handled as handled at at (a message already
// handled keeps its first time).
//
// fresh[i] reports whether rows[i] was new; a new row gets its ID. A repeat
// of a stored message, or of an earlier row of the batch, is left out. The
// new rows go in with one statement and the handled ones with another, so a
// batch costs little more than one row. A database error rolls everything
// back, so that a caller can retry the parts one by one to isolate a bad row.
func (s *Store) WriteInbound(ctx context.Context, rows []*Inbound, handled []uint, at time.Time) (fresh []bool, err error) {
	fresh = make([]bool, len(rows))
	err = s.Tx(ctx, func(tx *Store) error {
		if len(handled) > 0 {
			err := tx.db.Model(&Inbound{}).Where("id IN ? AND handled_at IS NULL", handled).
				Updates(map[string]any{"handled_at": at, "claimed_until": nil, "last_error": ""}).Error
			if err != nil {
				return fmt.Errorf("models: mark inbound handled: %w", err)
			}
		}
		if len(rows) == 0 {
			return nil
		}
		seen, err := tx.storedInbound(rows)
		if err != nil {
			return err
		}
		var news []*Inbound
		for i, in := range rows {
			key := string(in.Route) + "\x00" + in.MsgID
			if seen[key] {
				in.ID = 0
				continue
			}
			seen[key], fresh[i] = true, true
			fitInbound(in)
			news = append(news, in)
		}
		if len(news) == 0 {
			return nil
		}
		err = tx.db.Create(news).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			// Another replica stored one of them since the check: insert
			// one by one, taking a unique-key error as "seen". Both
			// databases keep the transaction going after such an error.
			return tx.insertEach(news, rows, fresh)
		}
		if err != nil {
			return fmt.Errorf("models: store inbound: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// storedInbound returns the (route, msg_id) keys of rows already stored.
func (s *Store) storedInbound(rows []*Inbound) (map[string]bool, error) {
	byRoute := map[Route][]string{}
	for _, in := range rows {
		byRoute[in.Route] = append(byRoute[in.Route], in.MsgID)
	}
	seen := make(map[string]bool, len(rows))
	for route, ids := range byRoute {
		var found []string
		if err := s.db.Model(&Inbound{}).Where("route = ? AND msg_id IN ?", route, ids).Pluck("msg_id", &found).Error; err != nil {
			return nil, fmt.Errorf("models: look up stored inbound: %w", err)
		}
		for _, id := range found {
			seen[string(route)+"\x00"+id] = true
		}
	}
	return seen, nil
}

// insertEach inserts news one by one, clearing fresh for the ones another
// replica stored first.
func (s *Store) insertEach(news, rows []*Inbound, fresh []bool) error {
	dup := map[*Inbound]bool{}
	for _, in := range news {
		in.ID = 0
		err := s.db.Create(in).Error
		switch {
		case errors.Is(err, gorm.ErrDuplicatedKey):
			dup[in], in.ID = true, 0
		case err != nil:
			return fmt.Errorf("models: store inbound %s/%s: %w", in.Route, in.MsgID, err)
		}
	}
	for i, in := range rows {
		if dup[in] {
			fresh[i] = false
		}
	}
	return nil
}

// fitInbound cuts the text fields to their columns, at character boundaries,
// so that a long name or URL never fails the insert on a strict MySQL.
func fitInbound(in *Inbound) {
	in.ChatID = ClipBytes(in.ChatID, 128)
	in.ChatType = ChatType(ClipBytes(string(in.ChatType), 16))
	in.FromUserID = ClipBytes(in.FromUserID, 64)
	in.FromName = ClipBytes(in.FromName, 64)
	in.MsgType = ClipBytes(in.MsgType, 32)
	in.ReplyURL = ClipBytes(in.ReplyURL, 1024)
	in.Attachment = ClipBytes(in.Attachment, 2048)
	in.TaskID = ClipBytes(in.TaskID, 128)
	in.LastError = ClipBytes(in.LastError, lastErrorSize)
	in.Text = ClipBytes(in.Text, 65535)
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

// FailInbound records the error of the attempt at handling message id and
// holds the message until retryAt, when DueInbound offers it again.
func (s *Store) FailInbound(ctx context.Context, id uint, errText string, retryAt time.Time) error {
	err := s.db.WithContext(ctx).Model(&Inbound{}).Where("id = ? AND handled_at IS NULL", id).
		Updates(map[string]any{"last_error": ClipBytes(errText, lastErrorSize), "claimed_until": retryAt}).Error
	if err != nil {
		return fmt.Errorf("models: record inbound %d error: %w", id, err)
	}
	return nil
}

// DueInbound returns up to limit unhandled messages, oldest first, that may be
// claimed at now: fewer than maxAttempts attempts so far, and no lease or
// retry hold running.
func (s *Store) DueInbound(ctx context.Context, now time.Time, maxAttempts int, limit int) ([]Inbound, error) {
	var out []Inbound
	err := s.db.WithContext(ctx).
		Where("handled_at IS NULL AND attempts < ? AND (claimed_until IS NULL OR claimed_until < ?)", maxAttempts, now).
		Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: list due inbound: %w", err)
	}
	return out, nil
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

// StoredInbound returns the stored message of a route and MsgID, or ENOTFOUND.
func (s *Store) StoredInbound(ctx context.Context, route Route, msgID string) (*Inbound, error) {
	var in Inbound
	err := s.db.WithContext(ctx).Where("route = ? AND msg_id = ?", route, msgID).Take(&in).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "未找到该消息")
	}
	if err != nil {
		return nil, fmt.Errorf("models: find inbound %s/%s: %w", route, msgID, err)
	}
	return &in, nil
}
