package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// StoreInbound is one group commit of the callbacks' journal: it stores rows,
// each once per (Route, MsgID). fresh[i] reports whether rows[i] was new; a
// new row gets its ID. A repeat of a stored message, or of an earlier row of
// the batch, is left out.
//
// The batch goes in with one INSERT IGNORE (SQLite: INSERT OR IGNORE), which
// itself tells which rows were new: on SQLite and MariaDB it returns them
// (RETURNING); on MySQL its count of rows says whether all were, as under
// load nearly all are, and then their IDs follow from the first. A MySQL
// batch with a repeat in it rolls that insert back and takes the careful
// way: it looks up which of its keys are stored and inserts the others. A
// database error rolls everything back, so that a caller can retry the rows
// one by one to isolate a bad one.
func (s *Store) StoreInbound(ctx context.Context, rows []*Inbound) (fresh []bool, err error) {
	fresh = make([]bool, len(rows))
	seen := make(map[string]bool, len(rows))
	news := make([]*Inbound, 0, len(rows))
	for i, in := range rows {
		key := inboundKey(in.Route, in.MsgID)
		in.ID = 0
		if seen[key] {
			continue
		}
		seen[key], fresh[i] = true, true
		fitInbound(in)
		news = append(news, in)
	}
	if len(news) == 0 {
		return fresh, nil
	}
	if s.returning {
		err = s.insertInboundReturning(ctx, news)
	} else {
		err = s.Tx(ctx, func(tx *Store) error { return tx.insertInboundAll(ctx, news) })
		if errors.Is(err, errInboundRepeat) {
			err = s.Tx(ctx, func(tx *Store) error { return tx.storeInboundCarefully(news) })
		}
	}
	if err != nil {
		for _, in := range news {
			in.ID = 0
		}
		return nil, err
	}
	for i, in := range rows {
		fresh[i] = fresh[i] && in.ID != 0
	}
	return fresh, nil
}

// errInboundRepeat rolls back a batch insert that met a stored message.
var errInboundRepeat = errors.New("models: a stored message in the batch")

func inboundKey(route Route, msgID string) string { return string(route) + "\x00" + msgID }

// inboundColumns are the columns StoreInbound writes, in the order of
// inboundArgs: every column of Inbound but its ID.
const inboundColumns = "route, msg_id, chat_id, chat_type, from_userid, from_name, msg_type, text, media, reply_url, attachment, " +
	"task_id, received_at, handled_at, attempts, claimed_until, last_error"

// inboundPlaceholders is one row's VALUES tuple of inboundColumns.
var inboundPlaceholders = "(" + strings.Repeat("?,", strings.Count(inboundColumns, ",")) + "?)"

func inboundArgs(args []any, in *Inbound) []any {
	return append(args, in.Route, in.MsgID, in.ChatID, in.ChatType, in.FromUserID, in.FromName, in.MsgType, in.Text, in.Media,
		in.ReplyURL, in.Attachment, in.TaskID, in.ReceivedAt, in.HandledAt, in.Attempts, in.ClaimedUntil, in.LastError)
}

// insertIgnore returns the statement that inserts rows, skipping those whose
// (route, msg_id) is taken, and its arguments.
func (s *Store) insertIgnore(rows []*Inbound) (string, []any) {
	var q strings.Builder
	q.WriteString("INSERT IGNORE INTO ")
	if s.driver == DriverSQLite {
		q.Reset()
		q.WriteString("INSERT OR IGNORE INTO ")
	}
	q.WriteString(s.Table(&Inbound{}))
	q.WriteString(" (" + inboundColumns + ") VALUES ")
	args := make([]any, 0, (strings.Count(inboundColumns, ",")+1)*len(rows))
	for i, in := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(inboundPlaceholders)
		args = inboundArgs(args, in)
	}
	return q.String(), args
}

// insertInboundReturning inserts rows in one statement that returns the new
// ones, and gives those their IDs.
func (s *Store) insertInboundReturning(ctx context.Context, rows []*Inbound) error {
	q, args := s.insertIgnore(rows)
	res, err := s.db.WithContext(ctx).Raw(q+" RETURNING id, route, msg_id", args...).Rows()
	if err != nil {
		return fmt.Errorf("models: store inbound: %w", err)
	}
	defer res.Close()
	byKey := make(map[string]*Inbound, len(rows))
	for _, in := range rows {
		byKey[inboundKey(in.Route, in.MsgID)] = in
	}
	for res.Next() {
		var id uint
		var route Route
		var msgID string
		if err := res.Scan(&id, &route, &msgID); err != nil {
			return fmt.Errorf("models: store inbound: %w", err)
		}
		if in := byKey[inboundKey(route, msgID)]; in != nil {
			in.ID = id
		}
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("models: store inbound: %w", err)
	}
	return nil
}

