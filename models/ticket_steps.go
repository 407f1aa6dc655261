package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// What a unit does to a ticket in chat (签收, 反馈, 办结), how an import
// settles a claimed 办结, and how the alert ladder follows: 签收 and 反馈
// acknowledge the level under way, a claimed 办结 takes the ticket out of the
// scan, an approved 延期 restarts the ladder from the new deadline.

// Ticket changes of the steps units take in chat and of the import settling them.
const (
	EventSigned   TicketChange = "signed"   // 签收 in chat
	EventFeedback TicketChange = "feedback" // 反馈 in chat; Reason is the progress
	EventClaimed  TicketChange = "claimed"  // 办结 reported in chat; Reason is the result
	// EventClaimConfirmed: an import reported the claimed ticket closed; To is its status.
	EventClaimConfirmed TicketChange = "claim_confirmed"
	// EventClaimReverted: an import brought news of the claimed ticket, which the
	// platform still has open, and withdrew the claim; To is its status.
	EventClaimReverted TicketChange = "claim_reverted"
	// EventGridSigned and EventGridFeedback are the grid street's 签收 and
	// 反馈 under 双派单, kept apart from the responsible unit's.
	EventGridSigned   TicketChange = "grid_signed"
	EventGridFeedback TicketChange = "grid_feedback"
)

// TicketStep is a step a unit takes on a ticket in chat. Who may take it is
// the caller's to check.
type TicketStep struct {
	Number string
	Change TicketChange // EventSigned, EventFeedback or EventClaimed
	Actor  string       // the actor's userid
	Text   string       // the progress (反馈) or the result (办结)
	At     time.Time
	// Grid takes the step for the ticket's grid street (双派单): its own
	// 签收 and 反馈 (never 办结), recorded as EventGridSigned and
	// EventGridFeedback.
	Grid bool
}

