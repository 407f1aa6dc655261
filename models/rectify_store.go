package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateRectification registers an item (立项) and assigns it to its unit
// (交办), recording a RectifyIssue event; on return r has its ID. Every class
// needs a problem; 即知即改 and 限时整改 a deadline; 无法整改 a reason, and it
// waits for a leader's approval (RectifyPending). An item whose Source was
// recorded before is not created again: ok is false and r is left as given.
func (s *Store) CreateRectification(ctx context.Context, r *Rectification) (ok bool, err error) {
	r.Problem, r.Reason = strings.TrimSpace(r.Problem), strings.TrimSpace(r.Reason)
	switch {
	case r.Problem == "":
		return false, Errorf(EINVALID, "请写明整改问题")
	case !slices.Contains(RectifyClasses, r.Class):
		return false, fmt.Errorf("models: no rectification class %q", r.Class)
	case r.Class == RectifyUnfixable && r.Reason == "":
		return false, Errorf(EINVALID, "无法整改须说明理由")
	case r.Class != RectifyUnfixable && r.Deadline == nil:
		return false, Errorf(EINVALID, "%s须写明期限", r.Class)
	}
	r.State = RectifyAssigned
	if r.Class == RectifyUnfixable {
		r.State = RectifyPending
	}
	if r.Deadline != nil {
		d := r.Deadline.In(s.loc)
		r.Deadline = &d
	}
	err = s.Tx(ctx, func(tx *Store) error {
		if r.Source != nil {
			var n int64
			if err := tx.db.WithContext(ctx).Model(&Rectification{}).Where("source = ?", *r.Source).Count(&n).Error; err != nil {
				return fmt.Errorf("models: find rectification by source: %w", err)
			}
			if n > 0 {
				return nil
			}
		}
		var issuer Member
		if err := tx.db.WithContext(ctx).Select("id", "userid").Take(&issuer, r.IssuerID).Error; err != nil {
			return fmt.Errorf("models: find issuer %d of rectification: %w", r.IssuerID, err)
		}
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(r).Error; err != nil {
			return dbError(err, "该整改事项已立项")
		}
		ok = true
		return tx.addRectifyEvent(ctx, RectifyEvent{ItemID: r.ID, Step: RectifyIssue, Actor: issuer.UserID, Text: r.Problem, At: r.IssuedAt})
	})
	return ok, err
}

// Rectification returns an item with its unit and issuer, or ENOTFOUND.
func (s *Store) Rectification(ctx context.Context, id uint) (*Rectification, error) {
	var r Rectification
	err := s.db.WithContext(ctx).Preload("Department").Preload("Issuer").Take(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "未找到整改事项 Z%d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("models: find rectification %d: %w", id, err)
	}
	return &r, nil
}

// RectifyEvents returns the steps of an item in the order they were taken.
func (s *Store) RectifyEvents(ctx context.Context, id uint) ([]RectifyEvent, error) {
	var out []RectifyEvent
	if err := s.db.WithContext(ctx).Where("item_id = ?", id).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list events of rectification %d: %w", id, err)
	}
	return out, nil
}

// RectifyStep is one step of an item after it was registered.
type RectifyStep struct {
	ID    uint
	Step  RectifyStepKind // RectifyTake … RectifyRefuse
	Actor string          // the actor's userid
	// Text is the evidence (反馈), the verifier's note (核查) or the
	// decider's reason (无法整改).
	Text string
	// Refs refer to the photos and files of a report (反馈).
	Refs StringList
	// Until is the deadline of an item whose 无法整改 a leader refused.
	Until *time.Time
	At    time.Time
}

// rectifyFrom are the states each step may be taken from.
var rectifyFrom = map[RectifyStepKind][]RectifyState{
	RectifyTake:    {RectifyAssigned},
	RectifyReport:  {RectifyAssigned, RectifyWorking, RectifyDeferred},
	RectifyPass:    {RectifyReported},
	RectifyFail:    {RectifyReported},
	RectifyPublish: {RectifyVerified},
	RectifyDefer:   {RectifyPending, RectifyAssigned, RectifyWorking, RectifyReported},
	RectifyRefuse:  {RectifyPending, RectifyAssigned, RectifyWorking, RectifyReported},
}

