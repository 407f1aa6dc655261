package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// claimLockKey names the KV row that serialises claim passes across
// replicas: every claim transaction writes it first, so one pass at a time
// sees the rate budgets and takes its rows.
const claimLockKey = "outbox/claim-lock"

// RecentSend is one send that counts against a rate budget: a message sent
// at At, or one claimed and in flight (At is then the claim pass's time).
type RecentSend struct {
	Channel string
	To      string
	ChatID  string
	At      time.Time
}

// ClaimOptions drive one claim pass of ClaimOutbox.
type ClaimOptions struct {
	// Worker names the claimer; it is written to ClaimedBy.
	Worker string
	// Now is the pass's time; Lease how long the claimed rows stay reserved.
	Now   time.Time
	Lease time.Duration
	// Since bounds the sends handed to Pick: those sent after it, plus the
	// rows in flight under another claim.
	Since time.Time
	// Heads caps the destinations looked at in one pass.
	Heads int
	// Pick chooses the rows to claim among heads: the oldest pending row of
	// each destination, whether due or not, claimed or not. A head's
	// NextAttemptAt is when it may be sent: the later of its own and the end
	// of its destination's backoff (OutboxBackoff). Pick returns their IDs;
	// rows that are not due or are claimed by another pass are never taken,
	// whatever Pick says. Pick is called first without the lock and with no
	// recent sends (to learn cheaply whether anything may be taken: the
	// wake it computes then holds when it takes nothing) and, when it
	// chooses any row, once more under the claim lock with the recent
	// sends; that choice is taken. It must choose afresh each time.
	Pick func(heads []OutboxMessage, recent []RecentSend) []uint
}

