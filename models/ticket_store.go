package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// TicketsByNumber returns the stored tickets with the given numbers, keyed by
// number; numbers not stored are absent.
func (s *Store) TicketsByNumber(ctx context.Context, numbers []string) (map[string]*Ticket, error) {
	out := make(map[string]*Ticket, len(numbers))
	for chunk := range slices.Chunk(numbers, s.chunkRows(1)) {
		var rows []*Ticket
		if err := s.db.WithContext(ctx).Where("number IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("models: find tickets by number: %w", err)
		}
		for _, t := range rows {
			out[t.Number] = t
		}
	}
	return out, nil
}

// TicketWrite is one ticket to save: Old is the stored row as TicketsByNumber
// returned it (nil to create the ticket), New the state wanted.
type TicketWrite struct {
	Old, New *Ticket
}

// SaveResult counts what SaveTickets did.
type SaveResult struct {
	Created, Updated, Unchanged int
}

// SaveTickets writes a batch of tickets in one transaction: it creates those
// without Old, updates those whose New differs from Old in any stored field,
// and leaves the rest alone. Every created ticket gets an EventCreated, every
// update the events of its changes (status, deadline, department,
// satisfaction, reopen), all stamped now and by actor. On return New.ID is
// set. Associations (Department, GridDepartment) are not written: set the IDs.
// A ticket created meanwhile by someone else fails the batch with ECONFLICT;
// read again and retry. Called inside a transaction (Tx) it joins it, and a
// failure leaves that transaction fit only to be rolled back: on SQLite the
// bulk inserts are INSERT OR ROLLBACK.
func (s *Store) SaveTickets(ctx context.Context, writes []TicketWrite, actor string) (SaveResult, error) {
	var res SaveResult
	err := s.atomically(ctx, func(tx *Store) error {
		res = SaveResult{}
		restore, err := tx.bulkMode(ctx)
		if err != nil {
			return err
		}
		defer restore()
		now := tx.Now()
		var creates, updates []*Ticket
		var changed []TicketWrite
		for _, w := range writes {
			n := w.New
			switch {
			case w.Old == nil:
				n.ID, n.CreatedAt, n.UpdatedAt = 0, now, now
				creates = append(creates, n)
			case SameTicket(w.Old, n):
				n.ID, n.CreatedAt, n.UpdatedAt = w.Old.ID, w.Old.CreatedAt, w.Old.UpdatedAt
				res.Unchanged++
			default:
				n.ID, n.CreatedAt, n.UpdatedAt = w.Old.ID, w.Old.CreatedAt, now
				updates = append(updates, n)
				changed = append(changed, w)
			}
		}
		db := tx.db.WithContext(ctx).Omit(clause.Associations)
		if len(creates) > 0 {
			if err := tx.insertAll(ctx, creates); err != nil {
				return dbError(err, "工单编号重复，请重试")
			}
			if err := tx.readIDs(ctx, creates); err != nil {
				return err
			}
		}
		if len(updates) > 0 {
			// One multi-row upsert per chunk: ON CONFLICT (id) DO UPDATE on SQLite,
			// ON DUPLICATE KEY UPDATE on MySQL.
			upsert := clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns(ticketUpdateColumns(tx))}
			if err := db.Clauses(upsert).CreateInBatches(updates, tx.chunkRows(len(ticketUpdateColumns(tx))+3)).Error; err != nil {
				return fmt.Errorf("models: update tickets: %w", err)
			}
		}
		events, err := tx.ticketEvents(ctx, creates, changed, actor, now)
		if err != nil {
			return err
		}
		if err := tx.insertAll(ctx, events); err != nil {
			return fmt.Errorf("models: write ticket events: %w", err)
		}
		res.Created, res.Updated = len(creates), len(updates)
		return nil
	})
	return res, err
}

// readIDs sets the IDs of tickets just inserted, found by number.
func (s *Store) readIDs(ctx context.Context, tickets []*Ticket) error {
	byNumber := make(map[string]*Ticket, len(tickets))
	numbers := make([]string, len(tickets))
	for i, t := range tickets {
		byNumber[t.Number], numbers[i] = t, t.Number
	}
	for chunk := range slices.Chunk(numbers, s.chunkRows(1)) {
		var rows []struct {
			ID     uint
			Number string
		}
		if err := s.db.WithContext(ctx).Model(&Ticket{}).Select("id", "number").Where("number IN ?", chunk).Scan(&rows).Error; err != nil {
			return fmt.Errorf("models: read ticket ids: %w", err)
		}
		for _, r := range rows {
			byNumber[r.Number].ID = r.ID
		}
	}
	return nil
}

