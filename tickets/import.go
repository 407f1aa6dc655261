// Package tickets keeps the ticket ledger: it imports the xlsx and csv exports
// of 12345 hotline platforms and the JSON they push, normalises their words
// (statuses, sources, satisfaction), matches departments by name or alias,
// applies the time-limit rules on the working-day calendar, and upserts by
// ticket number with an event for every change. It also writes realistic
// synthetic exports (Generate) for benchmarks and the demo.
package tickets

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/sheet"
)

// Defaults of a Service.
const (
	DefaultBatchSize = 5000
	DefaultMaxErrors = 1000
)

// conflictRetries is how often a batch is retried when another import created
// one of its tickets meanwhile.
const conflictRetries = 3

// Service imports tickets into the store and moves their deadlines.
type Service struct {
	Store    *models.Store
	Calendar *calendar.Calendar
	// Rules give the time limits per category and the off-work time a
	// deadline written as a date alone means.
	Rules config.Rules
	// BatchSize is the number of rows written per transaction; DefaultBatchSize when 0.
	BatchSize int
	// MaxErrors is how many row errors a Summary keeps (all are counted);
	// DefaultMaxErrors when 0.
	MaxErrors int
}

// LoadCalendar returns the working-day calendar in the store's zone with the
// admins' overrides (HolidayOverride) applied.
func LoadCalendar(ctx context.Context, s *models.Store) (*calendar.Calendar, error) {
	overrides, err := calendarOverrides(ctx, s)
	if err != nil {
		return nil, err
	}
	return calendar.New(s.Location(), overrides), nil
}

// ReloadCalendar applies the store's current overrides to cal, so that a
// running service follows `yanzhen holiday add` made elsewhere; call it now
// and then (before each overdue scan, say).
func ReloadCalendar(ctx context.Context, s *models.Store, cal *calendar.Calendar) error {
	overrides, err := calendarOverrides(ctx, s)
	if err != nil {
		return err
	}
	if err := cal.SetOverrides(overrides); err != nil {
		return fmt.Errorf("tickets: reload calendar: %w", err)
	}
	return nil
}

func calendarOverrides(ctx context.Context, s *models.Store) ([]calendar.Override, error) {
	rows, err := s.HolidayOverrides(ctx, 0)
	if err != nil {
		return nil, err
	}
	overrides := make([]calendar.Override, len(rows))
	for i, o := range rows {
		overrides[i] = calendar.Override{Date: o.Date, Work: o.Work, Name: o.Name}
	}
	return overrides, nil
}

// Summary is the outcome of an import.
type Summary struct {
	Created, Updated, Unchanged int
	// Failed counts the refused rows; Errors holds the first of them.
	Failed int
	Errors []*sheet.Error
}

// String is the summary line users see: 新增 N, 更新 M, 未变 U, 错误 E.
func (s *Summary) String() string {
	return fmt.Sprintf("新增 %d, 更新 %d, 未变 %d, 错误 %d", s.Created, s.Updated, s.Unchanged, s.Failed)
}

func (s *Summary) refuse(e *sheet.Error, keep int) {
	s.Failed++
	if len(s.Errors) < keep {
		s.Errors = append(s.Errors, e)
	}
}

// record is one row to import: a sheet.Row, or one object of a JSON array.
type record interface {
	Get(field string) string
	Column(field string) string
}

// ImportFile imports an xlsx or csv export; name (the file name) and the
// content tell the format. Columns missing from the file, and empty cells,
// leave the stored values as they are. A row is refused, with its row
// number, column and reason, for a missing number, an unknown department or
// grid (by name or alias), an unreadable date, status, answer or count, or a
// new ticket without a receipt time; the good rows land all the same. A file
// that cannot be read at all (no 工单编号 column, not a workbook) is an
// EINVALID error with the reason. actor is recorded on the events ("import",
// a userid). A number on several rows applies them in order.
func (s *Service) ImportFile(ctx context.Context, r io.Reader, name, actor string) (*Summary, error) {
	rd, err := sheet.Open(r, sheet.Options{Name: name, Columns: Columns, Required: []string{FieldNumber}})
	if err != nil {
		return nil, userError(err)
	}
	defer rd.Close()
	return s.run(ctx, actor, func() (int, record, error) {
		row, err := rd.Next()
		if err != nil {
			return 0, nil, userError(err)
		}
		return row.Num, row, nil
	})
}

