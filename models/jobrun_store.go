package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ErrLeaseLost is returned by FinishJob and FailJob when the run no longer holds
// its slot: its lease ran out and another runner claimed the slot again. The
// caller's transaction must roll back, so that the slot's messages are sent by
// that other runner alone.
var ErrLeaseLost = errors.New("models: job lease lost to another runner")

// ClaimJob claims one slot of a job for a work group (e.g. "daily-report",
// "hh", "2026-11-20T17:30"; group "" for a job run once for the
// installation) for owner, with a lease of the given length on the store's clock. The first
// claim inserts the (job, slot) row; a later one takes it over only when the row
// is running with a lease that has run out (its runner crashed) or failed with
// its retry time passed. ClaimJob returns nil and no error when the slot is
// done, skipped, or held by someone else. Late marks a run that is made up
// after its time (补发).
func (s *Store) ClaimJob(ctx context.Context, job, group, slot, owner string, late bool, lease time.Duration) (*JobRun, error) {
	now := s.Now()
	until := now.Add(lease)
	run := JobRun{
		Job: job, Group: group, Slot: slot, Status: JobRunning, Late: late, Owner: owner,
		StartedAt: now, LeaseUntil: &until, Attempts: 1,
	}
	err := s.db.WithContext(ctx).Create(&run).Error
	if err == nil {
		return &run, nil
	}
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, fmt.Errorf("models: claim %s %s %s: %w", job, group, slot, err)
	}
	res := s.db.WithContext(ctx).Model(&JobRun{}).
		Where("job = ? AND group_code = ? AND slot = ? AND status IN ? AND lease_until < ?", job, group, slot, []JobStatus{JobRunning, JobFailed}, now).
		Updates(map[string]any{
			"status": JobRunning, "owner": owner, "late": late, "started_at": now,
			"lease_until": until, "attempts": gorm.Expr("attempts + 1"),
		})
	if res.Error != nil {
		return nil, fmt.Errorf("models: reclaim %s %s %s: %w", job, group, slot, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	if err := s.db.WithContext(ctx).Where("job = ? AND group_code = ? AND slot = ?", job, group, slot).Take(&run).Error; err != nil {
		return nil, fmt.Errorf("models: reclaim %s %s %s: %w", job, group, slot, err)
	}
	if run.Owner != owner {
		return nil, nil // taken over again between our update and our read
	}
	return &run, nil
}

// FinishJob marks a claimed run done with a one-line summary. Call it on the
// Store of the transaction that enqueues the run's messages: it fails with
// ErrLeaseLost when the run lost its slot, and the messages roll back with it.
// A done slot is never claimed again.
func (s *Store) FinishJob(ctx context.Context, run *JobRun, summary string) error {
	now := s.Now()
	return s.settleJob(ctx, run, map[string]any{
		"status": JobDone, "finished_at": now, "lease_until": nil, "error": "", "summary": ClipBytes(summary, jobSummarySize),
	})
}

// FailJob records that a claimed run failed with cause; the slot may be claimed
// again from retryAt on, or never when retryAt is zero (it stays failed, and
// only a run by hand under another slot key does its work). It fails with
// ErrLeaseLost when the run lost its slot.
func (s *Store) FailJob(ctx context.Context, run *JobRun, cause error, retryAt time.Time) error {
	var retry any
	if !retryAt.IsZero() {
		retry = retryAt
	}
	return s.settleJob(ctx, run, map[string]any{
		"status": JobFailed, "finished_at": s.Now(), "lease_until": retry, "error": ClipBytes(cause.Error(), jobErrorSize),
	})
}

// RenewJob extends a claimed run's lease to lease from now, so that a run
// longer than its lease keeps its slot. It fails with ErrLeaseLost when the
// run no longer holds the slot: the caller must stop before committing.
func (s *Store) RenewJob(ctx context.Context, run *JobRun, lease time.Duration) error {
	until := s.Now().Add(lease)
	if err := s.settleJob(ctx, run, map[string]any{"lease_until": until}); err != nil {
		return err
	}
	run.LeaseUntil = &until
	return nil
}

// Final reports whether the slot will not be claimed again: it is done,
// skipped, or failed for good (with no retry time).
func (r *JobRun) Final() bool {
	return r.Status == JobDone || r.Status == JobSkipped || (r.Status == JobFailed && r.LeaseUntil == nil)
}

// settleJob updates the run's row if it is still this run's claim.
func (s *Store) settleJob(ctx context.Context, run *JobRun, fields map[string]any) error {
	held := func() *gorm.DB {
		return s.db.WithContext(ctx).Model(&JobRun{}).
			Where("id = ? AND owner = ? AND attempts = ? AND status = ?", run.ID, run.Owner, run.Attempts, JobRunning)
	}
	res := held().Updates(fields)
	if res.Error != nil {
		return fmt.Errorf("models: settle %s %s: %w", run.Job, run.Slot, res.Error)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	// MySQL counts changed rows only: an update that writes the values the
	// row already has (a renewal within one clock tick) matches but counts 0.
	var n int64
	if err := held().Count(&n).Error; err != nil {
		return fmt.Errorf("models: settle %s %s: %w", run.Job, run.Slot, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %s: %w", run.Job, run.Slot, ErrLeaseLost)
	}
	return nil
}

// SkipJob records that a slot was missed and will not run, with the reason. It
// reports whether this call recorded it, so that of several replicas only one
// logs the skip; a slot already claimed or recorded is left as it is.
func (s *Store) SkipJob(ctx context.Context, job, group, slot, reason string) (bool, error) {
	now := s.Now()
	run := JobRun{Job: job, Group: group, Slot: slot, Status: JobSkipped, StartedAt: now, FinishedAt: &now, Summary: ClipBytes(reason, jobSummarySize)}
	return insertOnce(s.db.WithContext(ctx), &run, "skip "+job+" "+slot)
}

// JobRunOf returns the row of one slot of a job for a group, or ENOTFOUND.
func (s *Store) JobRunOf(ctx context.Context, job, group, slot string) (*JobRun, error) {
	var run JobRun
	err := s.db.WithContext(ctx).Where("job = ? AND group_code = ? AND slot = ?", job, group, slot).Take(&run).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "任务 %s 在 %s 没有运行记录", job, slot)
	}
	if err != nil {
		return nil, fmt.Errorf("models: find job run %s %s: %w", job, slot, err)
	}
	return &run, nil
}

// insertOnce inserts row and reports false, writing nothing, when a row with
// the same unique key exists. (ON CONFLICT DO NOTHING cannot tell: on MariaDB
// gorm adds RETURNING, which returns the existing row as if inserted.) A
// duplicate key fails the statement only, not a surrounding transaction.
func insertOnce(db *gorm.DB, row any, what string) (bool, error) {
	err := db.Create(row).Error
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return false, nil
	}
	return false, fmt.Errorf("models: %s: %w", what, err)
}
