package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// sqliteParams is about how many parameters one SQLite statement binds. The
// embedded driver matches parameters to arguments in time quadratic in their
// number, which makes much larger statements slower per row, not faster;
// 999 is also SQLite's historic bound.
const sqliteParams = 999

// mysqlRows is how many rows (or IN values) one MySQL statement carries.
const mysqlRows = 500

// chunkRows is how many rows of the given number of columns one multi-row
// statement carries on this store's database.
func (s *Store) chunkRows(columns int) int {
	if s.driver == DriverSQLite {
		return max(1, sqliteParams/columns)
	}
	return mysqlRows
}

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

// SQLite keeps a statement journal, a copy of every page a statement touches,
// for any statement that might fail halfway and have to undo itself alone. On
// a table with many indexes that costs more than the insert itself. Inside a
// transaction that a failure rolls back whole anyway, two things make it
// unnecessary: INSERT OR ROLLBACK for constraints (insertAll), and foreign
// keys checked at commit instead of per statement (bulkMode).

// bulkCacheKiB is the page cache (in KiB, as PRAGMA cache_size takes it
// when negative) of a SQLite connection while it writes a batch: a batch
// touches pages of every index of its table, and a smaller cache spills them
// to the WAL and reads them back before the commit.
const bulkCacheKiB = 32 << 10

// bulkMode prepares the SQLite connection of the current transaction for a
// batch of writes: foreign keys are checked at commit instead of per statement
// (SQLite resets that when the transaction ends), and the page cache grows to
// bulkCacheKiB until the returned restore is called. Other drivers need
// nothing; restore is then a no-op.
func (s *Store) bulkMode(ctx context.Context) (restore func(), err error) {
	if s.driver != DriverSQLite {
		return func() {}, nil
	}
	db := s.db.WithContext(ctx)
	var old int
	if err := db.Raw("PRAGMA cache_size").Scan(&old).Error; err != nil {
		return nil, fmt.Errorf("models: read cache size: %w", err)
	}
	if err := db.Exec("PRAGMA defer_foreign_keys = ON").Error; err != nil {
		return nil, fmt.Errorf("models: defer foreign keys: %w", err)
	}
	if err := db.Exec(fmt.Sprintf("PRAGMA cache_size = %d", -bulkCacheKiB)).Error; err != nil {
		return nil, fmt.Errorf("models: grow cache: %w", err)
	}
	return func() {
		_ = s.db.WithContext(context.WithoutCancel(ctx)).Exec(fmt.Sprintf("PRAGMA cache_size = %d", old)).Error
	}, nil
}

// insertAll inserts rows, a slice of pointers to one model, leaving the
// primary keys to the database (it does not read them back). It must run
// inside a transaction. Rows go in multi-row INSERTs sized for the database
// (chunkRows), and one prepared statement serves every full chunk: SQLite
// takes as long to parse such a statement as to run it.
func (s *Store) insertAll(ctx context.Context, rows any) error {
	v := reflect.ValueOf(rows)
	if v.Len() == 0 {
		return nil
	}
	stmt := &gorm.Statement{DB: s.db}
	if err := stmt.Parse(v.Index(0).Interface()); err != nil {
		return fmt.Errorf("models: insert: %w", err)
	}
	var fields []*schema.Field
	var names []string
	for _, f := range stmt.Schema.Fields {
		if f.DBName != "" && !f.PrimaryKey {
			fields, names = append(fields, f), append(names, stmt.Quote(f.DBName))
		}
	}
	head := "INSERT INTO "
	if s.driver == DriverSQLite {
		head = "INSERT OR ROLLBACK INTO "
	}
	head += stmt.Quote(stmt.Schema.Table) + " (" + strings.Join(names, ",") + ") VALUES "
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(fields)), ",") + ")"
	query := func(n int) string { return head + strings.TrimSuffix(strings.Repeat(tuple+",", n), ",") }

	pool := s.db.Statement.ConnPool
	per := s.chunkRows(len(fields))
	args := make([]any, 0, per*len(fields))
	var prepared *sql.Stmt
	defer func() {
		if prepared != nil {
			_ = prepared.Close()
		}
	}()
	for i := 0; i < v.Len(); i += per {
		n := min(per, v.Len()-i)
		args = args[:0]
		for j := i; j < i+n; j++ {
			row := reflect.Indirect(v.Index(j))
			for _, f := range fields {
				val, _ := f.ValueOf(ctx, row)
				args = append(args, val)
			}
		}
		var err error
		switch {
		case n < per:
			_, err = pool.ExecContext(ctx, query(n), args...)
		case prepared == nil:
			if prepared, err = pool.PrepareContext(ctx, query(per)); err == nil {
				_, err = prepared.ExecContext(ctx, args...)
			}
		default:
			_, err = prepared.ExecContext(ctx, args...)
		}
		if err != nil {
			if tr, ok := s.db.Dialector.(gorm.ErrorTranslator); ok {
				err = tr.Translate(err)
			}
			return fmt.Errorf("insert into %s: %w", stmt.Schema.Table, err)
		}
	}
	return nil
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