// ImportJSON imports a JSON array of objects keyed by field name (number,
// received_at, …) or by any header name of Columns (工单编号, 受理时间, …).
// Values are strings, numbers, booleans or null; times are text in any form
// sheet.ParseTime reads, e.g. RFC 3339 or "2026-11-20 09:30:00". Row numbers
// in errors count the objects from 1; an item that is not an object is a
// refused row. The array is decoded as a stream: invalid JSON stops the import
// where it is (check it first to import all or nothing).
func (s *Service) ImportJSON(ctx context.Context, r io.Reader, actor string) (*Summary, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, models.Errorf(models.EINVALID, "请求体应为工单 JSON 数组")
	}
	n := 0
	return s.run(ctx, actor, func() (int, record, error) {
		if !dec.More() {
			return 0, nil, io.EOF
		}
		n++
		var item any
		if err := dec.Decode(&item); err != nil {
			return 0, nil, models.Errorf(models.EINVALID, "第 %d 条不是有效的 JSON", n)
		}
		obj, ok := item.(map[string]any)
		if !ok {
			return 0, nil, &sheet.Error{Row: n, Reason: "应为 JSON 对象"}
		}
		return n, newJSONRecord(obj), nil
	})
}

// userError turns a *sheet.Error into an EINVALID application error with its text.
func userError(err error) error {
	var se *sheet.Error
	if errors.As(err, &se) {
		return &models.Error{Code: models.EINVALID, Message: se.Error()}
	}
	return err
}

// jsonRecord is a JSON object as a record; Column names a field by the key the
// object used.
type jsonRecord struct {
	values map[string]string
	keys   map[string]string
}

func newJSONRecord(obj map[string]any) jsonRecord {
	rec := jsonRecord{values: map[string]string{}, keys: map[string]string{}}
	for k, v := range obj {
		field, ok := fieldOf[sheet.HeaderKey(k)]
		if !ok {
			continue
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = map[bool]string{true: "是", false: "否"}[v]
		case nil:
		default:
			b, _ := json.Marshal(v)
			s = string(b)
		}
		rec.values[field], rec.keys[field] = strings.TrimSpace(s), k
	}
	return rec
}

func (r jsonRecord) Get(field string) string { return r.values[field] }

func (r jsonRecord) Column(field string) string {
	if k, ok := r.keys[field]; ok {
		return k
	}
	return field
}

// run reads records with next until io.EOF and writes them in batches. Reading
// and parsing run in a goroutine of their own, one batch ahead of the writes.
func (s *Service) run(ctx context.Context, actor string, next func() (int, record, error)) (*Summary, error) {
	dir, err := s.Store.Directory(ctx)
	if err != nil {
		return nil, err
	}
	batchSize := cmpOr(s.BatchSize, DefaultBatchSize)
	keep := cmpOr(s.MaxErrors, DefaultMaxErrors)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	batches := make(chan []*input, 1)
	var read Summary // the reader's refusals; read once batches is closed
	var readErr error
	go func() {
		defer close(batches)
		batch := make([]*input, 0, batchSize)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]*input, 0, batchSize)
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			num, rec, err := next()
			if errors.Is(err, io.EOF) {
				break
			}
			var se *sheet.Error
			switch {
			case errors.As(err, &se) && se.Row > 0:
				read.refuse(se, keep)
				continue
			case err != nil:
				readErr = err
				return
			}
			in, rerr := s.parse(num, rec, dir)
			if rerr != nil {
				read.refuse(rerr, keep)
				continue
			}
			if batch = append(batch, in); len(batch) >= batchSize && !send() {
				return
			}
		}
		if len(batch) > 0 {
			send()
		}
	}()

	sum := &Summary{}
	var writeErr error
	for batch := range batches {
		if writeErr == nil {
			if writeErr = s.writeBatch(ctx, batch, actor, sum, keep); writeErr != nil {
				cancel() // stop the reader; the loop drains what it sent
			}
		}
	}
	sum.Failed += read.Failed
	sum.Errors = append(sum.Errors, read.Errors...)
	slices.SortStableFunc(sum.Errors, func(a, b *sheet.Error) int { return a.Row - b.Row })
	sum.Errors = sum.Errors[:min(len(sum.Errors), keep)]
	return sum, cmp.Or(writeErr, readErr)
}