// ClaimOutbox runs one claim pass and returns the rows it took, in ID order,
// leased to o.Worker until o.Now+o.Lease. Rows to one destination are only
// ever offered in ID order, one at a time, so no row is sent before the rows
// enqueued before it to the same destination are sent or failed. Passes are
// serialised across replicas, on MySQL by a row lock and on SQLite by its
// write lock, so rate budgets computed in Pick hold for the whole service.
func (s *Store) ClaimOutbox(ctx context.Context, o ClaimOptions) ([]OutboxMessage, error) {
	// A pass that can take nothing (an idle outbox, or every head waiting
	// or under way) costs two reads, not a write lock: Pick looks at the
	// heads without the recent sends first, and only when it would take
	// one are the sends read, under the lock, for the real choice.
	ids, err := s.pickHeads(ctx, o, false)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var claimed []OutboxMessage
	err = s.Tx(ctx, func(tx *Store) error {
		if err := tx.PutKV(ctx, claimLockKey, o.Worker, nil); err != nil {
			return err
		}
		ids, err := tx.pickHeads(ctx, o, true)
		if err != nil || len(ids) == 0 {
			return err
		}
		until := o.Now.Add(o.Lease)
		err = tx.db.Model(&OutboxMessage{}).
			Where("id IN ? AND status = ? AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)", ids, OutboxPending, o.Now, o.Now).
			Updates(map[string]any{"claimed_by": o.Worker, "claimed_until": until}).Error
		if err != nil {
			return fmt.Errorf("models: claim outbox: %w", err)
		}
		err = tx.db.Where("id IN ? AND status = ? AND claimed_by = ? AND claimed_until = ?", ids, OutboxPending, o.Worker, until).
			Order("id").Find(&claimed).Error
		if err != nil {
			return fmt.Errorf("models: read claimed outbox: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// pickHeads reads the heads, with their destinations' backoffs, and (with
// sends) the recent sends, and returns the IDs Pick chooses among the heads
// that are due; none without heads.
func (s *Store) pickHeads(ctx context.Context, o ClaimOptions, sends bool) ([]uint, error) {
	heads, err := s.outboxHeads(ctx, o.Heads)
	if err != nil || len(heads) == 0 {
		return nil, err
	}
	dests := make([]string, len(heads))
	for i, h := range heads {
		dests[i] = h.Destination
	}
	blocked, err := s.outboxBlocks(ctx, dests, o.Now)
	if err != nil {
		return nil, err
	}
	for i := range heads {
		if until, ok := blocked[heads[i].Destination]; ok && until.After(heads[i].NextAttemptAt) {
			heads[i].NextAttemptAt = until
		}
	}
	var recent []RecentSend
	if sends {
		if recent, err = s.recentSends(ctx, o.Since, o.Now); err != nil {
			return nil, err
		}
	}
	var ids []uint
	for _, id := range o.Pick(heads, recent) {
		if i := slices.IndexFunc(heads, func(h OutboxMessage) bool { return h.ID == id }); i >= 0 && !heads[i].NextAttemptAt.After(o.Now) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// outboxHeads returns the oldest pending row of up to limit destinations.
func (s *Store) outboxHeads(ctx context.Context, limit int) ([]OutboxMessage, error) {
	table := s.Table(&OutboxMessage{})
	first := s.db.WithContext(ctx).Table(table).Select("MIN(id) AS id").Where("status = ?", OutboxPending).Group("destination")
	var heads []OutboxMessage
	err := s.db.WithContext(ctx).Table(table+" AS o").Select("o.*").
		Joins("JOIN (?) AS h ON h.id = o.id", first).
		Order("o.priority DESC, o.id").Limit(limit).Find(&heads).Error
	if err != nil {
		return nil, fmt.Errorf("models: list outbox heads: %w", err)
	}
	return heads, nil
}

// recentSends returns the sends after since and the rows in flight at now.
func (s *Store) recentSends(ctx context.Context, since, now time.Time) ([]RecentSend, error) {
	var sent, flying []RecentSend
	err := s.db.WithContext(ctx).Model(&OutboxMessage{}).
		Select("channel, to_target AS `to`, chat_id, sent_at AS at").
		Where("sent_at > ? AND status = ?", since, OutboxSent).Scan(&sent).Error
	if err != nil {
		return nil, fmt.Errorf("models: list recent sends: %w", err)
	}
	err = s.db.WithContext(ctx).Model(&OutboxMessage{}).
		Select("channel, to_target AS `to`, chat_id").
		Where("status = ? AND claimed_until >= ?", OutboxPending, now).Scan(&flying).Error
	if err != nil {
		return nil, fmt.Errorf("models: list outbox in flight: %w", err)
	}
	for i := range flying {
		flying[i].At = now
	}
	return append(sent, flying...), nil
}

// MarkOutboxSent records that row id, claimed by worker, was sent at at,
// and ends its destination's backoff: the rows behind it go at once. It
// reports false when the claim was lost (the lease ran out and another
// worker took the row), in which case nothing is written.
func (s *Store) MarkOutboxSent(ctx context.Context, id uint, worker string, at time.Time) (bool, error) {
	return s.finishClaim(ctx, id, worker, map[string]any{
		"status": OutboxSent, "sent_at": at, "last_error": "", "attempts": gorm.Expr("attempts + 1"),
	}, func(tx *Store) error { return tx.clearOutboxBackoff(ctx, id) })
}

// RetryOutbox records the failed attempt at row id, claimed by worker, and
// stores backoff as its destination's retry state: the row, and every row
// behind it, waits until backoff.Until. A nil backoff leaves the destination
// as it is and the row due at once. It reports false when the claim was
// lost, in which case nothing is written.
func (s *Store) RetryOutbox(ctx context.Context, id uint, worker, errText string, backoff *OutboxBackoff) (bool, error) {
	set := map[string]any{"last_error": ClipBytes(errText, lastErrorSize), "attempts": gorm.Expr("attempts + 1")}
	if backoff != nil {
		set["next_attempt_at"] = backoff.Until
	}
	return s.finishClaim(ctx, id, worker, set, holdBackoff(ctx, backoff))
}

// FailOutbox gives up on row id, claimed by worker: its status becomes
// failed and the rows after it to the same destination go ahead, once the
// destination's backoff ends. A non-nil backoff is stored as that backoff
// (a row given up after a passing failure still tells of its destination);
// nil leaves it as it is. It reports false when the claim was lost.
func (s *Store) FailOutbox(ctx context.Context, id uint, worker, errText string, backoff *OutboxBackoff) (bool, error) {
	return s.finishClaim(ctx, id, worker, map[string]any{
		"status": OutboxFailed, "last_error": ClipBytes(errText, lastErrorSize), "attempts": gorm.Expr("attempts + 1"),
	}, holdBackoff(ctx, backoff))
}

// holdBackoff returns the step that stores backoff; none for nil.
func holdBackoff(ctx context.Context, backoff *OutboxBackoff) func(tx *Store) error {
	if backoff == nil {
		return nil
	}
	return func(tx *Store) error { return tx.putOutboxBackoff(ctx, backoff) }
}

// errClaimLost rolls back the steps that follow a lost claim.
var errClaimLost = errors.New("models: outbox claim lost")

// finishClaim applies set to a row still pending and claimed by worker,
// releases the claim and, in the same transaction, runs then (when not nil).
// Nothing is written when the claim was lost.
func (s *Store) finishClaim(ctx context.Context, id uint, worker string, set map[string]any, then func(tx *Store) error) (bool, error) {
	set["claimed_by"], set["claimed_until"] = "", nil
	err := s.Tx(ctx, func(tx *Store) error {
		res := tx.db.WithContext(ctx).Model(&OutboxMessage{}).
			Where("id = ? AND status = ? AND claimed_by = ?", id, OutboxPending, worker).Updates(set)
		switch {
		case res.Error != nil:
			return fmt.Errorf("models: update outbox %d: %w", id, res.Error)
		case res.RowsAffected != 1:
			return errClaimLost
		case then != nil:
			return then(tx)
		}
		return nil
	})
	if errors.Is(err, errClaimLost) {
		return false, nil
	}
	return err == nil, err
}

// OutboxBacklog counts the pending rows by channel, and returns when the
// oldest of them was enqueued (zero when none is pending).
func (s *Store) OutboxBacklog(ctx context.Context) (byChannel map[string]int64, oldest time.Time, err error) {
	var rows []struct {
		Channel string
		N       int64
	}
	err = s.db.WithContext(ctx).Model(&OutboxMessage{}).Select("channel, COUNT(*) AS n").
		Where("status = ?", OutboxPending).Group("channel").Scan(&rows).Error
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("models: count outbox backlog: %w", err)
	}
	byChannel = make(map[string]int64, len(rows))
	for _, r := range rows {
		byChannel[r.Channel] = r.N
	}
	if len(rows) == 0 {
		return byChannel, time.Time{}, nil
	}
	var first OutboxMessage
	err = s.db.WithContext(ctx).Select("created_at").Where("status = ?", OutboxPending).Order("id").Take(&first).Error
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("models: oldest outbox row: %w", err)
	}
	return byChannel, first.CreatedAt, nil
}