// atomically runs fn in a transaction: the one s is bound to, or a new one.
// Unlike Tx it adds no savepoint inside a transaction: on SQLite every page
// a savepoint touches is journalled once more.
func (s *Store) atomically(ctx context.Context, fn func(tx *Store) error) error {
	if _, inTx := s.db.Statement.ConnPool.(gorm.TxCommitter); inTx {
		return fn(s)
	}
	return s.Tx(ctx, fn)
}

var (
	ticketColumnsOnce sync.Once
	ticketColumns     []string
)

// ticketUpdateColumns lists the stored columns of Ticket an update rewrites:
// all but the key, the number and the creation time.
func ticketUpdateColumns(s *Store) []string {
	ticketColumnsOnce.Do(func() {
		stmt := &gorm.Statement{DB: s.db}
		if err := stmt.Parse(&Ticket{}); err != nil {
			panic(fmt.Sprintf("models: parse Ticket: %v", err))
		}
		for _, name := range stmt.Schema.DBNames {
			if name != "id" && name != "number" && name != "created_at" {
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
		equalTime(a.ResolvedAt, b.ResolvedAt) && a.Status == b.Status &&
		equalBool(a.Contacted, b.Contacted) && equalBool(a.Resolved, b.Resolved) &&
		a.Satisfaction == b.Satisfaction && equalTime(a.VisitedAt, b.VisitedAt) &&
		a.ReopenCount == b.ReopenCount && equalTime(a.ReopenedAt, b.ReopenedAt) &&
		a.Assessed == b.Assessed && a.Excluded == b.Excluded &&
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
	if err := findTicket(s.db.WithContext(ctx).Preload("Department").Preload("GridDepartment"), number, &t); err != nil {
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
// deadline not later than the current one; an unknown number is ENOTFOUND.
func (s *Store) ExtendTicket(ctx context.Context, number string, to time.Time, reason, actor string) (*Ticket, error) {
	if reason == "" {
		return nil, Errorf(EINVALID, "请说明延期理由")
	}
	var out Ticket
	err := s.Tx(ctx, func(tx *Store) error {
		if err := findTicket(tx.db.WithContext(ctx), number, &out); err != nil {
			return err
		}
		if !out.Open() {
			return Errorf(EINVALID, "工单 %s %s，不能延期", number, out.Status)
		}
		if out.Deadline != nil && !to.After(*out.Deadline) {
			return Errorf(EINVALID, "延期后的期限须晚于原期限 %s", eventTime(out.Deadline, tx.loc))
		}
		now := tx.Now()
		ev := TicketEvent{TicketID: out.ID, Change: EventExtension, From: eventTime(out.Deadline, tx.loc),
			To: eventTime(&to, tx.loc), Reason: reason, Actor: actor, At: now}
		to := to.In(tx.loc)
		out.Deadline, out.DeadlineSource, out.UpdatedAt = &to, DeadlineExtension, now
		if err := tx.db.WithContext(ctx).Model(&Ticket{ID: out.ID}).
			Select("deadline", "deadline_source", "updated_at").Updates(&out).Error; err != nil {
			return fmt.Errorf("models: extend ticket %s: %w", number, err)
		}
		return tx.addTicketEvent(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// TicketSet names a set of tickets the reports and alerts use.
type TicketSet string

// The named sets. "Open" means 待签收 or 办理中 (OpenTicketStatuses). Each set says
// which time places a ticket in a TicketQuery's Period.
const (
	// SetOverdue: open and Overdue at Now. Period bounds the deadline.
	SetOverdue TicketSet = "overdue"
	// SetDueSoon: open, deadline from Now to Now+Within. Period is not used.
	SetDueSoon TicketSet = "due_soon"
	// SetUnsatisfied: answered 不满意 at the return visit, not excluded (剔除).
	// Period bounds the visit (VisitedAt).
	SetUnsatisfied TicketSet = "unsatisfied"
	// SetDoubleNo is 双否件: not resolved (是否解决 = 否) and 不满意, not
	// excluded. Period bounds the visit (VisitedAt).
	SetDoubleNo TicketSet = "double_no"
	// SetReopened: reopened at least once (重办). Period bounds the last reopening (ReopenedAt).
	SetReopened TicketSet = "reopened"
)

// TicketQuery selects one named set, optionally of one period and one department.
type TicketQuery struct {
	Set TicketSet
	// Period bounds the set's time (see TicketSet); the zero Period is no bound.
	Period Period
	// Now is the time overdue and due-soon are judged at; required for them.
	Now time.Time
	// Within is the due-soon window (config rules.warn_within).
	Within time.Duration
	// DepartmentID limits the set to one department; 0 means district-wide.
	DepartmentID uint
	// Limit caps ListTickets; 0 means no cap.
	Limit int
}

// scope returns the query of q's set, and the order its list is read in.
func (s *Store) scope(ctx context.Context, q TicketQuery) (*gorm.DB, string, error) {
	db := s.db.WithContext(ctx).Model(&Ticket{})
	bound := func(col string) {
		if !q.Period.IsZero() {
			db = db.Where(col+" >= ? AND "+col+" < ?", q.Period.Start, q.Period.End)
		}
	}
	var order string
	switch q.Set {
	case SetOverdue, SetDueSoon:
		if q.Now.IsZero() {
			return nil, "", fmt.Errorf("models: ticket set %s needs Now", q.Set)
		}
		db = db.Where("status IN ?", OpenTicketStatuses)
		if q.Set == SetOverdue {
			db = db.Where(overdueSQL, q.Now)
			bound("deadline")
		} else {
			db = db.Where("deadline >= ? AND deadline < ?", q.Now, q.Now.Add(q.Within))
		}
		order = "deadline, id"
	case SetUnsatisfied, SetDoubleNo:
		db = db.Where("satisfaction = ? AND excluded = ?", Unsatisfied, false)
		if q.Set == SetDoubleNo {
			db = db.Where("resolved = ?", false)
		}
		bound("visited_at")
		order = "visited_at, id"
	case SetReopened:
		db = db.Where("reopen_count > 0")
		bound("reopened_at")
		order = "reopened_at, id"
	default:
		return nil, "", fmt.Errorf("models: unknown ticket set %q", q.Set)
	}
	if q.DepartmentID != 0 {
		db = db.Where("department_id = ?", q.DepartmentID)
	}
	return db, order, nil
}

// Counts are numbers of tickets per department ID; key 0 counts the tickets
// without a department.
type Counts map[uint]int

// Total is the district-wide count.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// CountTickets counts q's set per department in one grouped query.
// Departments with none are absent.
func (s *Store) CountTickets(ctx context.Context, q TicketQuery) (Counts, error) {
	db, _, err := s.scope(ctx, q)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		DepartmentID *uint
		N            int
	}
	if err := db.Select("department_id, COUNT(*) AS n").Group("department_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: count %s tickets: %w", q.Set, err)
	}
	out := make(Counts, len(rows))
	for _, r := range rows {
		out[idKey(r.DepartmentID)] += r.N
	}
	return out, nil
}

// ListTickets lists q's set with departments loaded: overdue and due-soon by
// deadline (the most urgent first), the others by the time that placed them
// in the set, oldest first.
func (s *Store) ListTickets(ctx context.Context, q TicketQuery) ([]Ticket, error) {
	db, order, err := s.scope(ctx, q)
	if err != nil {
		return nil, err
	}
	if q.Limit > 0 {
		db = db.Limit(q.Limit)
	}
	var out []Ticket
	if err := db.Preload("Department").Preload("GridDepartment").Order(order).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list %s tickets: %w", q.Set, err)
	}
	return out, nil
}

func idKey(id *uint) uint {
	if id == nil {
		return 0
	}
	return *id
}

// DepartmentScore is one line of a ScoreBoard.
type DepartmentScore struct {
	// Department is the department; the zero value on the district line.
	Department Department
	Counts     ScoreCounts
	Rates      Rates
	// Rank is 1 for the best 综合评分; equal scores share a rank; 0 when Empty.
	Rank int
}

// ScoreBoard is 三率 and the 综合评分 of every department for one period.
type ScoreBoard struct {
	Period Period
	// Departments holds every department, best score first; those without a
	// valid ticket (Rates.Empty, shown "—") last, in the configured order.
	Departments []DepartmentScore
	// District sums every assessed ticket, including those without a department.
	District DepartmentScore
}

// ByKind splits the ranked departments (those with a score) by kind: 部门,
// then 镇街, 社区, then other kinds as they appear; best first, ranked within
// their kind, equal scores sharing a rank. Departments and streets are
// assessed against their own kind.
func (board *ScoreBoard) ByKind() [][]DepartmentScore {
	order := []Tier{TierDepartment, TierStreet, TierCommunity}
	lists := map[Tier][]DepartmentScore{}
	for _, s := range board.Departments {
		if s.Rates.Empty() {
			continue
		}
		k := s.Department.Tier
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
		lists[k] = append(lists[k], s)
	}
	var out [][]DepartmentScore
	for _, k := range order {
		if len(lists[k]) > 0 {
			rank(lists[k])
			out = append(out, lists[k])
		}
	}
	return out
}

// rank numbers a list sorted best first: 1 for the first, equal scores
// sharing a rank, 0 for those without a score (Rates.Empty).
func rank(list []DepartmentScore) {
	for i := range list {
		d := &list[i]
		switch {
		case d.Rates.Empty():
			d.Rank = 0
		case i > 0 && d.Rates.Score == list[i-1].Rates.Score:
			d.Rank = list[i-1].Rank
		default:
			d.Rank = i + 1
		}
	}
}

// ScoreBoard computes 三率 and the 综合评分 of every department for period p
// with one grouped query. A ticket counts when it is assessed (有效回访), not
// excluded (剔除), and its return visit (VisitedAt) falls in p.
func (s *Store) ScoreBoard(ctx context.Context, p Period, w Weights) (*ScoreBoard, error) {
	counts, err := s.ScoreCounts(ctx, p)
	if err != nil {
		return nil, err
	}
	depts, err := s.Departments(ctx)
	if err != nil {
		return nil, err
	}
	b := &ScoreBoard{Period: p}
	for _, c := range counts {
		b.District.Counts = b.District.Counts.Add(c)
	}
	b.District.Rates = b.District.Counts.Rates(w)
	for _, d := range depts {
		c := counts[d.ID]
		b.Departments = append(b.Departments, DepartmentScore{Department: d, Counts: c, Rates: c.Rates(w)})
	}
	// depts come in the configured order; a stable sort keeps it among equals.
	sort.SliceStable(b.Departments, func(i, j int) bool {
		a, c := b.Departments[i].Rates, b.Departments[j].Rates
		if a.Empty() != c.Empty() {
			return !a.Empty()
		}
		return a.Score > c.Score
	})
	rank(b.Departments)
	return b, nil
}

// Long periods on MySQL are aggregated in parts side by side, for one GROUP BY
// runs on one core: parts of scorePart, at most scoreParallel at a time.
const (
	scoreSplit    = 62 * 24 * time.Hour
	scorePart     = 31 * 24 * time.Hour
	scoreParallel = 4
)

// ScoreCounts returns the counts behind 三率 per department ID for period p
// (key 0: tickets without a department), from a GROUP BY over the assessed,
// not excluded tickets visited in p. On MySQL, outside a transaction, a period
// longer than two months is cut into month-long parts run side by side and
// summed; the counts are the same.
func (s *Store) ScoreCounts(ctx context.Context, p Period) (map[uint]ScoreCounts, error) {
	parts := []Period{p}
	_, inTx := s.db.Statement.ConnPool.(gorm.TxCommitter)
	if s.driver == DriverMySQL && !inTx && !p.Start.IsZero() && !p.End.IsZero() && p.End.Sub(p.Start) > scoreSplit {
		parts = nil
		for start := p.Start; start.Before(p.End); start = start.Add(scorePart) {
			parts = append(parts, Period{Kind: p.Kind, Start: start, End: minTime(start.Add(scorePart), p.End)})
		}
	}
	results := make([]map[uint]ScoreCounts, len(parts))
	errs := make([]error, len(parts))
	sem := make(chan struct{}, scoreParallel)
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = s.scoreCounts(ctx, part)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := results[0]
	for _, r := range results[1:] {
		for k, c := range r {
			out[k] = out[k].Add(c)
		}
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// scoreCounts is ScoreCounts of one part, in one GROUP BY.
func (s *Store) scoreCounts(ctx context.Context, p Period) (map[uint]ScoreCounts, error) {
	var rows []struct {
		DepartmentID *uint
		ScoreCounts
	}
	sql := `SELECT department_id, COUNT(*) AS valid,
	SUM(CASE WHEN contacted = ? THEN 1 ELSE 0 END) AS contacted,
	SUM(CASE WHEN resolved = ? THEN 1 ELSE 0 END) AS resolved,
	SUM(CASE WHEN satisfaction = ? THEN 1 ELSE 0 END) AS satisfied,
	SUM(CASE WHEN satisfaction = ? THEN 1 ELSE 0 END) AS basic_satisfied
FROM ` + s.Table(&Ticket{}) + `
WHERE assessed = ? AND excluded = ? AND visited_at >= ? AND visited_at < ?
GROUP BY department_id`
	err := s.db.WithContext(ctx).Raw(sql, true, true, Satisfied, BasicSatisfied, true, false, p.Start, p.End).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: score counts: %w", err)
	}
	out := make(map[uint]ScoreCounts, len(rows))
	for _, r := range rows {
		k := idKey(r.DepartmentID)
		out[k] = out[k].Add(r.ScoreCounts)
	}
	return out, nil
}

// LedgerRow holds one department's ticket figures for a report.
type LedgerRow struct {
	Received    int // received (受理) in the period
	Resolved    int // resolved (办结, status 已办结) in the period
	InProgress  int // open now: 待签收 or 办理中
	Overdue     int // open now with the deadline passed
	DueSoon     int // open now with the deadline within the window
	Reopened    int // reopened (重办) in the period
	Unsatisfied int // answered 不满意 at a return visit in the period, not excluded
}

func (r LedgerRow) add(o LedgerRow) LedgerRow {
	return LedgerRow{
		Received: r.Received + o.Received, Resolved: r.Resolved + o.Resolved, InProgress: r.InProgress + o.InProgress,
		Overdue: r.Overdue + o.Overdue, DueSoon: r.DueSoon + o.DueSoon, Reopened: r.Reopened + o.Reopened,
		Unsatisfied: r.Unsatisfied + o.Unsatisfied,
	}
}

// Ledger maps department IDs to their figures; key 0 holds the tickets without
// a department. Departments with no figure at all are absent.
type Ledger map[uint]LedgerRow

// Total sums the figures of the whole district.
func (l Ledger) Total() LedgerRow {
	var t LedgerRow
	for _, r := range l {
		t = t.add(r)
	}
	return t
}

// Ledger returns the ticket figures of every department for the 18:00 report
// (p is the day; a week or month works the same): received, resolved, reopened
// and unsatisfied in p, and in progress, overdue and due within dueWithin as of
// now. It is one query: a UNION ALL of index-friendly parts, grouped by department.
func (s *Store) Ledger(ctx context.Context, p Period, now time.Time, dueWithin time.Duration) (Ledger, error) {
	t := s.Table(&Ticket{})
	sql := `SELECT department_id, SUM(n_received) AS received, SUM(n_resolved) AS resolved,
	SUM(n_open) AS in_progress, SUM(n_overdue) AS overdue, SUM(n_due) AS due_soon,
	SUM(n_reopened) AS reopened, SUM(n_unsatisfied) AS unsatisfied
FROM (
	SELECT department_id, 1 AS n_received, 0 AS n_resolved, 0 AS n_open, 0 AS n_overdue, 0 AS n_due, 0 AS n_reopened, 0 AS n_unsatisfied
	FROM ` + t + ` WHERE received_at >= ? AND received_at < ?
	UNION ALL
	SELECT department_id, 0, 1, 0, 0, 0, 0, 0
	FROM ` + t + ` WHERE resolved_at >= ? AND resolved_at < ? AND status = ?
	UNION ALL
	SELECT department_id, 0, 0, 1,
		CASE WHEN ` + overdueSQL + ` THEN 1 ELSE 0 END,
		CASE WHEN deadline >= ? AND deadline < ? THEN 1 ELSE 0 END, 0, 0
	FROM ` + t + ` WHERE status IN ?
	UNION ALL
	SELECT department_id, 0, 0, 0, 0, 0, 1, 0
	FROM ` + t + ` WHERE reopened_at >= ? AND reopened_at < ?
	UNION ALL
	SELECT department_id, 0, 0, 0, 0, 0, 0, 1
	FROM ` + t + ` WHERE visited_at >= ? AND visited_at < ? AND satisfaction = ? AND excluded = ?
) parts
GROUP BY department_id`
	var rows []struct {
		DepartmentID *uint
		LedgerRow
	}
	err := s.db.WithContext(ctx).Raw(sql,
		p.Start, p.End,
		p.Start, p.End, TicketResolved,
		now, now, now.Add(dueWithin), OpenTicketStatuses,
		p.Start, p.End,
		p.Start, p.End, Unsatisfied, false,
	).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: ticket ledger: %w", err)
	}
	out := make(Ledger, len(rows))
	for _, r := range rows {
		k := idKey(r.DepartmentID)
		out[k] = out[k].add(r.LedgerRow)
	}
	return out, nil
}
