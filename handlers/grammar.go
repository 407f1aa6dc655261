package handlers

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"yanzhen/models"
	"yanzhen/report"
)

// Command is one parsed chat message: which command of the table it names and
// its arguments. Parsing looks at the text only; names of people and
// departments are resolved later against the directory.
type Command struct {
	// Name is the canonical name of the command ("签收" for 收到 too); empty
	// when the text names no command.
	Name string
	// Text is the whole message, normalised: full-width forms folded, blanks
	// collapsed, the leading @bot mention dropped.
	Text string
	// Args is the normalised text after the command word.
	Args string
	// Code is the dispatch number of a "D12" argument; 0 when absent.
	Code uint
	// Item is the number of a "Z12" argument, an item of the rectification
	// list; 0 when absent.
	Item uint
	// Ticket is a ticket-number argument.
	Ticket string
	// Word is the trailing argument in normalised form: a department name, a
	// period, or the whole instruction of a dispatch.
	Word string
	// Body is the trailing free text as the sender wrote it, with its own
	// punctuation and line breaks: a report, a feedback, a reason.
	Body string
	// Period is the period of 排名: models.PeriodDay, PeriodWeek, PeriodMonth
	// (the default), PeriodQuarter or PeriodYear, Back periods before the
	// current one (1 for 上月).
	Period models.PeriodKind
	Back   int
	// Chart asks for the answer as a chart: 排名 本月 图.
	Chart bool
	// Export is the workbook 导出 asks for; its period is in Word.
	Export report.ExportKind
	// Malformed reports arguments that do not fit the usage line.
	Malformed bool

	spec *spec
	src  normalized // the message, for the way back to the sender's writing
	at   int        // where the arguments start in src.text
}

// Usage returns the usage line of the command, or "" when Name is empty.
func (c Command) Usage() string {
	if c.spec == nil {
		return ""
	}
	return c.spec.Usage
}

// original returns the sender's own writing of s, a text made of the
// normalised arguments by cutting words out and collapsing blanks (what is
// left of a dispatch once its targets, tickets and deadline are cut out):
// 牵头，会同 rather than 牵头,会同. Each character of s is matched, in order, to
// the next equal one of the arguments and replaced by what the sender wrote
// there. It returns s when s is not made so.
func (c Command) original(s string) string {
	var b strings.Builder
	t, i := c.src.text, c.at
	for _, r := range s {
		if r == ' ' {
			b.WriteByte(' ')
			continue
		}
		j := strings.IndexRune(t[i:], r)
		if j < 0 {
			return s
		}
		start, end := i+j, i+j+utf8.RuneLen(r)
		b.WriteString(c.src.orig[c.src.off[start]:c.src.off[end]])
		i = end
	}
	return strings.TrimSpace(b.String())
}

// Grammar parses messages against the command table. It is immutable and safe
// for concurrent use.
type Grammar struct {
	mention string         // "@" and the robot's name, folded; "" without a name
	ticket  *regexp.Regexp // a ticket number at the start of the arguments
	tickets *regexp.Regexp // ticket numbers anywhere
	specs   []*spec
	words   map[rune][]entry // command words by first rune, longest first
}

type entry struct {
	word  string
	spec  *spec
	alias bool // an everyday word for the command (收到, 完成), not its name
}

// NewGrammar returns the grammar of the command table. botName is the robot's
// display name (config wecom.bot_name); ticketPattern the regular expression of
// a ticket number (config rules.ticket_number).
func NewGrammar(botName, ticketPattern string) (*Grammar, error) {
	return newGrammar(botName, ticketPattern, commands)
}

func newGrammar(botName, ticketPattern string, specs []*spec) (*Grammar, error) {
	anywhere, err := regexp.Compile(`(?:` + ticketPattern + `)`)
	if err != nil {
		return nil, fmt.Errorf("handlers: ticket number pattern: %w", err)
	}
	g := &Grammar{
		ticket:  regexp.MustCompile(`^(?:工单号|工单|单号)?[:#]? ?(` + anywhere.String() + `)`),
		tickets: anywhere,
		specs:   specs,
		words:   map[rune][]entry{},
	}
	if botName != "" {
		g.mention = "@" + foldString(botName)
	}
	seen := map[string]string{}
	for _, sp := range specs {
		for i, w := range append([]string{sp.Name}, sp.Aliases...) {
			if prev, dup := seen[w]; dup {
				return nil, fmt.Errorf("handlers: command word %q of %s is taken by %s", w, sp.Name, prev)
			}
			seen[w] = sp.Name
			r, _ := utf8.DecodeRuneInString(w)
			g.words[r] = append(g.words[r], entry{w, sp, i > 0})
		}
	}
	for _, es := range g.words {
		sort.SliceStable(es, func(i, j int) bool { return len(es[i].word) > len(es[j].word) })
	}
	return g, nil
}