// StepTicket takes a step on an open ticket and returns the ticket as it now
// stands, recording a TicketEvent with the actor, the text and the time.
//   - EventSigned sets SignedAt;
//   - EventFeedback records the progress (and signs an unsigned ticket);
//   - EventClaimed marks the 办结 claimed (ClaimedDoneAt, ClaimedBy,
//     ClaimedResult, and SignedAt if unset) until an import settles it.
//
// For the grid street (st.Grid) 签收 sets GridSignedAt and 反馈 GridFeedback
// and GridFeedbackAt instead, and 办结 is refused.
//
// 签收 and 反馈 acknowledge the alerts of the part they are taken for
// (AckAlerts of SubjectTicket, or SubjectGrid for the grid): the repeats of
// the level under way stop, the next level still fires. A step that does not
// fit the ticket's state changes nothing and is refused with the state: a
// closed ticket (EINVALID), a pending claim or a second 签收 (ECONFLICT). An
// unknown number is ENOTFOUND; a race with another step ECONFLICT.
func (s *Store) StepTicket(ctx context.Context, st TicketStep) (*Ticket, error) {
	var out Ticket
	err := s.Tx(ctx, func(tx *Store) error {
		if err := findTicket(tx.db.WithContext(ctx), st.Number, &out); err != nil {
			return err
		}
		if err := tx.stepRefusal(ctx, &out, st); err != nil {
			return err
		}
		at := st.At
		set := map[string]any{"updated_at": at}
		change, subject := st.Change, SubjectTicket
		signed := "signed_at"
		switch {
		case st.Grid:
			subject, signed = SubjectGrid, "grid_signed_at"
			if out.GridSignedAt == nil {
				set["grid_signed_at"], out.GridSignedAt = at, &at
			}
			switch st.Change {
			case EventSigned:
				change = EventGridSigned
			case EventFeedback:
				change = EventGridFeedback
				set["grid_feedback"], set["grid_feedback_at"] = st.Text, at
				out.GridFeedback, out.GridFeedbackAt = st.Text, &at
			default:
				return fmt.Errorf("models: no grid step %q", st.Change)
			}
		case out.SignedAt == nil:
			set["signed_at"], out.SignedAt = at, &at
		}
		if !st.Grid {
			switch st.Change {
			case EventSigned, EventFeedback:
			case EventClaimed:
				set["claimed_done_at"], set["claimed_by"], set["claimed_result"] = at, st.Actor, st.Text
				out.ClaimedDoneAt, out.ClaimedBy, out.ClaimedResult = &at, st.Actor, st.Text
			default:
				return fmt.Errorf("models: no ticket step %q", st.Change)
			}
		}
		// The update holds only while the ticket is as it was read.
		unchanged := func() *gorm.DB {
			q := tx.db.WithContext(ctx).Model(&Ticket{}).Where("id = ? AND status = ? AND claimed_done_at IS NULL", out.ID, out.Status)
			if st.Change == EventSigned {
				q = q.Where(signed + " IS NULL")
			}
			return q
		}
		res := unchanged().Updates(set)
		if res.Error != nil {
			return fmt.Errorf("models: %s ticket %s: %w", change, st.Number, res.Error)
		}
		if res.RowsAffected == 0 {
			// MySQL counts changed rows: a 反馈 in the same second as the
			// last step changes none, yet the ticket is as it was read.
			var n int64
			if err := unchanged().Count(&n).Error; err != nil {
				return fmt.Errorf("models: %s ticket %s: %w", change, st.Number, err)
			}
			if n == 0 {
				return Errorf(ECONFLICT, "")
			}
		}
		out.UpdatedAt = at
		if st.Change != EventClaimed {
			if _, err := tx.AckAlerts(ctx, subject, out.ID, at); err != nil {
				return err
			}
		}
		return tx.addTicketEvent(ctx, TicketEvent{TicketID: out.ID, Change: change, Reason: st.Text, Actor: st.Actor, At: at})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// stepRefusal says why a step does not fit the ticket's state, or nil.
func (s *Store) stepRefusal(ctx context.Context, t *Ticket, st TicketStep) error {
	signedAt := t.SignedAt
	if st.Grid {
		signedAt = t.GridSignedAt
	}
	switch {
	case !t.Open():
		return Errorf(EINVALID, "工单 %s %s，%s", t.Number, t.Status, closedRefusals[st.Change])
	case t.ClaimPending():
		name, err := s.memberName(ctx, t.ClaimedBy)
		if err != nil {
			return err
		}
		return Errorf(ECONFLICT, "工单 %s 已于%s由%s报办结，待平台确认", t.Number, userTime(*t.ClaimedDoneAt, s.loc), name)
	case st.Change == EventSigned && signedAt != nil:
		return Errorf(ECONFLICT, "工单 %s 已于%s签收，无需重复签收", t.Number, userTime(*signedAt, s.loc))
	}
	return nil
}

// closedRefusals end the refusal of a step on a closed ticket.
var closedRefusals = map[TicketChange]string{EventSigned: "无需签收", EventFeedback: "无需反馈", EventClaimed: "无需再报办结"}

// memberName returns the name of the member with a userid, or the userid.
func (s *Store) memberName(ctx context.Context, userid string) (string, error) {
	var m Member
	err := s.db.WithContext(ctx).Select("name").Where("userid = ?", userid).Take(&m).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return userid, nil
	case err != nil:
		return "", fmt.Errorf("models: name of member %s: %w", userid, err)
	}
	return m.Name, nil
}

// userTime writes a time for people: 11月20日 10:05.
func userTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("1月2日 15:04")
}

// ClaimSettled says what saving n over old did to a claimed 办结: with old's
// claim pending and n's cleared, EventClaimConfirmed when n is closed and
// EventClaimReverted when it is open; "" when there was no claim or it stands.
// The import decides (tickets); this names the outcome for events and notices.
func ClaimSettled(old, n *Ticket) TicketChange {
	switch {
	case old == nil || !old.ClaimPending() || n.ClaimPending():
		return ""
	case n.Open():
		return EventClaimReverted
	}
	return EventClaimConfirmed
}

// ClearAlerts deletes a subject's alerts at the given levels, so that each
// fires afresh when its time comes; an approved 延期 clears the levels the
// new deadline has not reached, restarting the ladder from it. It returns
// how many it deleted.
func (s *Store) ClearAlerts(ctx context.Context, subject AlertSubject, id uint, levels []AlertLevel) (int64, error) {
	if len(levels) == 0 {
		return 0, nil
	}
	res := s.db.WithContext(ctx).Where("subject_kind = ? AND subject_id = ? AND level IN ?", subject, id, levels).Delete(&Alert{})
	if res.Error != nil {
		return 0, fmt.Errorf("models: clear alerts of %s %d: %w", subject, id, res.Error)
	}
	return res.RowsAffected, nil
}