// writeBatch merges a batch onto the stored tickets and saves it in one
// transaction, retrying when a concurrent import created one of its numbers.
// A number on several rows is saved once: each later row applies over the
// earlier ones and counts as updated or unchanged against them.
func (s *Service) writeBatch(ctx context.Context, batch []*input, actor string, sum *Summary, keep int) error {
	numbers := make([]string, len(batch))
	for i, in := range batch {
		numbers[i] = in.number
	}
	for attempt := 1; ; attempt++ {
		var res, repeats models.SaveResult
		var refused []*sheet.Error
		err := s.Store.Tx(ctx, func(tx *models.Store) error {
			old, err := tx.TicketsByNumber(ctx, numbers)
			if err != nil {
				return err
			}
			now := tx.Now()
			writes := make([]models.TicketWrite, 0, len(batch))
			at := map[string]int{} // number → its write
			for _, in := range batch {
				i, repeat := at[in.number]
				cur := old[in.number]
				if repeat {
					cur = writes[i].New
				}
				t, rerr := s.apply(cur, in, now)
				switch {
				case rerr != nil:
					refused = append(refused, rerr)
				case !repeat:
					at[in.number] = len(writes)
					writes = append(writes, models.TicketWrite{Old: cur, New: t})
				case models.SameTicket(cur, t):
					repeats.Unchanged++
				default:
					repeats.Updated++
					writes[i].New = t
				}
			}
			res, err = tx.SaveTickets(ctx, writes, actor)
			return err
		})
		if models.ErrorCode(err) == models.ECONFLICT && attempt < conflictRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("tickets: save rows %d–%d: %w", batch[0].num, batch[len(batch)-1].num, err)
		}
		sum.Created += res.Created
		sum.Updated += res.Updated + repeats.Updated
		sum.Unchanged += res.Unchanged + repeats.Unchanged
		for _, e := range refused {
			sum.refuse(e, keep)
		}
		return nil
	}
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// input is one row, parsed and normalised. Empty strings and nil pointers are
// values the row does not give: they leave the stored ones as they are.
type input struct {
	num                                               int
	number                                            string
	source                                            models.TicketSource
	status                                            models.TicketStatus
	category, title, content, address                 string
	satisfaction                                      models.Satisfaction
	departmentID, gridID                              *uint
	received                                          time.Time
	deadline                                          *time.Time
	limit                                             *calendar.Limit
	signed, resolvedAt, visited, reopened             *time.Time
	contacted, resolved, assessed, excluded, priority *bool
	difficult                                         *bool
	reopenCount                                       *int
	receivedColumn                                    string
}

// Column sizes in characters (the MySQL columns; SQLite has no limit).
const (
	maxNumber   = 64
	maxCategory = 32
	maxText     = 255
	maxContent  = 16000 // a MySQL TEXT holds 65,535 bytes
)

