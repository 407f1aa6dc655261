// Package msg is the neutral vocabulary of what the bot says. Handlers and
// jobs build a Message — who it is for, and what it says as sections of lines
// of styled spans, with people named by userid — and never WeCom markup.
// Package bot alone renders a Message for the channel it goes through (robot
// markdown or text, app text or markdown, an AI-bot reply), escapes every piece
// of text, applies the channel's byte limits and decides how a reply travels.
//
// Span text is always literal: nothing a Message carries is read as markup,
// whoever wrote it, so a ticket's title or a member's report can never become a
// mention, a colour or a link.
package msg

import (
	"strings"

	"yanzhen/models"
)

// Style sets a span apart from the text around it.
type Style uint8

// Styles. Good and Bad mark figures and lists that read as good (红榜) or bad
// (超期, 未报, 黑榜); Muted marks notes and explanations.
const (
	StylePlain Style = iota
	StyleStrong
	StyleGood
	StyleBad
	StyleMuted
)

// Span is a run of literal text in one style, or a mention of a member.
type Span struct {
	Text  string
	Style Style
	// UserID, when set, makes the span an @-mention of that member; Text is
	// then the name shown where a channel cannot mention.
	UserID string
}

// LineKind says what a line is.
type LineKind uint8

// Line kinds: a body line, a heading (the title of a report), or a
// quotation of what a person wrote.
const (
	Body LineKind = iota
	Heading
	Quotation
)

// Line is one line of a message. An empty line is a blank line.
type Line struct {
	Kind  LineKind
	Spans []Span
}

// Section is a block of lines that stays together: a long message is split
// between sections, and inside a section only when the section alone is too long.
type Section struct {
	Lines []Line
}

// Priority orders what waits for a channel's rate budget: a reply to a person
// goes before the daily report, which goes before notices, which go before
// digests. Higher is more urgent; the zero value is Notice.
type Priority int8

// Priorities.
const (
	Bulk   Priority = -1
	Notice Priority = 0
	Report Priority = 1
	Reply  Priority = 2
)

// Audience says who a message is for.
type Audience struct {
	// Group, when Members and ReplyTo are empty, addresses a work group by the
	// code of its configuration ("" is the installation's default group).
	Group string
	// Members are userids, each told privately (an app message).
	Members []string
	// ReplyTo answers an inbound message the way it came: in the same chat for
	// a group message, privately for a single chat.
	ReplyTo *models.Inbound
	// Tapped, set by UpdateCard, replaces the card a tap came from (an
	// inbound tap, models.MsgTypeTap) for everyone it was sent to.
	Tapped *models.Inbound
}

// ToGroup addresses a work group by its code; "" is the default group.
func ToGroup(code string) Audience { return Audience{Group: code} }

// ToMembers addresses members by userid, each privately.
func ToMembers(userids ...string) Audience { return Audience{Members: userids} }

// ReplyTo addresses the answer to an inbound message.
func ReplyTo(in *models.Inbound) Audience { return Audience{ReplyTo: in} }

// Message is one thing to say to one audience.
type Message struct {
	To Audience
	// Title names the message. When a long message is cut into parts, every
	// part after the first starts with the title and the part's number. The
	// title is not printed on the first part: begin the message with a
	// Heading line, or with the title in Strong, where it should show.
	Title string
	// Sections follow one another, a blank line apart.
	Sections []Section
	// Attachments follow the text, each as a message of its own, in order.
	Attachments []Attachment
	// Card, when set, makes a message to members a card (see Card); other
	// channels show its text.
	Card *Card
	// Mentions are userids @-mentioned besides those mentioned inline.
	Mentions []string
	Priority Priority
	// DedupeKey, when set, sends the message once: a message whose key was
	// enqueued before is dropped, so a job run again or a callback handled
	// again never says anything twice.
	DedupeKey string
}

// Styled reports whether any span of m carries a style or a mention, or any
// line is a heading or a quotation: such a message needs a channel that
// renders them, and a plain one may go as text.
func (m *Message) Styled() bool {
	for _, s := range m.Sections {
		for _, l := range s.Lines {
			if l.Kind != Body {
				return true
			}
			for _, sp := range l.Spans {
				if sp.Style != StylePlain || sp.UserID != "" {
					return true
				}
			}
		}
	}
	return false
}

// PlainText returns the text of m without styles: sections a blank line
// apart, mentions by the name they carry. Tests and logs read it.
func (m *Message) PlainText() string {
	parts := make([]string, len(m.Sections))
	for i, s := range m.Sections {
		parts[i] = s.PlainText()
	}
	return strings.Join(parts, "\n\n")
}

// PlainText returns the lines of s without styles, a newline apart.
func (s Section) PlainText() string {
	lines := make([]string, len(s.Lines))
	for i, l := range s.Lines {
		lines[i] = l.PlainText()
	}
	return strings.Join(lines, "\n")
}

// PlainText returns the text of l's spans, a mention by the name it carries.
func (l Line) PlainText() string {
	var b strings.Builder
	for _, sp := range l.Spans {
		b.WriteString(sp.Text)
	}
	return b.String()
}