// Parse parses a message. It never fails: a text that names no command has an
// empty Name, and arguments that do not fit the usage line set Malformed.
func (g *Grammar) Parse(text string) Command {
	return g.parse(text, false)
}

// ParseGroup parses a message posted in a group chat as Parse does, after
// dropping every @-mention it starts with: there WeCom puts the mention of
// the robot or AI bot that received it, under that bot's own name, which
// config wecom.bot_name may not know (one installation has several bots).
func (g *Grammar) ParseGroup(text string) Command {
	return g.parse(text, true)
}

func (g *Grammar) parse(text string, group bool) Command {
	n := normalize(text, g.mention, group)
	c := Command{Text: n.text}
	sp, end := g.lookup(n.text)
	if sp == nil {
		return c
	}
	c.Name, c.spec = sp.Name, sp
	i := skipSeps(n.text, end)
	c.Args, c.src, c.at = n.text[i:], n, i
	c.Malformed = !sp.args.parse(g, n, i, &c)
	return c
}

// lookup finds the longest command word at the start of text. A word written
// in ASCII letters must not run into further letters (help, not helpful). An
// alias is an everyday word, so it names its command only when it stands
// apart: at the end, before a separator, a dispatch code or a ticket number.
// 「完成了吗」 and 「收到了」 are talk, not 办结 and 签收.
func (g *Grammar) lookup(text string) (*spec, int) {
	r, _ := utf8.DecodeRuneInString(text)
	if 'A' <= r && r <= 'Z' {
		r += 'a' - 'A'
	}
	for _, e := range g.words[r] {
		n := len(e.word)
		if len(text) < n || !equalFoldASCII(text[:n], e.word) {
			continue
		}
		if n < len(text) && isWordByte(text[n-1]) && isWordByte(text[n]) {
			continue
		}
		if e.alias && !g.standsApart(text, n) {
			continue
		}
		return e.spec, n
	}
	return nil, 0
}

// standsApart reports whether a word that ends at text[n] is followed by
// nothing, a separator or punctuation, an @-mention, a dispatch code or a
// ticket number.
func (g *Grammar) standsApart(text string, n int) bool {
	if n == len(text) {
		return true
	}
	if r, _ := utf8.DecodeRuneInString(text[n:]); isSep(r) || unicode.IsPunct(r) || r == '@' {
		return true
	}
	if _, _, ok := dispatchCode(text, n); ok {
		return true
	}
	if _, _, ok := itemCode(text, n); ok {
		return true
	}
	return g.ticket.MatchString(text[n:])
}