// StepRectification takes a step on an item and returns it as it now stands:
//   - RectifyTake (落实): 已交办 → 整改中;
//   - RectifyReport (反馈): 已交办 or 整改中 → 待核查, with the evidence; an
//     item standing as 无法整改 (已报备) may still be fixed and reported;
//   - RectifyPass (核查通过): 待核查 → 待公示; RectifyFail: 待核查 → 整改中
//     again (reopened), the note recorded;
//   - RectifyPublish (公示): 待公示 → 已销号;
//   - RectifyDefer (无法整改 approved): → 已报备, classed 无法整改;
//   - RectifyRefuse (无法整改 refused): an item awaiting approval becomes
//     限时整改 due Until and is assigned; any other stays as it was.
//
// Who may take a step is the caller's to check, but the verifier is never
// the one who reported (EFORBIDDEN). A step that does not fit the item's
// state changes nothing and is refused with the state; a race fails with
// ECONFLICT.
func (s *Store) StepRectification(ctx context.Context, st RectifyStep) (*Rectification, error) {
	var out *Rectification
	err := s.Tx(ctx, func(tx *Store) error {
		r, err := tx.Rectification(ctx, st.ID)
		if err != nil {
			return err
		}
		if err := rectifyRefusal(r, st); err != nil {
			return err
		}
		set := map[string]any{"updated_at": st.At}
		switch st.Step {
		case RectifyTake:
			set["state"], set["taken_at"] = RectifyWorking, st.At
		case RectifyReport:
			set["state"], set["reported_at"], set["reported_by"], set["evidence"], set["evidence_refs"] = RectifyReported, st.At, st.Actor, st.Text, st.Refs
			if r.TakenAt == nil {
				set["taken_at"] = st.At
			}
		case RectifyPass:
			set["state"], set["verified_at"], set["verified_by"] = RectifyVerified, st.At, st.Actor
		case RectifyFail:
			set["state"], set["reopened"] = RectifyWorking, r.Reopened+1
		case RectifyPublish:
			set["state"], set["closed_at"] = RectifyClosed, st.At
		case RectifyDefer:
			set["state"], set["class"] = RectifyDeferred, RectifyUnfixable
			if r.Reason == "" {
				set["reason"] = st.Text
			}
		case RectifyRefuse:
			if r.State == RectifyPending {
				if st.Until == nil {
					return fmt.Errorf("models: refusing 无法整改 of %s needs a deadline", r.Code())
				}
				set["state"], set["class"], set["deadline"] = RectifyAssigned, RectifyTimed, st.Until.In(tx.loc)
			}
		default:
			return fmt.Errorf("models: unknown rectification step %q", st.Step)
		}
		res := tx.db.WithContext(ctx).Model(&Rectification{}).Where("id = ? AND state = ?", r.ID, r.State).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("models: step %s of %s: %w", st.Step, r.Code(), res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "整改事项 %s 已由他人处理，请刷新后重试", r.Code())
		}
		if st.Step == RectifyTake || st.Step == RectifyReport {
			if _, err := tx.AckAlerts(ctx, SubjectRectification, r.ID, st.At); err != nil {
				return err
			}
		}
		if err := tx.addRectifyEvent(ctx, RectifyEvent{ItemID: r.ID, Step: st.Step, Actor: st.Actor, Text: st.Text, At: st.At}); err != nil {
			return err
		}
		out, err = tx.Rectification(ctx, r.ID)
		return err
	})
	return out, err
}

// rectifyRefusal says why a step does not fit an item, or nil.
func rectifyRefusal(r *Rectification, st RectifyStep) error {
	code := r.Code()
	if slices.Contains(rectifyFrom[st.Step], r.State) {
		if (st.Step == RectifyPass || st.Step == RectifyFail) && st.Actor == r.ReportedBy {
			return Errorf(EFORBIDDEN, "整改事项 %s 由您反馈，须由他人核查", code)
		}
		if st.Step == RectifyReport && strings.TrimSpace(st.Text) == "" {
			return Errorf(EINVALID, "请写明整改情况，如：反馈 %s 已整改，附现场照片", code)
		}
		return nil
	}
	switch {
	case r.State == RectifyClosed:
		return Errorf(EINVALID, "整改事项 %s 已销号", code)
	case r.State == RectifyPending && (st.Step == RectifyTake || st.Step == RectifyReport):
		return Errorf(EINVALID, "整改事项 %s 申请无法整改，待区领导审批", code)
	case r.State == RectifyDeferred:
		return Errorf(EINVALID, "整改事项 %s 已批准为无法整改，按月报上级", code)
	case st.Step == RectifyTake && r.State == RectifyWorking:
		return Errorf(ECONFLICT, "整改事项 %s 已签收，正在整改", code)
	case st.Step == RectifyReport:
		return Errorf(ECONFLICT, "整改事项 %s %s，无需重复反馈", code, r.State)
	case st.Step == RectifyPass || st.Step == RectifyFail:
		return Errorf(EINVALID, "整改事项 %s %s，尚不能核查", code, r.State)
	}
	return Errorf(EINVALID, "整改事项 %s %s", code, r.State)
}

