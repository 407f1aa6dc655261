package handlers

import (
	"context"
	"fmt"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// evidenceWindow is how long after a 反馈 a photo or file sent on its own is
// taken as its evidence: where the route carries a photo apart from the
// text (the app, a robot without mixed messages), the unit sends it next.
const evidenceWindow = 30 * time.Minute

// attach takes a message of photos or files alone as evidence of the
// sender's last 反馈 of an item awaiting 核查 within evidenceWindow, and
// says so. Without such a report it explains how to send evidence in a
// single chat, and says nothing in a group. Like Handle it returns an error
// only for a failure of the system.
func (h *Handler) attach(ctx context.Context, in *models.Inbound) error {
	now := h.Now().In(h.cfg.Location())
	var text string
	err := h.store.Tx(ctx, func(tx *models.Store) error {
		item, err := tx.AttachEvidence(ctx, in.FromUserID, in.Media, now.Add(-evidenceWindow), now)
		switch {
		case models.ErrorCode(err) == models.ENOTFOUND && in.InGroup():
			return nil // an image @-mentioning the bot, about nothing it knows
		case models.ErrorCode(err) == models.ENOTFOUND:
			text = fmt.Sprintf("如需作为整改证据，请先发送“反馈 Z12 整改情况”，再在%d分钟内发送照片。", int(evidenceWindow.Minutes()))
		case err != nil:
			return err
		default:
			text = fmt.Sprintf("已将照片附入整改事项 %s 的整改情况（附件%d个）。", item.Code(), len(item.EvidenceRefs))
		}
		reply := msg.Plain(msg.ReplyTo(in), text)
		reply.Priority, reply.DedupeKey = msg.Reply, dedupeKey(in, "0")
		if err := markHandled(ctx, tx, in, now); err != nil {
			return err
		}
		_, err = h.out.Enqueue(ctx, tx, reply)
		return err
	})
	if err != nil {
		return fmt.Errorf("handlers: attach evidence: %w", err)
	}
	return nil
}