// equalFoldASCII compares s and t ignoring the case of ASCII letters.
func equalFoldASCII(s, t string) bool {
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// need says whether an argument may, must or must not be given.
type need uint8

const (
	none need = iota
	optional
	required
)

// tail is what follows the leading arguments.
type tail uint8

const (
	tailIgnored tail = iota // anything after the leading arguments is ignored
	tailWord                // normalised text: Word
	tailBody                // the sender's own writing: Body
	tailPeriod              // 今日, 本周, 本月, 上月, 本季度 or 本年度, then 图 or not: Period, Back, Chart
	tailExport              // a workbook (台账), then its period as typed: Export, Word
)

// shape is the argument pattern of a command: an optional or required dispatch
// code, ticket number or item code (one of those it takes, for 查 and 核查),
// then the tail.
type shape struct {
	code, ticket, item need
	either             bool // one of the subjects the shape takes is required
	tail               tail
	tailNeed           need
}

// parse reads the arguments of c from n.text[i:] and reports whether they fit.
func (s shape) parse(g *Grammar, n normalized, i int, c *Command) bool {
	t := n.text
	if s.ticket != none {
		if m := g.ticket.FindStringSubmatchIndex(t[i:]); m != nil && (i+m[1] == len(t) || !isWordByte(t[i+m[1]])) {
			c.Ticket = t[i+m[2] : i+m[3]]
			i = skipSeps(t, i+m[1])
		}
	}
	if s.code != none && c.Ticket == "" {
		if id, j, ok := dispatchCode(t, i); ok {
			c.Code = id
			i = skipSeps(t, j)
		}
	}
	if s.item != none && c.Ticket == "" && c.Code == 0 {
		if id, j, ok := itemCode(t, i); ok {
			c.Item = id
			i = skipSeps(t, j)
		}
	}
	named := c.Code != 0 || c.Ticket != "" || c.Item != 0
	switch {
	case s.code == required && c.Code == 0, s.ticket == required && c.Ticket == "", s.item == required && c.Item == 0:
		return false
	case s.either && !named:
		return false
	case s.tailNeed == required && i == len(t):
		return false
	}
	switch s.tail {
	case tailWord:
		c.Word = t[i:]
	case tailBody:
		c.Body = n.original(i)
		// 「办结了吗？」 asks; it reports nothing. A step about no named
		// subject whose text is a question is not taken.
		if !named && (s.code != none || s.ticket != none || s.item != none) && isQuestion(c.Body) {
			return false
		}
	case tailPeriod:
		rest := t[i:]
		for _, suffix := range []string{"图表", "图"} {
			if cut, ok := strings.CutSuffix(rest, suffix); ok {
				rest, c.Chart = strings.TrimSpace(cut), true
				break
			}
		}
		p, ok := periods[rest]
		c.Period, c.Back = p.kind, p.back
		return ok
	case tailExport:
		return parseExport(t[i:], c)
	}
	return true
}

// isQuestion reports whether text is a question: it ends with a question
// mark, or with 吗 or 么.
func isQuestion(text string) bool {
	text = strings.TrimRightFunc(text, unicode.IsSpace)
	for _, end := range []string{"?", "？", "吗", "么"} {
		if strings.HasSuffix(text, end) {
			return true
		}
	}
	return false
}

// parseExport reads the workbook a 导出 names at the start of rest, written
// apart from its period or not (导出台账本月), and leaves the period in Word.
func parseExport(rest string, c *Command) bool {
	word, period, _ := strings.Cut(rest, " ")
	kind, ok := report.ExportKindOf(word)
	if !ok {
		for _, w := range report.ExportWords() {
			if after, found := strings.CutPrefix(rest, w); found {
				kind, ok = report.ExportKindOf(w)
				period = after
				break
			}
		}
	}
	c.Export, c.Word = kind, strings.TrimSpace(period)
	return ok
}

// periodWord is a period as a word names it: its kind, and how many
// periods before the current one.
type periodWord struct {
	kind models.PeriodKind
	back int
}

// periods are the words of 排名 (and of 导出); none means the month to date,
// the ranking of the daily report.
var periods = map[string]periodWord{
	"": {models.PeriodMonth, 0}, "今日": {models.PeriodDay, 0}, "今天": {models.PeriodDay, 0}, "当日": {models.PeriodDay, 0}, "日": {models.PeriodDay, 0},
	"本周": {models.PeriodWeek, 0}, "这周": {models.PeriodWeek, 0}, "周": {models.PeriodWeek, 0}, "上周": {models.PeriodWeek, 1},
	"本月": {models.PeriodMonth, 0}, "这个月": {models.PeriodMonth, 0}, "当月": {models.PeriodMonth, 0}, "月": {models.PeriodMonth, 0},
	"上月": {models.PeriodMonth, 1}, "上个月": {models.PeriodMonth, 1},
	"本季度": {models.PeriodQuarter, 0}, "这季度": {models.PeriodQuarter, 0}, "季度": {models.PeriodQuarter, 0}, "上季度": {models.PeriodQuarter, 1},
	"本年度": {models.PeriodYear, 0}, "本年": {models.PeriodYear, 0}, "今年": {models.PeriodYear, 0}, "年度": {models.PeriodYear, 0},
	"上年度": {models.PeriodYear, 1}, "去年": {models.PeriodYear, 1},
}

// dispatchCode reads "D12" (or d12) at t[i:]: the dispatch ID and the index after it.
func dispatchCode(t string, i int) (uint, int, bool) { return letterCode(t, i, 'D') }

// itemCode reads "Z12" (or z12) at t[i:]: the ID of an item of the
// rectification list and the index after it.
func itemCode(t string, i int) (uint, int, bool) { return letterCode(t, i, 'Z') }

// letterCode reads an upper-case letter (or its lower case) and a positive
// number at t[i:], standing apart from further letters and digits: the
// number and the index after it.
func letterCode(t string, i int, letter byte) (uint, int, bool) {
	if i >= len(t) || (t[i] != letter && t[i] != letter+'a'-'A') {
		return 0, 0, false
	}
	j := i + 1
	for j < len(t) && t[j] >= '0' && t[j] <= '9' {
		j++
	}
	if j == i+1 || (j < len(t) && isWordByte(t[j])) {
		return 0, 0, false
	}
	id, err := strconv.ParseUint(t[i+1:j], 10, 32)
	if err != nil || id == 0 {
		return 0, 0, false
	}
	return uint(id), j, true
}