func (s *Store) addRectifyEvent(ctx context.Context, e RectifyEvent) error {
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("models: record rectification event %s: %w", e.Step, err)
	}
	return nil
}

// RectifyQuery selects items of the rectification list.
type RectifyQuery struct {
	// DepartmentID limits the items to one unit; 0 means district-wide.
	DepartmentID uint
	// Class limits them to one class; "" means every class.
	Class RectifyClass
	// States limits them to some states; none means OpenRectifyStates.
	States []RectifyState
	// Issued, when not zero, bounds when they were registered; Closed when
	// they were closed.
	Issued, Closed Period
	// Limit caps the list; 0 means no cap.
	Limit int
}

// ListRectifications returns q's items with their units, oldest first.
func (s *Store) ListRectifications(ctx context.Context, q RectifyQuery) ([]Rectification, error) {
	db := s.rectifyScope(ctx, q)
	if q.Limit > 0 {
		db = db.Limit(q.Limit)
	}
	var out []Rectification
	if err := db.Preload("Department").Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list rectifications: %w", err)
	}
	return out, nil
}

// CountRectifications counts q's items (Limit aside).
func (s *Store) CountRectifications(ctx context.Context, q RectifyQuery) (int, error) {
	var n int64
	if err := s.rectifyScope(ctx, q).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("models: count rectifications: %w", err)
	}
	return int(n), nil
}

func (s *Store) rectifyScope(ctx context.Context, q RectifyQuery) *gorm.DB {
	states := q.States
	if len(states) == 0 {
		states = OpenRectifyStates
	}
	db := s.db.WithContext(ctx).Model(&Rectification{}).Where("state IN ?", states)
	if q.DepartmentID != 0 {
		db = db.Where("department_id = ?", q.DepartmentID)
	}
	if q.Class != "" {
		db = db.Where("class = ?", q.Class)
	}
	if !q.Issued.IsZero() {
		db = db.Where("issued_at >= ? AND issued_at < ?", q.Issued.Start, q.Issued.End)
	}
	if !q.Closed.IsZero() {
		db = db.Where("closed_at >= ? AND closed_at < ?", q.Closed.Start, q.Closed.End)
	}
	return db
}

// OpenRectificationsDue returns the items whose unit owes the work
// (WorkRectifyStates) with a deadline at or before to, by deadline: the
// overdue ladder's share of the list.
func (s *Store) OpenRectificationsDue(ctx context.Context, to time.Time) ([]Rectification, error) {
	var out []Rectification
	err := s.db.WithContext(ctx).Where("state IN ? AND deadline IS NOT NULL AND deadline <= ?", WorkRectifyStates, to).
		Order("deadline, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: open rectifications due: %w", err)
	}
	return out, nil
}

