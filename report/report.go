// Package report builds and renders what the bot says on its own: the 17:30
// reminder, the 18:00 daily report and its late addenda (补报), the overdue
// digests, the nightly digest to the leaders, and the weekly and monthly
// rankings (红黑榜).
//
// Builders read the store and return plain values; renderers are pure
// functions of those values, so tests pin them with golden files. Group
// messages are robot markdown (at most 4096 bytes each) and @-mention with
// <@userid>; app messages are markdown or text of at most 2048 bytes. The
// package imports models, calendar and config only: handlers (预览日报, 补报)
// and jobs both call it.
package report

import (
	"strconv"
	"strings"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
)

// Byte limits of the messages reports produce.
const (
	// GroupLimit is the most bytes of a group robot markdown message.
	GroupLimit = 4096
	// AppLimit is the most bytes of an app message (text or markdown).
	AppLimit = 2048
)

// listCap is how many items a digest lists per heading before "等N件".
const listCap = 10

// Builder builds reports from the store under the configured rules. It is
// safe for concurrent use.
type Builder struct {
	store *models.Store
	cfg   *config.Config
	cal   *calendar.Calendar
	loc   *time.Location
}

// New returns a Builder on store with the district's config and calendar.
func New(store *models.Store, cfg *config.Config, cal *calendar.Calendar) *Builder {
	return &Builder{store: store, cfg: cfg, cal: cal, loc: cfg.Location()}
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

// Markdown colours of WeCom.
func warning(s string) string { return `<font color="warning">` + s + `</font>` }
func info(s string) string    { return `<font color="info">` + s + `</font>` }
func comment(s string) string { return `<font color="comment">` + s + `</font>` }

// mention renders a markdown @-mention of a WeCom userid.
func mention(userid string) string { return "<@" + userid + ">" }

// mentions renders the @-mentions of members, space-separated, and their userids.
func mentions(ms []*models.Member) (string, []string) {
	var b strings.Builder
	ids := make([]string, 0, len(ms))
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(mention(m.UserID))
		ids = append(ids, m.UserID)
	}
	return b.String(), ids
}

// plain neutralises text people typed before it goes into markdown: angle
// brackets could open a <font> tag or an <@all> mention.
func plain(s string) string {
	return strings.NewReplacer("<", "＜", ">", "＞", "\r", "").Replace(s)
}

// quote renders text as a markdown quote, line by line, dropping blank lines.
func quote(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(plain(text), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("> ")
		b.WriteString(line)
	}
	return b.String()
}

// oneLine squeezes text onto one line of at most n characters, with "…" when cut.
func oneLine(text string, n int) string {
	s := strings.Join(strings.Fields(plain(text)), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
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

// capped renders at most listCap lines of items, then "……等N件" for the rest.
func capped[T any](items []T, line func(T) string, unit string) string {
	var b strings.Builder
	for i, it := range items {
		if i == listCap {
			b.WriteString("\n……等" + itoa(len(items)) + unit)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line(it))
	}
	return b.String()
}

// pack joins sections into as few messages of at most limit bytes as fit, in
// order, a blank line apart. A section is never split unless it alone is too
// long; then it is cut at line boundaries. When there are several messages,
// each after the first starts with the line cont(i, n) (i from 2).
func pack(sections []string, limit int, cont func(i, n int) string) []string {
	room := limit - len(cont(99, 99)) - 1
	var msgs []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			msgs = append(msgs, cur.String())
			cur.Reset()
		}
	}
	for _, s := range sections {
		if s == "" {
			continue
		}
		if cur.Len() > 0 && cur.Len()+2+len(s) <= room {
			cur.WriteString("\n\n")
			cur.WriteString(s)
			continue
		}
		flush()
		if len(s) <= room {
			cur.WriteString(s)
			continue
		}
		parts := models.SplitBody(s, room)
		msgs = append(msgs, parts[:len(parts)-1]...)
		cur.WriteString(parts[len(parts)-1])
	}
	flush()
	for i := 1; i < len(msgs); i++ {
		msgs[i] = cont(i+1, len(msgs)) + "\n" + msgs[i]
	}
	return msgs
}

// continued returns the continuation line of a multi-message report titled title.
func continued(title string) func(i, n int) string {
	return func(i, n int) string { return "**" + title + "（续" + itoa(i) + "/" + itoa(n) + "）**" }
}

// messages returns one copy of template per rendered body, with dedupe keys
// key, key/2, key/3 ….
func messages(template models.Outgoing, bodies []string, key string) []models.Outgoing {
	out := make([]models.Outgoing, len(bodies))
	for i, body := range bodies {
		out[i] = template
		out[i].Body, out[i].DedupeKey = body, key
		if i > 0 {
			out[i].DedupeKey = key + "/" + itoa(i+1)
		}
	}
	return out
}

// groupMessages turns rendered bodies into robot markdown messages with dedupe
// keys key, key/2, key/3 ….
func groupMessages(bodies []string, key string) []models.Outgoing {
	return messages(models.Outgoing{Channel: models.ChannelRobot, Kind: models.KindMarkdown}, bodies, key)
}

// appMessages turns rendered bodies into app messages of kind to members with
// dedupe keys key, key/2, key/3 …. It returns nil when there is nobody to send to.
func appMessages(to []string, kind string, bodies []string, key string) []models.Outgoing {
	if len(to) == 0 {
		return nil
	}
	return messages(models.Outgoing{Channel: models.ChannelApp, To: strings.Join(to, "|"), Kind: kind}, bodies, key)
}
