package tickets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Origin says where an import comes from, for its record (models.TicketImport)
// and its messages.
type Origin struct {
	Route models.ImportRoute
	// Actor is recorded on the ticket events: "import" (the CLI), "api",
	// "watch", "demo", or the userid of the member who sent the file.
	Actor string
	// Name is the file's name; "" for JSON.
	Name string
	// Key identifies a file of the watched folder (WatchKey), which is
	// imported once: a second import of the key is refused (ECONFLICT)
	// before anything is read. "" for the other routes.
	Key string
	// Tell, when set, is told the outcome (the summary line, the refused rows,
	// or why the file could not be imported), with the record.
	Tell *msg.Audience
	// Quiet records the import and tells nobody of the tickets it made
	// 重办 or 双否件: the demo seeds its history so.
	Quiet bool
}

// WatchKey identifies a file of the watched folder by its name, size and
// modification time: the same file found again has the same key, a file
// written anew (even under the same name) another.
func WatchKey(name string, size int64, mod time.Time) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", name, size, mod.UnixNano()))
	return hex.EncodeToString(sum[:])
}

// record runs an import: it records it as started, runs do, and records its
// outcome, with the messages it sends, in one transaction: the notice of the
// tickets it made 重办 or 双否件 to the supervision team and the 12345
// office, and the outcome to o.Tell. The outcome is recorded even when ctx
// was cancelled. It returns do's summary and error.
func (s *Service) record(ctx context.Context, o Origin, do func() (*Summary, error)) (*Summary, error) {
	rec := &models.TicketImport{Route: o.Route, Name: o.Name, StartedAt: s.Store.Now()}
	if o.Route == models.ImportChat {
		rec.By = o.Actor
	}
	if o.Key != "" {
		rec.Key = &o.Key
	}
	if err := s.Store.StartImport(ctx, rec); err != nil {
		return nil, err
	}
	sum, err := do()
	ctx = context.WithoutCancel(ctx)
	done := s.Store.Now()
	rec.FinishedAt = &done
	if sum != nil {
		rec.Created, rec.Updated, rec.Unchanged, rec.Failed = sum.Created, sum.Updated, sum.Unchanged, sum.Failed
	}
	if err != nil {
		rec.Error = failure(err)
	}
	if models.ErrorCode(err) == models.EINTERNAL {
		rec.Key = nil // interrupted, not refused: the watched file is tried again
	}
	ferr := s.Store.Tx(ctx, func(tx *models.Store) error {
		if err := tx.FinishImport(ctx, rec); err != nil {
			return err
		}
		msgs, err := s.messages(ctx, tx, rec, o, sum, err)
		if err != nil || len(msgs) == 0 || s.Outbox == nil {
			return err
		}
		_, err = s.Outbox.Enqueue(ctx, tx, msgs...)
		return err
	})
	if ferr != nil {
		return sum, errors.Join(err, fmt.Errorf("tickets: record import: %w", ferr))
	}
	return sum, err
}

// failure is an import's error as its record keeps it.
func failure(err error) string {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return "导入中断"
	case models.ErrorCode(err) == models.EINTERNAL:
		return "导入失败：系统错误"
	}
	return models.UserText(err)
}

