// Package tickets keeps the ticket ledger: it imports the xlsx and csv exports
// of 12345 hotline platforms and the JSON they push, normalises their words
// (statuses, sources, satisfaction), matches departments by name or alias,
// applies the time-limit rules on the working-day calendar, and upserts by
// ticket number with an event for every change. It also writes realistic
// synthetic exports (Generate) for benchmarks and the demo.
//
// The files follow the import's steps: import.go reads files and JSON into
// records, parse.go turns a record into an input, pipeline.go batches inputs
// and writes them, apply.go merges an input onto the stored ticket with the
// deadline rules, summary.go counts the outcome.
package tickets

import (
	"context"
	"fmt"
	"time"

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

// Service imports tickets into the store and moves their deadlines.
type Service struct {
	Store    *models.Store
	Calendar *calendar.Calendar
	// Rules give the time limits per category and the off-work time a
	// deadline written as a date alone means.
	Rules config.Rules
	// District is the district's name (district.name): a unit written with
	// it or 区 in front (高新区教育局, 区教育局) is the unit without it.
	District string
	// Limits bound the files ImportFile reads (size, rows, cells, columns);
	// sheet's defaults where zero.
	Limits sheet.Limits
	// BatchSize is the number of rows written per transaction; DefaultBatchSize when 0.
	BatchSize int
	// MaxErrors is how many row errors a Summary keeps (all are counted);
	// DefaultMaxErrors when 0.
	MaxErrors int
	// Outbox, when set, tells a member whose 办结 claimed in chat an import
	// withdrew (see settleClaim), in the transaction of the batch.
	Outbox Enqueuer
}

// MaxFileBytes is the largest file ImportFile takes (Limits, or sheet's default).
func (s *Service) MaxFileBytes() int64 { return s.Limits.OrDefaults().FileBytes }

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