// insertInboundAll inserts rows in one statement and gives them their IDs,
// the first one's and those after it (one statement's IDs are consecutive,
// as gorm relies on too); if any row was skipped as stored, it returns
// errInboundRepeat, for the caller to roll back.
func (s *Store) insertInboundAll(ctx context.Context, rows []*Inbound) error {
	q, args := s.insertIgnore(rows)
	res, err := s.db.Statement.ConnPool.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("models: store inbound: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("models: store inbound: %w", err)
	}
	if n != int64(len(rows)) {
		return errInboundRepeat
	}
	first, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("models: store inbound: %w", err)
	}
	for i, in := range rows {
		in.ID = uint(first) + uint(i)
	}
	return nil
}

// storeInboundCarefully inserts the rows that are not stored yet, giving
// them their IDs, and leaves the others' IDs 0: it looks their keys up,
// inserts the rest, and should another replica store one of those
// meanwhile, inserts them one by one, taking a unique-key error as "stored".
func (s *Store) storeInboundCarefully(rows []*Inbound) error {
	for _, in := range rows {
		in.ID = 0
	}
	stored, err := s.storedInbound(rows)
	if err != nil {
		return err
	}
	var rest []*Inbound
	for _, in := range rows {
		if !stored[inboundKey(in.Route, in.MsgID)] {
			rest = append(rest, in)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	err = s.db.Create(rest).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Both databases keep the transaction going after such an error.
		return s.insertEach(rest)
	}
	if err != nil {
		return fmt.Errorf("models: store inbound: %w", err)
	}
	return nil
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
			seen[inboundKey(route, id)] = true
		}
	}
	return seen, nil
}

// insertEach inserts rows one by one, leaving the ID 0 of those another
// replica stored first.
func (s *Store) insertEach(rows []*Inbound) error {
	for _, in := range rows {
		in.ID = 0
		err := s.db.Create(in).Error
		switch {
		case errors.Is(err, gorm.ErrDuplicatedKey):
			in.ID = 0
		case err != nil:
			return fmt.Errorf("models: store inbound %s/%s: %w", in.Route, in.MsgID, err)
		}
	}
	return nil
}

// MarkInboundHandled marks the messages with the IDs in ids handled at at, in
// one statement; a message already handled keeps its first time.
func (s *Store) MarkInboundHandled(ctx context.Context, ids []uint, at time.Time) error {
	err := s.db.WithContext(ctx).Session(&gorm.Session{SkipDefaultTransaction: true}).Model(&Inbound{}).
		Where("id IN ? AND handled_at IS NULL", ids).
		Updates(map[string]any{"handled_at": at, "claimed_until": nil, "last_error": ""}).Error
	if err != nil {
		return fmt.Errorf("models: mark inbound handled: %w", err)
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
// that have used up maxAttempts attempts and will not be tried again; oldest
// is when the oldest of the others arrived (zero when there is none).
func (s *Store) UnhandledInbound(ctx context.Context, maxAttempts int) (pending, abandoned int64, oldest time.Time, err error) {
	var rows []struct {
		Abandoned bool
		N         int64
	}
	err = s.db.WithContext(ctx).Model(&Inbound{}).
		Select("attempts >= ? AS abandoned, COUNT(*) AS n", maxAttempts).
		Where("handled_at IS NULL").Group("abandoned").Scan(&rows).Error
	if err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("models: count unhandled inbound: %w", err)
	}
	for _, r := range rows {
		if r.Abandoned {
			abandoned = r.N
		} else {
			pending = r.N
		}
	}
	if pending == 0 {
		return pending, abandoned, time.Time{}, nil
	}
	var first Inbound
	err = s.db.WithContext(ctx).Select("received_at").Where("handled_at IS NULL AND attempts < ?", maxAttempts).Order("id").Take(&first).Error
	if errors.Is(err, gorm.ErrRecordNotFound) { // handled since the count
		return pending, abandoned, time.Time{}, nil
	}
	if err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("models: oldest unhandled inbound: %w", err)
	}
	return pending, abandoned, first.ReceivedAt, nil
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
