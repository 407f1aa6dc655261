// Package handlers answers what people type to the bot: daily reports,
// point-to-point dispatch and 督办, a unit's steps on its tickets (签收, 反馈,
// 办结), ticket queries and the approval chains of 退办 and 延期. The
// grammar is one table (commands.go); parsing is a pure function (Grammar.Parse);
// Handler resolves the sender, checks the command is theirs to use, acts on the
// store and puts every reply and notification in the outbox in the same
// transaction as the change it reports. It never calls WeCom.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"yanzhen/config"
	"yanzhen/handlers/timephrase"
	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// Enqueuer puts messages in the outbox on st (the store, or a transaction of
// it, with which they commit) and returns how many were new; bot.Outbox is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, st *models.Store, msgs ...msg.Message) (int, error)
}

// Calendar is the working-day calendar: it reads deadline phrases and counts
// overdue working days. *calendar.Calendar is one.
type Calendar interface {
	timephrase.Workdays
	report.Workdays
	config.WorkdayAdder
}

// Options are what a Handler needs. Store, Outbox, Config (with its zone),
// Calendar and Reached are required.
type Options struct {
	Store  *models.Store
	Outbox Enqueuer
	Config config.Domain
	// Calendar tells working days from days off (*calendar.Calendar).
	Calendar Calendar
	// Reports renders the daily report for 预览日报 and 补报; nil turns both off.
	Reports Reports
	// Reached returns the index of the highest step of the escalation ladder
	// (rules.escalation) whose time has come at now for a deadline, -1 when
	// none has: jobs.Reached on the configured ladder and calendar. An
	// approved 延期 clears the ticket's alerts of the steps after it.
	Reached func(deadline, now time.Time) int
	// Charts draws the charts and workbooks of 排名 … 图, 趋势 and 导出; nil
	// turns them off.
	Charts Charts
	// Tickets imports the ticket exports the 12345 office sends as files,
	// which Files fetches; either nil turns the file import off.
	Tickets Importer
	Files   Attachments
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Handler handles inbound chat messages. It is safe for concurrent use.
type Handler struct {
	// Now is the clock every command reads once per message; tests pin it.
	Now func() time.Time

	store   *models.Store
	out     Enqueuer
	cfg     config.Domain
	cal     Calendar
	grammar *Grammar
	phrases timephrase.Parser
	reports Reports
	reached func(deadline, now time.Time) int
	charts  Charts
	tickets Importer
	files   Attachments
}

// New returns a Handler, or an error when the options are incomplete or the
// configured ticket-number pattern does not compile.
func New(o Options) (*Handler, error) {
	if o.Store == nil || o.Outbox == nil || o.Config.Location() == nil || o.Calendar == nil || o.Reached == nil {
		return nil, errors.New("handlers: Store, Outbox, Config, Calendar and Reached are required")
	}
	g, err := NewGrammar(o.Config.BotName, o.Config.Rules.TicketNumber)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	off := o.Config.Rules.OffWork
	return &Handler{
		Now:     o.Now,
		store:   o.Store,
		out:     o.Outbox,
		cfg:     o.Config,
		cal:     o.Calendar,
		grammar: g,
		phrases: timephrase.Parser{
			Loc:     o.Config.Location(),
			Cal:     o.Calendar,
			OffWork: time.Duration(off.Hour)*time.Hour + time.Duration(off.Minute)*time.Minute,
		},
		reports: o.Reports,
		reached: o.Reached,
		charts:  o.Charts,
		tickets: o.Tickets,
		files:   o.Files,
	}, nil
}

// request is one message being handled: the parsed command, the sender, and
// what will be sent when the transaction commits.
type request struct {
	ctx context.Context
	in  *models.Inbound
	cmd Command
	now time.Time
	tx  *models.Store
	me  *models.Member
	dir *models.Directory

	replies []string
	notes   []msg.Message

	// Where it was said (scope.go): the work group (nil in a single chat of
	// an installation with groups), the scope the command acts within, and
	// the group its posts go to.
	groups *models.GroupSet
	group  *models.Group
	scope  models.Scope
	post   string
}

// Handle answers one inbound message the way it came. The command's
// changes, its reply and its notifications commit together; a refused or
// malformed command changes nothing and gets a reply saying why. Handle
// returns an error only for a failure of the system (the database), so that
// the caller tries again; from the second attempt on the sender is told, once,
// that the system is busy. A message handled again sends nothing twice and
// issues no second dispatch.
//
// A message that carries a file (a ticket export the 12345 office sends) is
// imported (see importFile) when the file import is on.
func (h *Handler) Handle(ctx context.Context, in *models.Inbound) error {
	if in.Attachment != "" && h.tickets != nil && h.files != nil && (len(in.Media) == 0 || h.mayImport(ctx, in)) {
		return h.settle(ctx, in, importSpec.Name, h.importFile(ctx, in))
	}
	if in.MsgType == models.MsgTypeTap {
		return h.tap(ctx, in)
	}
	if strings.HasPrefix(in.MsgType, "event/") {
		return nil // events (menu clicks, card taps) carry no command: stored, not answered
	}
	if in.MsgType != "" && in.MsgType != "text" && strings.TrimSpace(in.Text) == "" {
		if len(in.Media) > 0 {
			return h.attach(ctx, in) // a photo after a 反馈 (evidence.go)
		}
		return nil // bare media of no use carry no command
	}
	parse := h.grammar.Parse
	if in.InGroup() {
		parse = h.grammar.ParseGroup
	}
	r := &request{ctx: ctx, in: in, cmd: parse(in.Text), now: h.Now().In(h.cfg.Location())}
	err := h.store.Tx(ctx, func(tx *models.Store) error {
		r.tx, r.replies, r.notes = tx, nil, nil
		if err := h.prepare(r); err != nil {
			return err
		}
		if err := r.cmd.spec.run(h, r); err != nil {
			return err
		}
		if err := markHandled(ctx, tx, in, r.now); err != nil {
			return err
		}
		_, err := h.out.Enqueue(ctx, tx, r.outgoing()...)
		return err
	})
	if errors.Is(err, errChatter) {
		return nil
	}
	return h.settle(ctx, in, r.cmd.Name, err)
}

// settle ends the handling of a message by the command name with err: nil
// is done; a refusal is answered with its words; a failure of the system
// is returned to be tried again, and from the second attempt on the sender
// is told, once, that the system is busy.
func (h *Handler) settle(ctx context.Context, in *models.Inbound, name string, err error) error {
	if err == nil {
		return nil
	}
	internal := models.ErrorCode(err) == models.EINTERNAL
	if internal && in.Attempts < busyAfter {
		return fmt.Errorf("handlers: %s: %w", name, err)
	}
	reply := msg.Plain(msg.ReplyTo(in), models.UserText(err))
	reply.Priority, reply.DedupeKey = msg.Reply, dedupeKey(in, "error")
	if _, qerr := h.out.Enqueue(ctx, h.store, reply); qerr != nil {
		return fmt.Errorf("handlers: %s: %w (and the reply: %w)", name, err, qerr)
	}
	if internal {
		return fmt.Errorf("handlers: %s: %w", name, err)
	}
	return nil
}

// busyAfter is the attempt from which a failure of the system is told to the
// sender (once): the first is retried silently, since a sender told to try
// again would send a second dispatch while the first is retried.
const busyAfter = 2

// prepare resolves the sender and checks the command is well formed and theirs to use.
func (h *Handler) prepare(r *request) error {
	me, err := r.tx.MemberByUserID(r.ctx, r.in.FromUserID)
	if err != nil {
		return err
	}
	r.me = me
	switch {
	case r.cmd.Name == "" && r.cmd.Text == "":
		return models.Errorf(models.EINVALID, "请发送“帮助”查看可用命令")
	case r.cmd.Name == "":
		return h.unrecognised(r)
	case r.cmd.Malformed:
		return models.Errorf(models.EINVALID, "用法：%s", r.cmd.Usage())
	case !r.cmd.spec.allows(me):
		return r.cmd.spec.refusal()
	}
	if r.dir, err = r.tx.Directory(r.ctx); err != nil {
		return err
	}
	return h.place(r)
}

// errChatter is a group message that names no command and does not look
// like one: it is left unanswered (see chatter.go).
var errChatter = errors.New("handlers: chatter")

// unrecognised answers a message that names no command: with the usage of
// the command it seems to mean, or, in a group, not at all when it does not
// look like a command.
func (h *Handler) unrecognised(r *request) error {
	sp, ok := h.grammar.looksLikeCommand(r.cmd.Text)
	if !ok && r.in.InGroup() {
		return errChatter
	}
	text := "未能识别“" + models.ClipRunes(firstWord(r.cmd.Text), 13) + "”。"
	if ok {
		text += "您是否要用：" + sp.Usage + "？"
	}
	return models.Errorf(models.EINVALID, "%s发送“帮助”查看可用命令", text)
}

// reply adds a paragraph to the one reply the sender gets.
func (r *request) reply(body string) { r.replies = append(r.replies, body) }

// replyWith replies with m instead of the text reply (the message is sent
// as a reply, whatever m says of its audience).
func (r *request) replyWith(m msg.Message) {
	m.To, m.Priority = msg.ReplyTo(r.in), msg.Reply
	r.notes = append(r.notes, m)
}

// notify sends an app message to members, once each, leaving out the sender,
// who reads the reply instead.
func (r *request) notify(body string, to ...*models.Member) {
	ids := userIDs(to, r.me.UserID)
	if len(ids) == 0 {
		return
	}
	r.notes = append(r.notes, msg.Plain(msg.ToMembers(ids...), body))
}

// announce posts a message to the work group where the command was said
// (from a single chat, the district's own group), @-mentioning members.
func (r *request) announce(body string, mention []*models.Member) {
	m := msg.Plain(msg.ToGroup(r.post), body)
	m.Mentions = userIDs(mention, "")
	r.notes = append(r.notes, m)
}

// outgoing returns the reply and the notifications, keyed by the inbound
// message so that a message handled twice sends nothing twice.
func (r *request) outgoing() []msg.Message {
	var out []msg.Message
	if len(r.replies) > 0 {
		reply := msg.Plain(msg.ReplyTo(r.in), strings.Join(r.replies, "\n"))
		reply.Priority = msg.Reply
		out = append(out, reply)
	}
	out = append(out, r.notes...)
	for i := range out {
		out[i].DedupeKey = dedupeKey(r.in, fmt.Sprint(i))
	}
	return out
}

// markHandled marks in handled in the transaction of its effects, so that a
// process dying before the bot's own mark is written never handles it again:
// the step is taken once, and a second run, which would find it taken, sends
// no refusal the first reply's key does not cover. A message not stored (ID
// 0) has nothing to mark.
func markHandled(ctx context.Context, tx *models.Store, in *models.Inbound, at time.Time) error {
	if in.ID == 0 {
		return nil
	}
	return tx.MarkInboundHandled(ctx, []uint{in.ID}, at)
}

// dedupeKey keys the n-th message sent for an inbound message; "" (no
// deduplication) when the message has no MsgID.
func dedupeKey(in *models.Inbound, n string) string {
	if in.MsgID == "" {
		return ""
	}
	return "in:" + string(in.Route) + ":" + in.MsgID + ":" + n
}

// source names the inbound message that created a record, for idempotence.
func source(in *models.Inbound) *string {
	if in.MsgID == "" {
		return nil
	}
	s := string(in.Route) + ":" + in.MsgID
	return &s
}

// userIDs returns the userids of members, without duplicates, blanks and skip.
func userIDs(ms []*models.Member, skip string) []string {
	var out []string
	seen := map[string]bool{skip: true, "": true}
	for _, m := range ms {
		if m != nil && !seen[m.UserID] {
			seen[m.UserID] = true
			out = append(out, m.UserID)
		}
	}
	return out
}

// firstWord returns s up to its first blank.
func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}
