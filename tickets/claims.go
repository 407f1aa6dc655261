package tickets

import (
	"context"
	"fmt"

	"yanzhen/models"
	"yanzhen/msg"
)

// Enqueuer puts messages in the outbox on st (the store, or a transaction of
// it, with which they commit); bot.Outbox is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, st *models.Store, msgs ...msg.Message) (int, error)
}

// settleClaim decides what a row does to a 办结 a unit claimed in chat
// (models.Ticket.ClaimedDoneAt): a row that leaves the ticket closed confirms
// the claim; a row that brings news of the ticket (changes any of its
// platform data) while the platform still has it open withdraws the claim,
// and the ticket is back in the overdue scan; a row that brings nothing new
// (the same export again, or one taken before the unit closed the ticket on
// the platform) leaves the claim standing. A settled claim is cleared; the
// event says which way it went (models.ClaimSettled).
func settleClaim(old, t *models.Ticket) {
	if old == nil || !old.ClaimPending() || (t.Open() && models.SameTicket(old, t)) {
		return
	}
	t.ClaimedDoneAt, t.ClaimedBy, t.ClaimedResult = nil, "", ""
}

// tellWithdrawn tells each claimant whose claim the batch withdrew, on tx.
func (s *Service) tellWithdrawn(ctx context.Context, tx *models.Store, writes []models.TicketWrite) error {
	if s.Outbox == nil {
		return nil
	}
	var out []msg.Message
	for _, w := range writes {
		if models.ClaimSettled(w.Old, w.New) != models.EventClaimReverted {
			continue
		}
		old := w.Old
		m := msg.Plain(msg.ToMembers(old.ClaimedBy), fmt.Sprintf(
			"【工单 %s】平台导入的最新数据仍为%s，您%s报的办结已撤销，超期提醒恢复。请在12345平台办结后再回复“办结 %s 结果”。",
			old.Number, w.New.Status, old.ClaimedDoneAt.In(tx.Location()).Format("1月2日 15:04"), old.Number))
		m.DedupeKey = fmt.Sprintf("claim-withdrawn:%s:%d", old.Number, old.ClaimedDoneAt.Unix())
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil
	}
	_, err := s.Outbox.Enqueue(ctx, tx, out...)
	return err
}