// messages are what an import says when it ends: the outcome to o.Tell, and
// the tickets it made 重办 or 双否件 to the supervisors and the 12345 office.
func (s *Service) messages(ctx context.Context, tx *models.Store, rec *models.TicketImport, o Origin, sum *Summary, err error) ([]msg.Message, error) {
	var out []msg.Message
	key := fmt.Sprintf("ticket-import/%d", rec.ID)
	if o.Tell != nil && (err == nil || models.ErrorCode(err) != models.EINTERNAL) {
		m := msg.Message{To: *o.Tell, Title: "工单导入结果", Sections: []msg.Section{outcome(o.Name, sum, err)}, DedupeKey: key + "/outcome"}
		if o.Tell.ReplyTo != nil {
			m.Priority = msg.Reply
		}
		out = append(out, m)
	}
	if o.Quiet || sum == nil || sum.Reopened.Count+sum.DoubleNo.Count == 0 {
		return out, nil
	}
	dir, derr := tx.Directory(ctx)
	if derr != nil {
		return nil, derr
	}
	var ids []string
	for _, m := range append(dir.WithRole(models.RoleSupervisor), dir.WithRole(models.RoleHotline)...) {
		ids = append(ids, m.UserID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	return append(out, msg.Message{To: msg.ToMembers(ids...), Title: "新增重办、双否件",
		Sections: []msg.Section{flagged(dir, o, sum)}, DedupeKey: key + "/flags"}), nil
}

// outcome is the outcome of an import of the file name as its sender reads it:
// the summary line (新增 N，更新 M，未变 U，错误 E), the first refused rows with
// their numbers and reasons, the unit names not found; or, when the file
// could not be imported, why.
func outcome(name string, sum *Summary, err error) msg.Section {
	head := "【工单导入】"
	if name != "" {
		head += name
	}
	lines := []msg.Line{msg.L(msg.Strong(head))}
	if sum == nil {
		return msg.S(append(lines, msg.L(msg.Bad("未能导入："), msg.Text(failure(err))))...)
	}
	lines = append(lines, msg.L(msg.Text(sum.text("，"))))
	if err != nil {
		lines = append(lines, msg.L(msg.Bad(failure(err)), msg.Text(fmt.Sprintf("：已写入 %d 行，其余行未导入；再发送一次同一文件即可补齐。", sum.Landed()))))
	}
	for i, e := range sum.Errors {
		if i == reportErrors {
			lines = append(lines, msg.L(msg.Muted(fmt.Sprintf("……等%d行", sum.Failed))))
			break
		}
		lines = append(lines, msg.L(msg.Text(e.Error())))
	}
	for i, u := range sum.Unknown {
		if i == reportUnknown {
			break
		}
		lines = append(lines, msg.L(msg.Muted(u.String())))
	}
	return msg.S(lines...)
}

// How much of a summary outcome lists.
const (
	reportErrors  = 10
	reportUnknown = 3
)

// flagged lists the tickets an import made 重办 or 双否件, with their units.
func flagged(dir *models.Directory, o Origin, sum *Summary) msg.Section {
	from := o.Route.Chinese()
	if o.Name != "" {
		from = o.Name + "，" + from
	}
	lines := []msg.Line{
		msg.L(msg.Strong("【新增重办、双否件】")),
		msg.L(msg.Text("本次导入（"+from+"）新增重办 "), msg.Bad(fmt.Sprint(sum.Reopened.Count)),
			msg.Text(" 件、双否件 "), msg.Bad(fmt.Sprint(sum.DoubleNo.Count)), msg.Text(" 件：")),
	}
	for _, f := range []struct {
		why string
		set Flags
	}{{"重办", sum.Reopened}, {"双否", sum.DoubleNo}} {
		for _, t := range f.set.Tickets {
			unit := "未明确承办单位"
			if t.DepartmentID != nil {
				if d := dir.Department(*t.DepartmentID); d != nil {
					unit = d.Name
				}
			}
			lines = append(lines, msg.L(msg.Text("· "+f.why+" "+t.Number+" "+unit+" "+models.ClipRunes(models.OneLine(t.Title), 24))))
		}
		if n := f.set.Count - len(f.set.Tickets); n > 0 {
			lines = append(lines, msg.L(msg.Muted(fmt.Sprintf("……另有%s%d件", f.why, n))))
		}
	}
	return msg.S(lines...)
}

// Flags are tickets an import made notable: how many, and the first
// maxFlagged of them as written.
type Flags struct {
	Count   int
	Tickets []models.Ticket
}

// maxFlagged bounds the tickets a Flags keeps.
const maxFlagged = 30

func (f *Flags) add(t *models.Ticket) {
	f.Count++
	if len(f.Tickets) < maxFlagged {
		f.Tickets = append(f.Tickets, *t)
	}
}

// flag counts the writes that made a ticket 重办 (its reopen count went up)
// or 双否件 (models.Ticket.DoubleNo, not so before), a new ticket included.
func (sum *Summary) flag(writes []models.TicketWrite) {
	for _, w := range writes {
		oldCount, wasDoubleNo := 0, false
		if w.Old != nil {
			oldCount, wasDoubleNo = w.Old.ReopenCount, w.Old.DoubleNo()
		}
		if w.New.ReopenCount > oldCount {
			sum.Reopened.add(w.New)
		}
		if w.New.DoubleNo() && !wasDoubleNo {
			sum.DoubleNo.add(w.New)
		}
	}
}