// parse reads one record into an input, or says what is wrong with it.
func (s *Service) parse(num int, rec record, dir *models.Directory) (*input, *sheet.Error) {
	loc := s.Store.Location()
	in := &input{num: num, receivedColumn: rec.Column(FieldReceivedAt)}
	fail := func(field, format string, args ...any) *sheet.Error {
		return &sheet.Error{Row: num, Column: rec.Column(field), Reason: fmt.Sprintf(format, args...)}
	}
	in.number = sheet.NumberText(rec.Get(FieldNumber))
	switch {
	case in.number == "":
		return nil, fail(FieldNumber, "不能为空")
	case utf8.RuneCountInString(in.number) > maxNumber:
		return nil, fail(FieldNumber, "超过 %d 个字符", maxNumber)
	}
	var err *sheet.Error
	at := func(field string) *time.Time {
		v := rec.Get(field)
		if v == "" || err != nil {
			return nil
		}
		t, perr := sheet.ParseTime(v, loc)
		if perr != nil || t.Year() < 2000 || t.Year() > 2200 {
			err = fail(field, "无法识别的日期 %q", v)
			return nil
		}
		return &t
	}
	yesNo := func(field string) *bool {
		v := rec.Get(field)
		b, perr := sheet.ParseBool(v)
		if perr != nil && err == nil {
			err = fail(field, "无法识别的是否值 %q", v)
		}
		return b
	}
	deptOf := func(field string) *uint {
		name := rec.Get(field)
		if name == "" || err != nil {
			return nil
		}
		switch found := dir.FindDepartments(name); len(found) {
		case 0:
			err = fail(field, "未知的部门 %q", name)
		case 1:
			return &found[0].ID
		default:
			err = fail(field, "部门名称 %q 对应多个部门", name)
		}
		return nil
	}

	if t := at(FieldReceivedAt); t != nil {
		in.received = *t
	}
	in.signed, in.resolvedAt = at(FieldSignedAt), at(FieldResolvedAt)
	in.visited, in.reopened = at(FieldVisitedAt), at(FieldReopenedAt)
	in.departmentID, in.gridID = deptOf(FieldDepartment), deptOf(FieldGrid)
	in.contacted, in.resolved = yesNo(FieldContacted), yesNo(FieldResolved)
	in.assessed, in.excluded = yesNo(FieldAssessed), yesNo(FieldExcluded)
	in.priority, in.difficult = yesNo(FieldPriority), yesNo(FieldDifficult)
	if err != nil {
		return nil, err
	}
	if v := rec.Get(FieldDeadline); v != "" {
		if t, perr := sheet.ParseTime(v, loc); perr == nil {
			if sheet.DateOnly(v) {
				t = s.Rules.OffWork.On(t)
			}
			in.deadline = &t
		} else if l, lerr := ParseLimit(v); lerr == nil {
			in.limit = &l
		} else {
			return nil, fail(FieldDeadline, "无法识别的日期或时限 %q", v)
		}
	}
	if v := rec.Get(FieldStatus); v != "" {
		st, ok := NormStatus(v)
		if !ok {
			return nil, fail(FieldStatus, "无法识别的状态 %q", v)
		}
		in.status = st
	}
	if v := rec.Get(FieldSatisfaction); v != "" {
		sat, ok := NormSatisfaction(v)
		if !ok {
			return nil, fail(FieldSatisfaction, "无法识别的评价 %q，应为满意、基本满意或不满意", v)
		}
		in.satisfaction = sat // "" for an answer that means none, like an empty cell
	}
	if v := rec.Get(FieldReopenCount); v != "" {
		n, perr := sheet.ParseInt(v)
		if perr != nil || n < 0 {
			return nil, fail(FieldReopenCount, "应为非负整数，而非 %q", v)
		}
		in.reopenCount = &n
	}
	in.source = NormSource(rec.Get(FieldSource))
	in.category = clip(NormCategory(rec.Get(FieldCategory)), maxCategory)
	in.title = clip(rec.Get(FieldTitle), maxText)
	in.address = clip(rec.Get(FieldAddress), maxText)
	in.content = clip(rec.Get(FieldContent), maxContent)
	return in, nil
}

