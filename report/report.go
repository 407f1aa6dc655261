// Package report builds and renders what the bot says on its own: the 17:30
// reminder, the 18:00 daily report and its late addenda (补报), the overdue
// digests, the nightly digest to the leaders, and the weekly and monthly
// rankings (红黑榜).
//
// Builders read the store and return plain values; Messages methods are pure
// functions of those values that say what to tell whom as msg.Message
// values, which package bot renders for WeCom (tests pin the rendering with
// golden files). The package imports models, msg, calendar and config only:
// handlers (预览日报, 补报) and jobs both call it.
package report

import (
	"context"
	"strconv"
	"sync"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// listCap is how many items a digest lists per heading before "等N件".
const listCap = 10

// Builder builds reports from the store under the configured rules. It is
// safe for concurrent use.
type Builder struct {
	store *models.Store
	cfg   config.Domain
	cal   *calendar.Calendar
	loc   *time.Location
	// group is the work group whose reports it builds (For); "" is the default group.
	group string
	// dir, when set (Batch), keeps the directory and groups its builders share.
	dir *dirMemo
}

// New returns a Builder on store with the district's config and calendar.
func New(store *models.Store, cfg config.Domain, cal *calendar.Calendar) *Builder {
	return &Builder{store: store, cfg: cfg, cal: cal, loc: cfg.Location()}
}

// Batch returns a copy of b whose builders (For) read the directory and the
// work groups once, at their first use, and share them: for a batch of
// reports made at one time, such as the 18:00 reports of a city's 400
// groups, which then read one directory of 6,000 units instead of 400. A
// change to the org shows in the next batch.
func (b *Builder) Batch() *Builder {
	c := *b
	c.dir = &dirMemo{}
	return &c
}

// dirMemo is the directory and the work groups of a batch, read at their
// first use.
type dirMemo struct {
	mu     sync.Mutex
	dir    *models.Directory
	groups []models.Group
}

// org returns the store's directory and work groups: the batch's, when b
// is of one. Callers only read them.
func (b *Builder) org(ctx context.Context) (*models.Directory, []models.Group, error) {
	if b.dir != nil {
		b.dir.mu.Lock()
		defer b.dir.mu.Unlock()
		if b.dir.dir != nil {
			return b.dir.dir, b.dir.groups, nil
		}
	}
	dir, err := b.store.Directory(ctx)
	if err != nil {
		return nil, nil, err
	}
	groups, err := b.store.Groups(ctx)
	if err != nil {
		return nil, nil, err
	}
	if b.dir != nil {
		b.dir.dir, b.dir.groups = dir, groups
	}
	return dir, groups, nil
}

// Weights returns the 三率 weights of the configured scores, as the store's
// score board takes them; the reports and the chat ranking both use it.
func Weights(s config.Scores) models.Weights {
	return models.Weights{Response: s.Response, Resolution: s.Resolution, Satisfaction: s.Satisfaction, BasicSatisfied: s.BasicSatisfied}
}

// DayKey returns the "2006-01-02" key of t's date in loc, as DailyReport.Day.
func DayKey(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }

var weekdays = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// dateCN renders "2026年11月20日".
func dateCN(t time.Time) string { return t.Format("2006年1月2日") }

// monthDayCN renders "11月20日".
func monthDayCN(t time.Time) string { return t.Format("1月2日") }

// whenCN renders "11月20日18:00".
func whenCN(t time.Time) string { return t.Format("1月2日15:04") }

// mentions returns the @-mentions of members, a space apart, and their userids.
func mentions(ms []*models.Member) ([]msg.Span, []string) {
	var spans []msg.Span
	ids := make([]string, 0, len(ms))
	for i, m := range ms {
		if i > 0 {
			spans = append(spans, msg.Text(" "))
		}
		spans = append(spans, msg.At(m.UserID, m.Name))
		ids = append(ids, m.UserID)
	}
	return spans, ids
}

// listTitleRunes is how many characters of a title or an instruction a list
// line shows, the mark of a cut included.
const listTitleRunes = 24

// listTitle puts a ticket's title or a dispatch's instruction on one line of
// a list: on one line, at most listTitleRunes characters.
func listTitle(text string) string {
	return models.ClipRunes(models.OneLine(text), listTitleRunes)
}

// itoa is strconv.Itoa, short.
func itoa(n int) string { return strconv.Itoa(n) }

// pct renders a rate with one decimal, "95.0", or "—" when rates are empty.
func pct(r models.Rates, v float64) string {
	if r.Empty() {
		return models.NoFigure
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// capped returns at most listCap lines of items, then "……等N件" for the rest.
func capped[T any](items []T, line func(T) msg.Line, unit string) []msg.Line {
	var out []msg.Line
	for i, it := range items {
		if i == listCap {
			out = append(out, msg.L(msg.Text("……等"+itoa(len(items))+unit)))
			break
		}
		out = append(out, line(it))
	}
	return out
}

// text is a body line of plain text.
func text(s string) msg.Line { return msg.L(msg.Text(s)) }

// count is a count that is bad when positive, in the warning style.
func count(n int) msg.Span {
	if n > 0 {
		return msg.Bad(itoa(n))
	}
	return msg.Text(itoa(n))
}

// toGroup returns a message to a work group with a title, sections and dedupe key.
func toGroup(group, title, key string, sections ...msg.Section) msg.Message {
	return msg.Message{To: msg.ToGroup(group), Title: title, Sections: sections, DedupeKey: key}
}

// toMembers returns a message to members with a title, sections and dedupe
// key, or nil when there is nobody to send to.
func toMembers(ids []string, title, key string, sections ...msg.Section) []msg.Message {
	if len(ids) == 0 {
		return nil
	}
	return []msg.Message{{To: msg.ToMembers(ids...), Title: title, Sections: sections, DedupeKey: key}}
}