var (
	ticketColumnsOnce sync.Once
	ticketColumns     []string
)

// ticketUpdateColumns lists the stored columns of Ticket an update rewrites:
// all but the key, the number, the creation time and chatColumns.
func ticketUpdateColumns(s *Store) []string {
	ticketColumnsOnce.Do(func() {
		stmt := &gorm.Statement{DB: s.db}
		if err := stmt.Parse(&Ticket{}); err != nil {
			panic(fmt.Sprintf("models: parse Ticket: %v", err))
		}
		for _, name := range stmt.Schema.DBNames {
			if name != "id" && name != "number" && name != "created_at" && !slices.Contains(chatColumns, name) {
				ticketColumns = append(ticketColumns, name)
			}
		}
	})
	return ticketColumns
}

// SameTicket reports whether a and b agree in every stored field but the
// key and the creation and update times.
func SameTicket(a, b *Ticket) bool {
	return a.Number == b.Number && a.Source == b.Source && a.Category == b.Category &&
		a.Title == b.Title && a.Content == b.Content && a.Address == b.Address &&
		equalID(a.DepartmentID, b.DepartmentID) && equalID(a.GridDepartmentID, b.GridDepartmentID) &&
		a.ReceivedAt.Equal(b.ReceivedAt) && equalTime(a.Deadline, b.Deadline) &&
		a.DeadlineSource == b.DeadlineSource && equalTime(a.SignedAt, b.SignedAt) &&
		equalTime(a.ClaimedDoneAt, b.ClaimedDoneAt) && a.ClaimedBy == b.ClaimedBy && a.ClaimedResult == b.ClaimedResult &&
		equalTime(a.ResolvedAt, b.ResolvedAt) && a.Status == b.Status &&
		equalBool(a.Contacted, b.Contacted) && equalBool(a.Resolved, b.Resolved) &&
		a.Satisfaction == b.Satisfaction && equalTime(a.VisitedAt, b.VisitedAt) &&
		a.ReopenCount == b.ReopenCount && equalTime(a.ReopenedAt, b.ReopenedAt) &&
		a.Assessed == b.Assessed && a.Excluded == b.Excluded && equalTime(a.ExcludedAt, b.ExcludedAt) &&
		a.Priority == b.Priority && a.Difficult == b.Difficult
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func equalBool(a, b *bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ticketEvents builds the events of a saved batch: created tickets and changed ones.
func (s *Store) ticketEvents(ctx context.Context, creates []*Ticket, changed []TicketWrite, actor string, now time.Time) ([]TicketEvent, error) {
	var ids []uint
	for _, w := range changed {
		if !equalID(w.Old.DepartmentID, w.New.DepartmentID) {
			for _, id := range []*uint{w.Old.DepartmentID, w.New.DepartmentID} {
				if id != nil {
					ids = append(ids, *id)
				}
			}
		}
	}
	names, err := s.departmentNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	events := make([]TicketEvent, 0, len(creates)+2*len(changed))
	for _, t := range creates {
		events = append(events, TicketEvent{TicketID: t.ID, Change: EventCreated, To: string(t.Status), Actor: actor, At: now})
	}
	for _, w := range changed {
		events = append(events, changeEvents(w.Old, w.New, names, actor, now)...)
	}
	return events, nil
}

// changeEvents lists the events of one update.
func changeEvents(old, n *Ticket, names map[uint]string, actor string, at time.Time) []TicketEvent {
	var out []TicketEvent
	add := func(change TicketChange, from, to, reason string) {
		out = append(out, TicketEvent{TicketID: n.ID, Change: change, From: from, To: to, Reason: reason, Actor: actor, At: at})
	}
	if old.Status != n.Status {
		add(EventStatus, string(old.Status), string(n.Status), "")
	}
	if !equalTime(old.Deadline, n.Deadline) {
		add(EventDeadline, eventTime(old.Deadline, at.Location()), eventTime(n.Deadline, at.Location()), deadlineReason(n.DeadlineSource))
	}
	if !equalID(old.DepartmentID, n.DepartmentID) {
		add(EventDepartment, idName(old.DepartmentID, names), idName(n.DepartmentID, names), "")
	}
	if old.Satisfaction != n.Satisfaction {
		add(EventSatisfaction, string(old.Satisfaction), string(n.Satisfaction), "")
	}
	if n.ReopenCount > old.ReopenCount {
		add(EventReopen, strconv.Itoa(old.ReopenCount), strconv.Itoa(n.ReopenCount), "")
	}
	if c := ClaimSettled(old, n); c != "" {
		add(c, "", string(n.Status), "")
	}
	return out
}

func deadlineReason(source DeadlineSource) string {
	switch source {
	case DeadlinePlatform:
		return "平台办理时限"
	case DeadlineRule:
		return "按类别时限计算"
	}
	return ""
}

func eventTime(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format(EventTimeLayout)
}

func idName(id *uint, names map[uint]string) string {
	if id == nil {
		return ""
	}
	return names[*id]
}

// departmentNames maps department IDs to names.
func (s *Store) departmentNames(ctx context.Context, ids []uint) (map[uint]string, error) {
	out := map[uint]string{}
	if len(ids) == 0 {
		return out, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, s.chunkRows(1)) {
		var rows []Department
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("models: department names: %w", err)
		}
		for _, d := range rows {
			out[d.ID] = d.Name
		}
	}
	return out, nil
}

// findTicket reads the ticket with number into t through db (which may
// preload associations); an unknown number is ENOTFOUND 未找到工单.
func findTicket(db *gorm.DB, number string, t *Ticket) error {
	err := db.Where("number = ?", number).Take(t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Errorf(ENOTFOUND, "未找到工单 %s", number)
	}
	if err != nil {
		return fmt.Errorf("models: find ticket %s: %w", number, err)
	}
	return nil
}

// TicketByNumber returns the ticket with its departments loaded and its
// events in order, or ENOTFOUND.
func (s *Store) TicketByNumber(ctx context.Context, number string) (*Ticket, []TicketEvent, error) {
	var t Ticket
	if err := findTicket(s.db.WithContext(ctx).Preload("Department").Preload("GridDepartment").Preload("RaisedTo"), number, &t); err != nil {
		return nil, nil, err
	}
	var events []TicketEvent
	if err := s.db.WithContext(ctx).Where("ticket_id = ?", t.ID).Order("at, id").Find(&events).Error; err != nil {
		return nil, nil, fmt.Errorf("models: events of ticket %s: %w", number, err)
	}
	return &t, events, nil
}

// ExtendTicket moves an open ticket's deadline later (延期) to `to`, marks the
// deadline as an extension, which a later import cannot pull earlier, and
// records an EventExtension with the reason and the actor. It refuses, with
// EINVALID and a message for the user, a missing reason, a closed ticket and a
// deadline not later than the current one (extensionRefusal); an unknown
// number is ENOTFOUND.
func (s *Store) ExtendTicket(ctx context.Context, number string, to time.Time, reason, actor string) (*Ticket, error) {
	if reason == "" {
		return nil, Errorf(EINVALID, "请说明延期理由")
	}
	var out Ticket
	err := s.Tx(ctx, func(tx *Store) error {
		if err := findTicket(tx.db.WithContext(ctx), number, &out); err != nil {
			return err
		}
		return tx.extend(ctx, &out, to, reason, actor, tx.Now())
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// extensionRefusal says why t's deadline cannot move to `to`, or nil: a closed
// ticket cannot be extended, and the new deadline must be later than the
// current one.
func (s *Store) extensionRefusal(t *Ticket, to time.Time) error {
	if !t.Open() {
		return Errorf(EINVALID, "工单 %s %s，不能延期", t.Number, t.Status)
	}
	if t.Deadline != nil && !to.After(*t.Deadline) {
		return Errorf(EINVALID, "延期后的期限须晚于原期限 %s", eventTime(t.Deadline, s.loc))
	}
	return nil
}

// extend moves t's deadline to `to` at `at` (see ExtendTicket) and updates t.
func (s *Store) extend(ctx context.Context, t *Ticket, to time.Time, reason, actor string, at time.Time) error {
	if err := s.extensionRefusal(t, to); err != nil {
		return err
	}
	ev := TicketEvent{TicketID: t.ID, Change: EventExtension, From: eventTime(t.Deadline, s.loc),
		To: eventTime(&to, s.loc), Reason: reason, Actor: actor, At: at}
	to = to.In(s.loc)
	res := s.db.WithContext(ctx).Model(&Ticket{}).Where("id = ? AND status = ?", t.ID, t.Status).
		Updates(map[string]any{"deadline": to, "deadline_source": DeadlineExtension, "updated_at": at})
	if res.Error != nil {
		return fmt.Errorf("models: extend ticket %s: %w", t.Number, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ECONFLICT, "")
	}
	t.Deadline, t.DeadlineSource, t.UpdatedAt = &to, DeadlineExtension, at
	return s.addTicketEvent(ctx, ev)
}
