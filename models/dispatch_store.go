package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Label is the target as people name it: its department's or member's name.
// The Department or Member must be loaded.
func (t *DispatchTarget) Label() string {
	switch {
	case t.Department != nil:
		return t.Department.Name
	case t.Member != nil:
		return t.Member.Name
	}
	return "对象" + strconv.FormatUint(uint64(t.ID), 10)
}

// Finished reports whether the target has reported the work done.
func (t *DispatchTarget) Finished() bool { return t.Status == TargetDone }

// CanTake reports whether the target can take a target step (StepSign,
// StepFeedback or StepDone) now: it signs while pending or sent back, and
// feeds back or finishes until it has finished.
func (t *DispatchTarget) CanTake(step StepKind) bool {
	if step == StepSign {
		return t.Status == TargetPending || t.Status == TargetReturned
	}
	return !t.Finished()
}

// CreateDispatch records a new open dispatch with its targets and an issue
// event; on return d and its targets have their IDs. A dispatch whose Source
// was recorded before is not created again: ok is false and d is left as given.
func (s *Store) CreateDispatch(ctx context.Context, d *Dispatch) (ok bool, err error) {
	if len(d.Targets) == 0 {
		return false, Errorf(EINVALID, "请指明调度对象")
	}
	err = s.Tx(ctx, func(tx *Store) error {
		if d.Source != nil {
			var n int64
			if err := tx.db.Model(&Dispatch{}).Where("source = ?", *d.Source).Count(&n).Error; err != nil {
				return fmt.Errorf("models: find dispatch by source: %w", err)
			}
			if n > 0 {
				return nil
			}
		}
		var issuer Member
		if err := tx.db.Select("id", "userid").Take(&issuer, d.IssuerID).Error; err != nil {
			return fmt.Errorf("models: find issuer %d of dispatch: %w", d.IssuerID, err)
		}
		d.Status = DispatchOpen
		if err := tx.db.Omit(clause.Associations).Create(d).Error; err != nil {
			return dbError(err, "该调度已下达")
		}
		for i := range d.Targets {
			t := &d.Targets[i]
			t.DispatchID, t.Status = d.ID, TargetPending
			if err := tx.db.Omit(clause.Associations).Create(t).Error; err != nil {
				return fmt.Errorf("models: create dispatch target: %w", err)
			}
		}
		ok = true
		return tx.addDispatchEvents(DispatchEvent{DispatchID: d.ID, Step: StepIssue, Actor: issuer.UserID, Text: d.Instruction, At: d.IssuedAt})
	})
	return ok, err
}

// Dispatch returns a dispatch with its issuer and its targets (each with its
// department or member), or ENOTFOUND.
func (s *Store) Dispatch(ctx context.Context, id uint) (*Dispatch, error) {
	var d Dispatch
	err := s.withTargets(s.db.WithContext(ctx)).Preload("Issuer").Take(&d, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "未找到调度 D%d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("models: find dispatch %d: %w", id, err)
	}
	return &d, nil
}

// withTargets preloads a dispatch's targets in order, each with its department or member.
func (s *Store) withTargets(db *gorm.DB) *gorm.DB {
	return db.Preload("Targets", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		Preload("Targets.Department").Preload("Targets.Member")
}

// DispatchEvents returns the steps of a dispatch in the order they were taken.
func (s *Store) DispatchEvents(ctx context.Context, id uint) ([]DispatchEvent, error) {
	var out []DispatchEvent
	if err := s.db.WithContext(ctx).Where("dispatch_id = ?", id).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list events of dispatch %d: %w", id, err)
	}
	return out, nil
}

// DispatchesFor returns the open dispatches with a target that the member
// answers for (the member itself, or one of deptIDs) and that has not finished,
// oldest first, with issuer and targets.
func (s *Store) DispatchesFor(ctx context.Context, memberID uint, deptIDs []uint) ([]Dispatch, error) {
	q := s.db.WithContext(ctx).Model(&DispatchTarget{}).Select("dispatch_id").
		Where("status <> ?", TargetDone)
	if len(deptIDs) > 0 {
		q = q.Where(s.db.Where("member_id = ?", memberID).Or("department_id IN ?", deptIDs))
	} else {
		q = q.Where("member_id = ?", memberID)
	}
	var out []Dispatch
	err := s.withTargets(s.db.WithContext(ctx)).Preload("Issuer").
		Where("status = ? AND id IN (?)", DispatchOpen, q).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: list dispatches for member %d: %w", memberID, err)
	}
	return out, nil
}

// DispatchesBy returns the open dispatches a member issued, oldest first, with targets.
func (s *Store) DispatchesBy(ctx context.Context, issuerID uint) ([]Dispatch, error) {
	var out []Dispatch
	err := s.withTargets(s.db.WithContext(ctx)).
		Where("issuer_id = ? AND status = ?", issuerID, DispatchOpen).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: list dispatches by member %d: %w", issuerID, err)
	}
	return out, nil
}