// PublishRectifications publishes (公示) and closes (销号) every verified
// item at `at`, by actor, and returns them, with their units, oldest first.
func (s *Store) PublishRectifications(ctx context.Context, actor string, at time.Time) ([]Rectification, error) {
	var out []Rectification
	err := s.Tx(ctx, func(tx *Store) error {
		verified, err := tx.ListRectifications(ctx, RectifyQuery{States: []RectifyState{RectifyVerified}})
		if err != nil {
			return err
		}
		for _, r := range verified {
			res := tx.db.WithContext(ctx).Model(&Rectification{}).Where("id = ? AND state = ?", r.ID, RectifyVerified).
				Updates(map[string]any{"state": RectifyClosed, "closed_at": at, "updated_at": at})
			if res.Error != nil {
				return fmt.Errorf("models: publish %s: %w", r.Code(), res.Error)
			}
			if res.RowsAffected == 0 {
				continue // another run published it
			}
			if err := tx.addRectifyEvent(ctx, RectifyEvent{ItemID: r.ID, Step: RectifyPublish, Actor: actor, At: at}); err != nil {
				return err
			}
			r.State, r.ClosedAt = RectifyClosed, &at
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// RectifyAge is an open item's age bucket in reports, by the days since it
// was registered.
type RectifyAge int

// Age buckets.
const (
	AgeWeek    RectifyAge = iota // up to 7 days
	AgeMonth                     // 8 to 30 days
	AgeOlder                     // more than 30 days
	ageBuckets                   // how many buckets there are
)

// AgeOf returns the bucket of an item registered at issued, at now.
func AgeOf(issued, now time.Time) RectifyAge {
	switch days := now.Sub(issued) / (24 * time.Hour); {
	case days <= 7:
		return AgeWeek
	case days <= 30:
		return AgeMonth
	}
	return AgeOlder
}

// Chinese names the bucket: 7天内, 8–30天, 30天以上.
func (a RectifyAge) Chinese() string {
	return [...]string{"7天内", "8–30天", "30天以上"}[a]
}

// RectifyAges lists the buckets in order.
var RectifyAges = []RectifyAge{AgeWeek, AgeMonth, AgeOlder}

// RectifyTally counts the open items of a class by age, and those of them
// overdue.
type RectifyTally struct {
	Class   RectifyClass
	ByAge   [ageBuckets]int
	Overdue int
}

// Total is the number of the class's open items.
func (t RectifyTally) Total() int { return t.ByAge[AgeWeek] + t.ByAge[AgeMonth] + t.ByAge[AgeOlder] }

// TallyRectifications counts the open items of every class (in
// RectifyClasses order) by age at now, district-wide or of one unit.
func (s *Store) TallyRectifications(ctx context.Context, deptID uint, now time.Time) ([]RectifyTally, error) {
	db := s.rectifyScope(ctx, RectifyQuery{DepartmentID: deptID}).Select("class", "state", "issued_at", "deadline")
	var rows []Rectification
	if err := db.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: tally rectifications: %w", err)
	}
	out := make([]RectifyTally, len(RectifyClasses))
	for i, c := range RectifyClasses {
		out[i].Class = c
	}
	for _, r := range rows {
		i := slices.Index(RectifyClasses, r.Class)
		if i < 0 {
			continue
		}
		out[i].ByAge[AgeOf(r.IssuedAt, now)]++
		if r.Overdue(now) {
			out[i].Overdue++
		}
	}
	return out, nil
}

// VerifiedDispatches returns the dispatches verified (核查通过, which closed
// them) in p, in the order verified, with their targets: the dispatches of
// the weekly 整改公示.
func (s *Store) VerifiedDispatches(ctx context.Context, p Period) ([]Dispatch, error) {
	var out []Dispatch
	err := s.withTargets(s.db.WithContext(ctx)).Where("status = ? AND verified_at >= ? AND verified_at < ?", DispatchClosed, p.Start, p.End).
		Order("verified_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: verified dispatches: %w", err)
	}
	return out, nil
}

// AttachEvidence adds references to photos and files (refs) to the evidence
// of the item a member reported (反馈) last, at or after since, while it
// awaits 核查, and returns it; ENOTFOUND when there is none.
func (s *Store) AttachEvidence(ctx context.Context, userid string, refs StringList, since, at time.Time) (*Rectification, error) {
	var out *Rectification
	err := s.Tx(ctx, func(tx *Store) error {
		var r Rectification
		err := tx.db.WithContext(ctx).Where("state = ? AND reported_by = ? AND reported_at >= ?", RectifyReported, userid, since).
			Order("reported_at DESC, id DESC").Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Errorf(ENOTFOUND, "没有待核查的整改反馈可附")
		}
		if err != nil {
			return fmt.Errorf("models: find the last report of %s: %w", userid, err)
		}
		all := append(slices.Clone(r.EvidenceRefs), refs...)
		res := tx.db.WithContext(ctx).Model(&Rectification{}).Where("id = ? AND state = ?", r.ID, RectifyReported).
			Updates(map[string]any{"evidence_refs": all, "updated_at": at})
		if res.Error != nil {
			return fmt.Errorf("models: attach evidence to %s: %w", r.Code(), res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "")
		}
		out, err = tx.Rectification(ctx, r.ID)
		return err
	})
	return out, err
}