// clip cuts s to n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// apply merges a row onto the stored ticket (nil for a new one) and applies
// the rules: the platform's deadline wins, else received + the category's
// limit on the calendar; an extension (延期) is never pulled earlier by an
// import; a visit or reopening without its own time is placed at the
// ticket's own time when first seen, else at now.
func (s *Service) apply(old *models.Ticket, in *input, now time.Time) (*models.Ticket, *sheet.Error) {
	var t models.Ticket
	if old != nil {
		t = *old
	} else {
		t.Number = in.number
	}
	if !in.received.IsZero() {
		t.ReceivedAt = in.received
	}
	if t.ReceivedAt.IsZero() {
		return nil, &sheet.Error{Row: in.num, Column: in.receivedColumn, Reason: "新工单须填写受理时间"}
	}
	setString(&t.Source, in.source)
	setString(&t.Category, in.category)
	setString(&t.Title, in.title)
	setString(&t.Content, in.content)
	setString(&t.Address, in.address)
	setPtr(&t.DepartmentID, in.departmentID)
	setPtr(&t.GridDepartmentID, in.gridID)
	setPtr(&t.SignedAt, in.signed)
	setPtr(&t.ResolvedAt, in.resolvedAt)
	setPtr(&t.Contacted, in.contacted)
	setPtr(&t.Resolved, in.resolved)
	setBool(&t.Excluded, in.excluded)
	setBool(&t.Priority, in.priority)
	setBool(&t.Difficult, in.difficult)

	switch {
	case in.status != "":
		t.Status = in.status
	case old == nil && t.ResolvedAt != nil:
		t.Status = models.TicketResolved
	case old == nil:
		t.Status = models.TicketPending
	}

	// The return visit: 有效回访 is given, or known from an answer.
	setString(&t.Satisfaction, in.satisfaction)
	if in.assessed != nil {
		t.Assessed = *in.assessed
	} else {
		t.Assessed = t.Satisfaction != ""
	}
	revisit := old != nil && old.Satisfaction != "" && t.Satisfaction != old.Satisfaction
	switch {
	case in.visited != nil:
		t.VisitedAt = in.visited
	case (t.Satisfaction != "" || t.Assessed) && (t.VisitedAt == nil || revisit):
		t.VisitedAt = s.firstSeen(old, &t, now)
	}

	oldCount := 0
	if old != nil {
		oldCount = old.ReopenCount
	}
	if in.reopenCount != nil {
		t.ReopenCount = *in.reopenCount
	}
	switch {
	case in.reopened != nil:
		t.ReopenedAt = in.reopened
	case t.ReopenCount > oldCount:
		t.ReopenedAt = s.firstSeen(old, &t, now)
	}

	s.applyDeadline(&t, in)
	return &t, nil
}

// firstSeen is when a change without a time of its own happened: for a ticket
// seen for the first time, its resolution (or receipt); later, the import's now.
func (s *Service) firstSeen(old, t *models.Ticket, now time.Time) *time.Time {
	switch {
	case old != nil:
		return &now
	case t.ResolvedAt != nil:
		at := *t.ResolvedAt
		return &at
	}
	at := t.ReceivedAt
	return &at
}

func (s *Service) applyDeadline(t *models.Ticket, in *input) {
	var platform *time.Time
	switch {
	case in.deadline != nil:
		platform = in.deadline
	case in.limit != nil:
		d := s.Calendar.Deadline(t.ReceivedAt, *in.limit)
		platform = &d
	}
	switch {
	case platform != nil:
		if t.DeadlineSource == models.DeadlineExtension && t.Deadline != nil && !platform.After(*t.Deadline) {
			return // an extension stands until the platform gives a later deadline
		}
		t.Deadline, t.DeadlineSource = platform, models.DeadlinePlatform
	case t.DeadlineSource == "" || t.DeadlineSource == models.DeadlineRule:
		d := s.RuleDeadline(t.ReceivedAt, t.Category)
		t.Deadline, t.DeadlineSource = &d, models.DeadlineRule
	}
}

// RuleDeadline is the deadline of a ticket of a category received at
// received: the category's limit (or the default) counted on the calendar.
func (s *Service) RuleDeadline(received time.Time, category string) time.Time {
	return s.Calendar.Deadline(received, SpanLimit(s.Rules.TimeLimit(category)))
}

// Extend moves an open ticket's deadline by the limit by (延期3个工作日),
// counted on the calendar from its current deadline (or from now when it has
// none), recording the reason and the actor. Errors are application errors
// with the user's message (see models.Store.ExtendTicket).
func (s *Service) Extend(ctx context.Context, number string, by calendar.Limit, reason, actor string) (*models.Ticket, error) {
	if by == (calendar.Limit{}) {
		return nil, models.Errorf(models.EINVALID, "延期时长不能为零")
	}
	t, _, err := s.Store.TicketByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	from := s.Store.Now()
	if t.Deadline != nil {
		from = *t.Deadline
	}
	return s.Store.ExtendTicket(ctx, number, s.Calendar.Deadline(from, by), reason, actor)
}

func setString[S ~string](dst *S, v S) {
	if v != "" {
		*dst = v
	}
}

func setPtr[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}