// DispatchStep is one step of a dispatch after it was issued.
type DispatchStep struct {
	DispatchID uint
	Step       StepKind // StepSign … StepVerify
	// TargetIDs are the targets the step is for: the ones the actor answers for
	// (sign, feedback, done), or the ones sent back (return; empty means every
	// finished target). Confirm and cancel take the whole dispatch.
	TargetIDs []uint
	Actor     string // the actor's userid
	Text      string // feedback, result or reason
	At        time.Time
}

// StepDispatch takes a step and returns the dispatch as it now stands and the
// targets the step changed. It refuses, changing nothing, a step that does not
// fit the dispatch's state: a closed or cancelled dispatch, a target that has
// already signed (sign) or finished (feedback, done), a confirmation or a
// verification while some target has not finished, a confirmation of a
// dispatch that needs verification, a return when no target has. Every change is
// conditional on the state it was read in, so a race fails with ECONFLICT.
func (s *Store) StepDispatch(ctx context.Context, st DispatchStep) (*Dispatch, []DispatchTarget, error) {
	var (
		out     *Dispatch
		changed []DispatchTarget
	)
	err := s.Tx(ctx, func(tx *Store) error {
		d, err := tx.Dispatch(ctx, st.DispatchID)
		if err != nil {
			return err
		}
		if err := checkOpen(d, st.Step); err != nil {
			return err
		}
		switch st.Step {
		case StepSign, StepFeedback, StepDone:
			changed, err = tx.stepTargets(ctx, d, st)
		case StepReturn:
			changed, err = tx.returnTargets(ctx, d, st)
		case StepConfirm, StepCancel, StepVerify:
			err = tx.closeDispatch(ctx, d, st)
		default:
			err = fmt.Errorf("models: unknown dispatch step %q", st.Step)
		}
		if err != nil {
			return err
		}
		if err := tx.db.Model(&Dispatch{ID: d.ID}).Update("updated_at", st.At).Error; err != nil {
			return fmt.Errorf("models: touch dispatch %d: %w", d.ID, err)
		}
		out, err = tx.Dispatch(ctx, d.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for i := range changed {
		for _, t := range out.Targets {
			if t.ID == changed[i].ID {
				changed[i] = t
			}
		}
	}
	return out, changed, nil
}

// checkOpen refuses any step on a cancelled dispatch, and any but a return on a closed one.
func checkOpen(d *Dispatch, step StepKind) error {
	switch {
	case d.Status == DispatchCancelled:
		return Errorf(EINVALID, "调度 %s 已撤销", d.Code())
	case d.Status == DispatchClosed && step != StepReturn:
		return Errorf(EINVALID, "调度 %s 已确认办结", d.Code())
	}
	return nil
}

// stepTargets signs, feeds back on or finishes the targets of st.
func (s *Store) stepTargets(ctx context.Context, d *Dispatch, st DispatchStep) ([]DispatchTarget, error) {
	var changed []DispatchTarget
	var events []DispatchEvent
	for _, t := range d.Targets {
		if !slices.Contains(st.TargetIDs, t.ID) {
			continue
		}
		if !t.CanTake(st.Step) {
			continue
		}
		set := map[string]any{}
		switch st.Step {
		case StepSign:
			set["status"] = TargetSigned
		case StepFeedback:
			set["status"], set["feedback"], set["feedback_at"] = TargetFeedback, st.Text, st.At
		case StepDone:
			set["status"], set["result"], set["done_at"] = TargetDone, st.Text, st.At
		}
		if t.SignedAt == nil || st.Step == StepSign {
			set["signed_at"], set["signed_by"] = st.At, st.Actor
		}
		if err := s.updateTarget(ctx, t, set); err != nil {
			return nil, err
		}
		id := t.ID
		events = append(events, DispatchEvent{DispatchID: d.ID, TargetID: &id, Step: st.Step, Actor: st.Actor, Text: st.Text, At: st.At})
		changed = append(changed, t)
	}
	if len(changed) == 0 {
		return nil, stepRefusal(d, st)
	}
	return changed, s.addDispatchEvents(events...)
}

// stepRefusal explains why no target of st could take the step.
func stepRefusal(d *Dispatch, st DispatchStep) error {
	switch st.Step {
	case StepSign:
		return Errorf(ECONFLICT, "调度 %s 已签收，无需重复签收", d.Code())
	default:
		return Errorf(EINVALID, "调度 %s 已报办结，如需补充请联系发起人", d.Code())
	}
}

// returnTargets sends finished targets back to work and reopens the dispatch.
func (s *Store) returnTargets(ctx context.Context, d *Dispatch, st DispatchStep) ([]DispatchTarget, error) {
	var changed []DispatchTarget
	var events []DispatchEvent
	for _, t := range d.Targets {
		if !t.Finished() || (len(st.TargetIDs) > 0 && !slices.Contains(st.TargetIDs, t.ID)) {
			continue
		}
		if err := s.updateTarget(ctx, t, map[string]any{"status": TargetReturned, "done_at": nil}); err != nil {
			return nil, err
		}
		id := t.ID
		events = append(events, DispatchEvent{DispatchID: d.ID, TargetID: &id, Step: StepReturn, Actor: st.Actor, Text: st.Text, At: st.At})
		changed = append(changed, t)
	}
	if len(changed) == 0 {
		return nil, Errorf(EINVALID, "调度 %s 尚无单位报办结，无需退回", d.Code())
	}
	if d.Status == DispatchClosed {
		if err := s.updateDispatch(ctx, d, map[string]any{"status": DispatchOpen, "closed_at": nil}); err != nil {
			return nil, err
		}
	}
	return changed, s.addDispatchEvents(events...)
}

// closeDispatch confirms or verifies (every target must have finished) or
// cancels a dispatch; one that needs verification (Verify) is closed by
// StepVerify alone.
func (s *Store) closeDispatch(ctx context.Context, d *Dispatch, st DispatchStep) error {
	status := DispatchCancelled
	set := map[string]any{}
	if st.Step == StepConfirm && d.Verify {
		return Errorf(EINVALID, "调度 %s 需核查，请发送“核查 %s 通过”或“核查 %s 不通过 说明”", d.Code(), d.Code(), d.Code())
	}
	if st.Step == StepVerify {
		set["verified_by"], set["verified_at"] = st.Actor, st.At
	}
	if st.Step == StepConfirm || st.Step == StepVerify {
		status = DispatchClosed
		var open []string
		for _, t := range d.Targets {
			if !t.Finished() {
				open = append(open, t.Label()+"（"+string(t.Status)+"）")
			}
		}
		if len(open) > 0 {
			return Errorf(EINVALID, "调度 %s 尚有单位未办结：%s。如需终止，请发送“撤销 %s”",
				d.Code(), strings.Join(open, "、"), d.Code())
		}
	}
	set["status"], set["closed_at"] = status, st.At
	if err := s.updateDispatch(ctx, d, set); err != nil {
		return err
	}
	return s.addDispatchEvents(DispatchEvent{DispatchID: d.ID, Step: st.Step, Actor: st.Actor, Text: st.Text, At: st.At})
}

// updateTarget writes set to t if t still has the status it was read with.
func (s *Store) updateTarget(ctx context.Context, t DispatchTarget, set map[string]any) error {
	res := s.db.WithContext(ctx).Model(&DispatchTarget{}).Where("id = ? AND status = ?", t.ID, t.Status).Updates(set)
	if res.Error != nil {
		return fmt.Errorf("models: update dispatch target %d: %w", t.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ECONFLICT, "")
	}
	return nil
}

// updateDispatch writes set to d if d still has the status it was read with.
func (s *Store) updateDispatch(ctx context.Context, d *Dispatch, set map[string]any) error {
	res := s.db.WithContext(ctx).Model(&Dispatch{}).Where("id = ? AND status = ?", d.ID, d.Status).Updates(set)
	if res.Error != nil {
		return fmt.Errorf("models: update dispatch %d: %w", d.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ECONFLICT, "")
	}
	return nil
}

func (s *Store) addDispatchEvents(events ...DispatchEvent) error {
	if len(events) == 0 {
		return nil
	}
	if err := s.db.Create(&events).Error; err != nil {
		return fmt.Errorf("models: record dispatch events: %w", err)
	}
	return nil
}

// AckAlerts acknowledges (签收) every alert of a subject not yet acknowledged,
// which stops the repeats of its current level; the next level still fires.
// It returns the number of alerts acknowledged.
func (s *Store) AckAlerts(ctx context.Context, subject AlertSubject, id uint, at time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Model(&Alert{}).
		Where("subject_kind = ? AND subject_id = ? AND acked_at IS NULL", subject, id).Update("acked_at", at)
	if res.Error != nil {
		return 0, fmt.Errorf("models: acknowledge alerts of %s %d: %w", subject, id, res.Error)
	}
	return res.RowsAffected, nil
}

// DispatchTargetByID returns a dispatch target by ID, or ENOTFOUND.
func (s *Store) DispatchTargetByID(ctx context.Context, id uint) (*DispatchTarget, error) {
	var t DispatchTarget
	err := s.db.WithContext(ctx).Take(&t, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "未找到该调度对象")
	}
	if err != nil {
		return nil, fmt.Errorf("models: find dispatch target %d: %w", id, err)
	}
	return &t, nil
}
